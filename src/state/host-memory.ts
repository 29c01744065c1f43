import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { HostState, ServerFiles } from '../domain/server-state.js';
import { ensurePrivateDir, PRIVATE_FILE } from './state-files.js';

// What mmmf last saw of each host while it was alive, kept for when it is not: where a server keeps its binlogs
// is only known from the server itself (@@log_bin_basename), and a salvage needs it after the server died. One
// small JSON file per host under `<stateDir>/hosts/`, written whenever a probe sees the host. Nothing else here.

/**
 * Example: `{ name: 'db1', address: '10.0.0.1:3306', serverId: 1, seenAt: '2026-05-01T10:00:00.000Z',
 * files: { datadir: '/var/lib/mysql/', logBinBasename: '/var/lib/mysql/mysql-bin', logBinIndex: '...' } }`
 */
export interface HostMemory {
  name: string;
  /** host:port as configured when it was seen: a memory of another server under the same name is not used. */
  address: string;
  serverId?: number;
  seenAt: string;
  files: ServerFiles;
}

const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
const fileOf = (stateDir: string, name: string) => join(stateDir, 'hosts', `${name}.json`);

/**
 * Remembers every probed host that said where its files are. Best effort: a state folder that cannot be written
 * costs a later salvage its default location (binlogDir still works), never the run.
 */
export function rememberHosts(stateDir: string, states: HostState[], now = new Date()): void {
  for (const s of states) {
    if (!s.reachable || !s.files || !NAME_RE.test(s.name)) continue;
    const memory: HostMemory = {
      name: s.name,
      address: s.address,
      ...(s.serverId !== undefined ? { serverId: s.serverId } : {}),
      seenAt: now.toISOString(),
      files: s.files,
    };
    try {
      ensurePrivateDir(join(stateDir, 'hosts'));
      const file = fileOf(stateDir, s.name);
      // Written aside and renamed: a run killed while writing leaves the previous memory whole.
      writeFileSync(`${file}.tmp`, JSON.stringify(memory) + '\n', { mode: PRIVATE_FILE });
      renameSync(`${file}.tmp`, file);
    } catch {
      return;
    }
  }
}

/** What mmmf last saw of host `name` at `address`; undefined when it never saw it there. */
export function recallHost(stateDir: string, name: string, address: string): HostMemory | undefined {
  if (!NAME_RE.test(name)) return undefined;
  try {
    const m = JSON.parse(readFileSync(fileOf(stateDir, name), 'utf8')) as Partial<HostMemory>;
    if (m.name !== name || m.address !== address || typeof m.files?.datadir !== 'string') return undefined;
    return m as HostMemory;
  } catch {
    return undefined;
  }
}

import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ResolvedConfig } from '../topology/config-types.js';
import { clusterId } from './run-lock.js';
import { ensurePrivateDir, PRIVATE_FILE } from '../state/state-files.js';

/**
 * Hosts an operator took out of reader roles (`mmmf offline NAME`, MMM's set_offline) until `mmmf online
 * NAME`: kept in the state folder, so every later run (failover, switchover, roles) respects them.
 */
const fileFor = (config: ResolvedConfig) => join(config.stateDir, `${clusterId(config)}.offline.json`);

export function readOffline(config: ResolvedConfig): string[] {
  try {
    const names = JSON.parse(readFileSync(fileFor(config), 'utf8')) as unknown;
    return Array.isArray(names) ? names.filter((n): n is string => typeof n === 'string') : [];
  } catch {
    return [];
  }
}

export function writeOffline(config: ResolvedConfig, names: string[]): void {
  ensurePrivateDir(config.stateDir);
  const file = fileFor(config);
  // Written whole, then renamed: a run killed halfway never leaves half a file.
  writeFileSync(`${file}.tmp`, JSON.stringify([...new Set(names)].sort()) + '\n', { mode: PRIVATE_FILE });
  renameSync(`${file}.tmp`, file);
}

import { findIndexArgv, knownIndex, pickIndex } from '../binlog/binlog-file/index-location.js';
import { binlogAccessArgv } from '../binlog/binlog-file/remote-read-commands.js';
import type { SalvageFacts } from '../algorithm/salvage-preflight.js';
import { replayTools } from '../dialect/salvage-dialect.js';
import { DIE_WITH_MMMF } from '../dialect/salvage-dialect.js';
import { isProbed, type HostState } from '../domain/server-state.js';
import { runChild } from '../process/run-child.js';
import { recallHost } from '../state/host-memory.js';
import type { ResolvedConfig, ResolvedHost } from '../topology/config-types.js';
import type { runRemote as RunRemote } from '../vip/remote.js';

/**
 * `check`: for every host whose binlog a failover may salvage, whether its SSH user reaches it and may read its
 * binlog index and every file it lists (where the server says they are now, or binlogDir); and whether this
 * host has the flavor's decode and apply tools and setpriv. Undefined when no host's binlog may be salvaged.
 */
export async function probeSalvageFacts(
  config: ResolvedConfig,
  states: HostState[],
): Promise<SalvageFacts | undefined> {
  const salvage = config.salvage;
  if (!salvage?.hosts.length) return undefined;
  const { runRemote } = await import('../vip/remote.js');
  const access = new Map<string, { ok: boolean; detail: string }>();
  const connect = config.timeouts.connect;
  await Promise.all(
    config.hosts
      .filter((h) => salvage.hosts.includes(h.name))
      .map(async (h) => {
        const index = await indexOf(
          h,
          states.find((s) => s.name === h.name),
          config,
          runRemote,
        );
        if ('refusal' in index) return void access.set(h.name, { ok: false, detail: index.refusal });
        const r = await runRemote(h, binlogAccessArgv(index.index), connect);
        const detail = r.ok ? `${r.out} (${index.index})` : r.code === 3 ? r.out : sshSaid(h, r);
        access.set(h.name, { ok: r.ok, detail });
      }),
  );
  return { access, tools: await localTools(states) };
}

type Remote = typeof RunRemote;

const sshSaid = (h: ResolvedHost, r: { out: string; code: number | undefined }) =>
  `ssh ${h.ssh.user}@${h.ssh.host} failed: ${r.out || `exit ${r.code}`}`;

/** The index a salvage of this host would read: what the server says now, else what mmmf remembers, else its host. */
async function indexOf(
  h: ResolvedHost,
  s: HostState | undefined,
  config: ResolvedConfig,
  runRemote: Remote,
): Promise<{ index: string } | { refusal: string }> {
  const remembered = s?.files ?? recallHost(config.stateDir, h.name, `${h.host}:${h.port}`)?.files;
  const known = knownIndex({
    ...(h.binlogDir ? { binlogDir: h.binlogDir } : {}),
    ...(remembered ? { remembered } : {}),
  });
  if (known) return { index: known };
  if (s?.reachable && !s.logBin) return { refusal: 'it writes no binary log (log_bin OFF)' };
  const r = await runRemote(h, findIndexArgv(h.binlogDir), config.timeouts.connect);
  if (!r.ok) return { refusal: sshSaid(h, r) };
  const found = pickIndex(r.out, h.binlogDir);
  return 'refusal' in found ? found : { index: found.index };
}

/** The cluster flavor's decode and apply tools and setpriv on this host; MySQL's decoder must be MySQL's own. */
async function localTools(states: HostState[]): Promise<SalvageFacts['tools']> {
  const v = states.find(isProbed)?.version;
  if (!v) return { ok: true, detail: 'no server answered: not checked' };
  const t = replayTools(v);
  const script = 'for c in "$@"; do command -v "$c" >/dev/null || { echo "$c not found"; exit 3; }; done; echo ok';
  const r = await runChild('sh', ['-c', script, 'mmmf-tools', t.decode, t.apply, DIE_WITH_MMMF[0]!], {
    timeoutMs: 5000,
  });
  if (!r.ok) return { ok: false, detail: r.out || `exit ${r.code}` };
  if (t.flavor === 'mysql') {
    const ver = await runChild(t.decode, ['--version'], { timeoutMs: 5000 });
    if (!/mysql/i.test(ver.out.replace(/^mysqlbinlog/, ''))) {
      return { ok: false, detail: `${t.decode} here is not MySQL's (${ver.out}): it cannot read MySQL 8 binlogs` };
    }
  }
  return { ok: true, detail: `${t.decode}, ${t.apply} and ${DIE_WITH_MMMF[0]} found` };
}

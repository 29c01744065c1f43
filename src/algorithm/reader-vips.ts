import { CONFIG_DEFAULTS } from '../topology/config-defaults.js';
import type { ResolvedConfig } from '../topology/config-types.js';
import { sourceChain } from '../topology/identity.js';
import { type HostState, isReplica } from '../domain/server-state.js';

/**
 * MMM's balanced reader role: each reader VIP on exactly one replica that replicates without error and lags
 * less than the limit, spread evenly, kept where it is when that is still right (a move costs clients their
 * connections), on the writer only when no replica qualifies, never on a dead host.
 */

/** Where one reader VIP goes: `to` (absent: nowhere to put it), and the hosts it must be removed from. */
export interface ReaderMove {
  vip: string;
  to?: string;
  /** It already sits on `to`: nothing to add. */
  stays: boolean;
  remove: string[];
}

/**
 * Pure. `qualifying` in priority order (config order); `holders`: who holds each VIP now (several = wrong,
 * none = unplaced). At most ceil(VIPs / qualifying) per host; a VIP stays on a qualifying holder under that cap.
 */
export function assignReaders(
  readers: string[],
  qualifying: string[],
  holders: Map<string, string[]>,
  writer: string | undefined,
): ReaderMove[] {
  const pool = qualifying.length ? qualifying : writer ? [writer] : [];
  const cap = pool.length ? Math.ceil(readers.length / pool.length) : 0;
  const load = new Map(pool.map((h) => [h, 0]));
  const loadOf = (h: string) => load.get(h) ?? 0;
  const to = new Map<string, string>();
  const place = (vip: string, host: string) => {
    to.set(vip, host);
    load.set(host, loadOf(host) + 1);
  };
  for (const vip of readers) {
    const keep = (holders.get(vip) ?? []).find((h) => load.has(h) && loadOf(h) < cap);
    if (keep) place(vip, keep);
  }
  for (const vip of readers) {
    const [first] = pool;
    if (to.has(vip) || !first) continue;
    place(
      vip,
      pool.reduce((a, b) => (loadOf(b) < loadOf(a) ? b : a), first),
    );
  }
  return readers.map((vip) => {
    const now = holders.get(vip) ?? [];
    const target = to.get(vip);
    return {
      vip,
      ...(target ? { to: target } : {}),
      stays: !!target && now.includes(target),
      remove: now.filter((h) => h !== target),
    };
  });
}

/**
 * Which replicas may hold a reader VIP right now, and why each other configured host may not: it must answer,
 * replicate from the master (directly or through an intermediate master) with both threads running and no
 * error, lag at most `readerMaxLagSeconds`, and not be offline (mmmf offline NAME).
 */
export function readerQualification(
  config: ResolvedConfig,
  states: HostState[],
  master: string | undefined,
  offline: Set<string>,
): { qualifying: string[]; why: Map<string, string> } {
  const maxLag = config.vip?.readerMaxLagSeconds ?? CONFIG_DEFAULTS['vip.readerMaxLagSeconds'];
  const why = new Map<string, string>();
  const qualifying: string[] = [];
  for (const s of states) {
    if (s.name === master) {
      why.set(s.name, 'the writer (holds reader VIPs only when no replica qualifies)');
      continue;
    }
    const reason = !s.reachable
      ? 'unreachable'
      : offline.has(s.name)
        ? 'offline (mmmf online to bring it back)'
        : !isReplica(s)
          ? 'not a replica'
          : !master || !sourceChain(s, states).includes(master)
            ? `does not replicate from the master ${master ?? '?'}`
            : s.replica.ioRunning !== 'Yes' || !s.replica.sqlRunning
              ? `replication not running (IO ${s.replica.ioRunning}, SQL ${s.replica.sqlRunning ? 'Yes' : 'No'})`
              : s.replica.lastIoError || s.replica.lastSqlError
                ? 'replication error'
                : s.replica.secondsBehind === null || s.replica.secondsBehind > maxLag
                  ? `lags ${s.replica.secondsBehind ?? '?'} s (limit ${maxLag} s)`
                  : undefined;
    if (reason) why.set(s.name, reason);
    else qualifying.push(s.name);
  }
  return { qualifying, why };
}

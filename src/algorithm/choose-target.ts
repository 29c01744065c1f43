import { accept, type Outcome, refuse } from '../domain/outcome.js';
import type { ResolvedConfig } from '../topology/config-types.js';
import type { HostState, ReplicaHost } from '../domain/server-state.js';
import { analyzeTopology } from './analyze-topology.js';
import { compareReceived, versionKey } from './replica-facts.js';

/** The target `--failover-to auto` chose, and why. */
export interface TargetChoice {
  name: string;
  why: string;
}

/**
 * Pure: `--failover-to auto`. Allowed: a replica taking part (reachable, no errant transactions, no filters,
 * not delayed, a usable position), listed in `candidates` when that is set, not in `neverPromote`, with
 * log_bin and log_slave_updates, and not older than another replica. Among the allowed, the one that received
 * the most; ties go to the earlier in `candidates` (else config order). The replica that received the most of
 * all stays the source the target catches up from, so nothing it received is lost.
 */
export function chooseTarget(
  config: ResolvedConfig,
  states: HostState[],
  liftDelay = false,
  published?: string,
): Outcome<TargetChoice> {
  const a = analyzeTopology(config, states, { target: '', liftDelay, published });
  const order = config.candidates.length ? config.candidates : config.hosts.map((h) => h.name);
  const newest = Math.max(0, ...a.replicas.map(versionKey));
  const notAllowed = new Map<string, string>();
  const allowed: ReplicaHost[] = [];
  for (const r of a.replicas) {
    const why = !order.includes(r.name)
      ? 'not in candidates'
      : config.neverPromote.includes(r.name)
        ? 'in neverPromote'
        : !(r.logBin && r.logReplicaUpdates)
          ? 'log_bin or log_slave_updates is OFF'
          : versionKey(r) < newest
            ? `older (${r.version.text}) than another replica`
            : undefined;
    if (why) notAllowed.set(r.name, why);
    else allowed.push(r);
  }
  const left = [
    ...[...notAllowed].map(([n, why]) => `${n}: ${why}`),
    ...a.delayed.map((r) => `${r.name}: delayed (MASTER_DELAY ${r.replica.sqlDelay} s)`),
    ...a.hosts.filter((h) => h.role === 'excluded' || h.role === 'unreachable').map((h) => `${h.name}: ${h.note}`),
  ];
  const rank = (x: ReplicaHost, y: ReplicaHost) =>
    compareReceived(y, x, a.positioning.mode) || order.indexOf(x.name) - order.indexOf(y.name);
  const [chosen] = [...allowed].sort(rank);
  if (!chosen) {
    const problems = a.refusals.filter((r) => !r.startsWith('--failover-to'));
    return refuse(['no replica may be promoted by the rules (--failover-to auto)', ...left, ...problems]);
  }
  const others = allowed.length > 1 ? `, of ${allowed.map((r) => r.name).join(', ')}` : '';
  const best = a.best;
  const ahead = best && best !== chosen && compareReceived(best, chosen, a.positioning.mode) > 0;
  const source = ahead ? `; ${best.name} received the most and is its source` : '';
  const skipped = left.length ? `; not chosen: ${left.join('; ')}` : '';
  return accept({
    name: chosen.name,
    why:
      `auto: received the most${others} (ties by ${config.candidates.length ? 'candidates' : 'config'} order)` +
      `${source}${skipped}`,
  });
}

import type { HostState } from '../../domain/server-state.js';
import type { Analysis } from '../analyze-topology.js';

/** A switchover's preflight limits. */
export interface SwitchoverLimits {
  maxLagSeconds: number;
  maxTransactionSeconds: number;
}

/**
 * A switchover needs a healthy cluster: the master alive, every replica replicating and close behind, no long
 * write transaction to kill. What is wrong is refused before anything changes. Delayed replicas lag on purpose
 * and are not waited for, so their lag does not count.
 */
export function switchoverRefusals(a: Analysis, _states: HostState[], limits: SwitchoverLimits): string[] {
  const old = a.oldMaster.state;
  if (!old?.reachable) {
    const name = a.oldMaster.name ?? a.oldMaster.address;
    return [`the master ${name} is not reachable: a switchover needs it alive. Use --failover-to instead.`];
  }
  const out: string[] = [];
  for (const r of a.direct) {
    const rs = r.replica;
    if (rs.ioRunning !== 'Yes' || !rs.sqlRunning) {
      out.push(
        `${r.name} is not replicating (IO ${rs.ioRunning}, SQL ${rs.sqlRunning ? 'Yes' : 'No'}): fix it first, ` +
          'a switchover must lose nothing and wait for nobody.',
      );
    } else if (rs.sqlDelay === 0 && (rs.secondsBehind ?? 0) > limits.maxLagSeconds) {
      out.push(
        `${r.name} is ${rs.secondsBehind} s behind (limit ${limits.maxLagSeconds} s): writes would stay blocked ` +
          'while it catches up. Wait and retry.',
      );
    }
  }
  if (!a.replicas.length) out.push('no healthy replica to switch over to.');
  if ((old.oldestWriteTrxSeconds ?? 0) > limits.maxTransactionSeconds) {
    out.push(
      `a write transaction has been open on ${old.name} for ${old.oldestWriteTrxSeconds} s (limit ` +
        `${limits.maxTransactionSeconds} s): it would be killed. Let it finish and retry.`,
    );
  }
  return out;
}

import { ServerLogs } from '../binlog/log-reader.js';
import type { Plan } from '../algorithm/plan-types.js';
import { compareCoordinates } from '../binlog/coordinates.js';
import type { Dialect } from '../dialect/dialect.js';
import type { SqlConnection } from '../topology/connection.js';
import type { HostState } from '../domain/server-state.js';
import { mapThroughBinlog, purged, relayGap } from './actions/map-position.js';

/**
 * Before anything changes: by file, the target must be mappable through the best replica's relay log, or the
 * run would stop half-way with replication stopped everywhere. Read-only; a refusal names what to do instead.
 * (The other replicas are checked at run time: one that cannot be mapped is left stopped, the rest go on.)
 */
export async function targetMappingRefusal(
  plan: Plan,
  states: HostState[],
  conns: Map<string, SqlConnection>,
  dialects: Map<string, Dialect>,
): Promise<string | undefined> {
  if (plan.positioning !== 'file' || plan.best === plan.target || plan.nothingToDo) return undefined;
  const best = states.find((s) => s.name === plan.best);
  const target = states.find((s) => s.name === plan.target);
  const conn = conns.get(plan.best);
  const targetConn = conns.get(plan.target);
  const x = target?.replica?.executed;
  if (!best?.replica?.relayLog.file || !conn || !targetConn || !x?.file) return undefined;
  // The best replica has not applied past the target's position yet: the drain will apply (and binlog) the
  // target's last transaction, where the run-time mapping finds it, whatever relay_log_purge deletes by then.
  if (best.replica.executed.file && compareCoordinates(best.replica.executed, x) <= 0) return undefined;
  const bestLogs = new ServerLogs(conn, dialects.get(plan.best)!);
  const from = await bestLogs.relayReaches(best.replica.relayLog.file, x);
  const why = relayGap(from, x, plan.best);
  if (!why) return undefined;
  // Without the relay log, the target's own last transaction must be found in the best replica's binlog.
  const ownLogs = new ServerLogs(targetConn, dialects.get(plan.target)!);
  const m = await mapThroughBinlog(bestLogs, ownLogs, { replica: plan.target, best: plan.best, x, why: purged(why) });
  if (m.ok) return undefined;
  return (
    `${plan.target} cannot be brought up to ${plan.best} by file: ${m.refusals.join('; ')}. ` +
    `Fail over to ${plan.best} instead ` +
    `(--failover-to ${plan.best}), then re-clone or repoint ${plan.target}.`
  );
}

import { compareCoordinates, formatCoordinates } from '../binlog/coordinates.js';
import { ServerLogs } from '../binlog/log-reader.js';
import type { Plan } from '../algorithm/plan-types.js';
import type { Dialect } from '../dialect/dialect.js';
import type { SqlConnection } from '../topology/connection.js';
import type { HostState } from '../topology/server-state.js';

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
  const x = target?.replica?.executed;
  if (!best?.replica?.relayLog.file || !conn || !x?.file) return undefined;
  const from = await new ServerLogs(conn, dialects.get(plan.best)!).relayReaches(best.replica.relayLog.file, x);
  if (from && compareCoordinates(from, x) <= 0) return undefined;
  return (
    `${plan.target} cannot be brought up to ${plan.best} by file: ${plan.best}'s relay log ${from ? `only goes back to ${formatCoordinates(from)}` : "no longer names the old master's binlog file"}, ` +
    `after ${plan.target}'s position ${formatCoordinates(x)} (older relay logs were purged: relay_log_purge=ON?). Fail over to ${plan.best} instead (--failover-to ${plan.best}), then re-clone or repoint ${plan.target}.`
  );
}

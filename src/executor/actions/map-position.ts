import { compareCoordinates, formatCoordinates } from '../../binlog/coordinates.js';
import { mapPosition } from '../../binlog/position-mapping.js';
import { replicaStatus } from '../server-reads.js';
import type { Handler } from '../types.js';

/** Where in the best replica's binlog this replica must start; refused (with the reason) when the evidence disagrees. */
export const mapPositionStep: Handler<'map-position'> = async (step, ctx) => {
  const a = step.action;
  const s = await replicaStatus(ctx.conn(step.host), ctx.dialect(step.host));
  if (!s) throw new Error('not a replica any more');
  if (s.sqlRunning || s.ioRunning === 'Yes') {
    throw new Error('replication is running again: its position is not fixed; left as it is');
  }
  const x = s.executed;
  if (!x.file) throw new Error(`${step.host} reports no executed old-master coordinates; left stopped`);
  const bestEnd = ctx.outputCoordinates(a.bestEnd.step);
  if (!bestEnd) throw new Error(`no binlog end of ${a.best} from step ${a.bestEnd.step}`);
  const bs = await replicaStatus(ctx.conn(a.best), ctx.dialect(a.best));
  if (!bs?.relayLog.file) throw new Error(`${a.best} reports no relay log`);
  const logs = ctx.logs(a.best);
  const relay = await logs.relayCovering(bs.relayLog.file, x);
  const after = relay.transactions.filter((t) => compareCoordinates(t.end, x) > 0).length;
  const binlog = await logs.binlogTail(after + 1);
  const own = await ctx.logs(step.host).binlogTail(1);
  const lastExecuted = own.transactions.at(-1);
  const m = mapPosition({
    replica: step.host,
    best: a.best,
    executed: x,
    relay,
    binlog: binlog.transactions,
    binlogComplete: binlog.complete,
    binlogEnd: bestEnd,
    ...(lastExecuted ? { lastExecuted } : {}),
  });
  if (!m.ok) throw new Error(`${m.reason}. ${step.host} is left stopped`);
  const behind = `${m.behind} transaction${m.behind === 1 ? '' : 's'} behind`;
  return {
    detail:
      `old master ${formatCoordinates(x)} = ${a.best} ${formatCoordinates(m.coordinates)}, ${behind}. ` +
      `Evidence: ${m.evidence.join('; ')}`,
    output: { coordinates: m.coordinates },
  };
};

import { compareCoordinates, formatCoordinates } from '../../binlog/coordinates.js';
import type { Coordinates } from '../../domain/coordinates.js';
import type { ServerLogs } from '../../binlog/log-reader.js';
import {
  appliedBeyondRelay,
  mapByOwnLastTransaction,
  mapPosition,
  type Mapping,
} from '../../binlog/position-mapping.js';
import { executedFromRelay } from '../../binlog/relay-position.js';
import { replicaStatus } from '../server-reads.js';
import type { ReplicaStatus } from '../../domain/server-state.js';
import type { ActionOutcome, Handler } from '../types.js';

/**
 * Where in the best replica's binlog this replica must start; refused (with the reason) when the evidence
 * disagrees.
 */
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
  // Executed exactly as far as the best replica: it holds what the best one holds, so it can continue at the
  // best one's binlog end (read-only, nothing else is in it). Used when the logs cannot map it: in a
  // master-master pair the relay log skips the events that carry the best replica's own server_id.
  const equal = compareCoordinates(x, bs.executed) === 0;
  const sameAsBest = (why: string): ActionOutcome => ({
    detail:
      `old master ${formatCoordinates(x)} is where ${a.best} stopped too: continues at ${a.best}'s binlog end ` +
      `${formatCoordinates(bestEnd)} (the logs could not map it: ${why})`,
    output: { coordinates: bestEnd },
  });
  const map = (at: Coordinates) =>
    mapLagging(ctx.logs(a.best), ctx.logs(step.host), {
      replica: step.host,
      best: a.best,
      x: at,
      relayFile: bs.relayLog.file,
      bestEnd,
    });
  const mapping = await map(x);
  if (!mapping.ok && !equal) {
    // After CHANGE MASTER TO RELAY_LOG_FILE (a delay lifted, a paused replica resumed by file) MariaDB names the
    // received file beside a position of the file its SQL thread is really in, until it passes a master Rotate
    // (chaos seed 70707: mysql-bin.000002:10655093 reported, not a boundary in the best relay log). Its relay log
    // says where it stands: mapped from there, or refused as before.
    const read = await executedFromRelay(ctx.conn(step.host), ctx.dialect(step.host), s).catch(
      (err: unknown) => `its relay log could not be read (${(err as Error).message})`,
    );
    const again = typeof read === 'object' && compareCoordinates(read, x) !== 0 ? await map(read) : undefined;
    if (again?.ok && typeof read === 'object') {
      return outcome(again, read, ` (read from its relay log; the server named ${formatCoordinates(x)})`);
    }
    return outcome({ ...mapping, refusals: [...mapping.refusals, relaySaid(read, again, s)] }, x, '');
  }
  return outcome(mapping, x, '');

  function outcome(mapping: Mapping, at: Coordinates, note: string): ActionOutcome {
    if (!mapping.ok && equal) return sameAsBest(mapping.refusals.join('; '));
    if (!mapping.ok) throw new Error(`${mapping.refusals.join('; ')}. ${step.host} is left stopped`);
    const { coordinates, behind: n, evidence } = mapping.value;
    const behind = `${n} transaction${n === 1 ? '' : 's'} behind`;
    return {
      detail:
        `old master ${formatCoordinates(at)}${note} = ${a.best} ${formatCoordinates(coordinates)}, ${behind}. ` +
        `Evidence: ${evidence.join('; ')}`,
      output: { coordinates },
    };
  }
};

/**
 * Through the best replica's relay log (old-master coordinates) and the end of its binlog; through the lagging
 * replica's own last transaction instead when the relay log no longer reaches back to x, or when the best
 * replica's binlog goes on past what its relay log holds.
 */
async function mapLagging(
  logs: ServerLogs,
  own: ServerLogs,
  o: { replica: string; best: string; x: Coordinates; relayFile: string; bestEnd: Coordinates },
): Promise<Mapping> {
  const { replica, best, x } = o;
  const relay = await logs.relayCovering(o.relayFile, x);
  const why = relayGap(relay.from, x, best);
  if (why) return mapThroughBinlog(logs, own, { replica, best, x, why: purged(why) });
  const after = relay.transactions.filter((t) => compareCoordinates(t.end, x) > 0).length;
  const binlog = await logs.binlogTail(after + 1);
  const beyond = appliedBeyondRelay(relay.transactions.at(-1), binlog.transactions.at(-1), best);
  if (beyond) return mapThroughBinlog(logs, own, { replica, best, x, why: beyond });
  const lastExecuted = (await own.binlogTail(1)).transactions.at(-1);
  return mapPosition({
    replica,
    best,
    executed: x,
    relay,
    binlog: binlog.transactions,
    binlogComplete: binlog.complete,
    binlogEnd: o.bestEnd,
    ...(lastExecuted ? { lastExecuted } : {}),
  });
}

/** Why the best replica's relay log cannot map position x (it no longer reaches back to it), or undefined. */
export function relayGap(from: Coordinates | undefined, x: Coordinates, best: string): string | undefined {
  if (!from) return `${best}'s relay log no longer says which old-master binlog file its events come from`;
  if (compareCoordinates(from, x) > 0) return `${best}'s relay log only goes back to ${formatCoordinates(from)}`;
  return undefined;
}

export const purged = (why: string) => `${why} (older relay logs were purged: relay_log_purge=ON)`;

/**
 * Without the relay log: the lagging replica's own last transaction, found in the best replica's binlog by its
 * GTID (or a unique run of signatures), marks the cut. Read-only.
 */
export async function mapThroughBinlog(
  best: ServerLogs,
  own: ServerLogs,
  o: { replica: string; best: string; x: Coordinates; why: string },
): Promise<Mapping> {
  const tail = (await own.binlogTail(RUN)).transactions;
  const last = tail.at(-1);
  const byGtid = !!last?.gtid && last.gtid !== 'anonymous';
  const found = await best.findInBinlog(byGtid ? [last] : tail);
  return mapByOwnLastTransaction({
    replica: o.replica,
    best: o.best,
    executed: o.x,
    ...(last ? { lastExecuted: last } : {}),
    found,
    relayWhy: o.why,
  });
}

/** Without GTIDs, how many of the replica's last transactions must occur together, once, in the best one's binlog. */
const RUN = 3;

/** What the relay log gave when a refused mapping was tried again from it (said beside the refusal). */
function relaySaid(read: Coordinates | string | undefined, again: Mapping | undefined, s: ReplicaStatus): string {
  if (typeof read === 'string') return read;
  if (!read) return `its relay log names no old-master position before ${formatCoordinates(s.relayLog)}`;
  if (again && !again.ok) {
    return `nor from ${formatCoordinates(read)}, where its relay log says its SQL thread stands: ${again.refusals.join('; ')}`;
  }
  return `its relay log agrees (${formatCoordinates(read)})`;
}

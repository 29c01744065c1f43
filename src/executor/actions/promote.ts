import { formatCoordinates } from '../../binlog/coordinates.js';
import { applySemiSync } from '../semi-sync.js';
import { READ_MS, sendAll, WRITE_MS } from '../server-reads.js';
import type { Handler } from '../types.js';

/**
 * STOP, RESET ALL (kept in a pair's switchover), then (by file) the binlog position replicas will start from,
 * then writes open. The position is read before read_only goes OFF and journaled at once: a run killed inside
 * this step keeps it on resume,
 * because reading it again after writes opened would skip those writes on every replica.
 */
export const promote: Handler<'promote'> = async (step, ctx) => {
  const a = step.action;
  const conn = ctx.conn(step.host);
  const d = ctx.dialect(step.host);
  refuseWithoutAckers(step.host, a.ackers, (n) => ctx.succeeded(n));
  await sendAll(conn, a.reset ? [a.stop, a.reset] : [a.stop]);
  let coordinates = a.recordEnd ? ctx.checkpointed()?.coordinates : undefined;
  const earlier = !!coordinates;
  if (a.recordEnd && !coordinates) {
    coordinates = d.parseBinlogStatus((await conn.query(a.recordEnd, READ_MS))[0]);
    // Never open writes without the position replicas must start from.
    if (!coordinates) throw new Error('the new master has no binary log position (log_bin OFF?)');
    await ctx.checkpoint({ coordinates });
  }
  // Semi-sync: the master side is on before anything can be written here.
  if (a.semiSync) await applySemiSync(conn, a.semiSync);
  await sendAll(conn, a.setWritable);
  // The pair stays circular: the new active replicates from the old one, which is read-only now.
  if (a.restart) await sendAll(conn, [a.restart]);
  const kept = a.restart ? '; still replicating from its pair partner' : '';
  const semi = a.semiSync ? '; semi-sync master side on' : '';
  const open = a.setWritable.length ? 'writable' : 'read-only until a replica acknowledges';
  if (!coordinates) return { detail: `${a.setWritable.length ? 'ok' : open}${semi}${kept}` };
  const when = earlier ? 'recorded before the interrupted run opened writes' : 'before writes opened';
  const detail = `${open}; binlog at ${formatCoordinates(coordinates)} ${when}${semi}${kept}`;
  return { detail, output: { coordinates } };
};

/**
 * Semi-sync waiting for an acknowledgement: a promotion no replica could acknowledge would leave the new master
 * read-only with the old one gone (chaos seed 70167) — it is not made; the run fails here, nothing promoted.
 */
function refuseWithoutAckers(
  host: string,
  ackers: { host: string; ready: number }[] | undefined,
  ok: (n: number) => boolean,
) {
  if (!ackers || ackers.some((x) => ok(x.ready))) return;
  const who = ackers.map((x) => `${x.host} (step ${x.ready} did not succeed)`).join(', ');
  throw new Error(
    `not promoted: no replica that would acknowledge ${host} is ready — ${who}; writes would stay closed. ` +
      'Fix that replica and run the failover again, or set semiSync.waitForAck: false to open writes asynchronously',
  );
}

/** --abort: the old master takes writes again. */
export const makeWritable: Handler<'make-writable'> = async (step, ctx) => {
  await sendAll(ctx.conn(step.host), step.action.setWritable, WRITE_MS);
  return { detail: 'writable again' };
};

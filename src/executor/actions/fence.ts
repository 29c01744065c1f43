import { formatCoordinates } from '../../binlog/coordinates.js';
import { gtidOf, READ_MS, sendAll } from '../server-reads.js';
import { errorText } from '../../errors.js';
import type { SqlConnection } from '../../topology/connection.js';
import type { Handler } from '../types.js';

/** ER_NO_SUCH_THREAD: the connection ended by itself between listing and killing it. */
const NO_SUCH_THREAD = 1094;

export const fenceReadOnly: Handler<'fence-read-only'> = async (step, ctx) => {
  await sendAll(ctx.conn(step.host), step.action.setReadOnly);
  return { detail: 'ok' };
};

export const killClients: Handler<'kill-clients'> = async (step, ctx) => {
  const conn = ctx.conn(step.host);
  const d = ctx.dialect(step.host);
  const rows = await conn.query(step.action.listClients, READ_MS);
  let killed = 0;
  for (const r of rows) {
    try {
      await conn.query(d.killConnection(Number(r.id)), READ_MS);
      killed++;
    } catch (err) {
      if ((err as { errno?: number }).errno !== NO_SUCH_THREAD) throw err;
    }
  }
  return { detail: `killed ${killed} client connection${killed === 1 ? '' : 's'}` };
};

export const recordMasterEnd: Handler<'record-master-end'> = async (step, ctx) => {
  const conn = ctx.conn(step.host);
  const d = ctx.dialect(step.host);
  const coordinates = d.parseBinlogStatus((await conn.query(step.action.binlogStatus, READ_MS))[0]);
  const gtid = await gtidOf(conn, step.action.binlogGtid);
  if (!coordinates) throw new Error('the old master has no binary log position (log_bin OFF?)');
  return { detail: `${formatCoordinates(coordinates)}, GTID ${gtid || '(none)'}`, output: { gtid, coordinates } };
};

/**
 * The old master was down when the run started; right before the promotion it is looked at again over a fresh
 * connection. Still down: done. It answers: fenced now (read-only, every client connection killed), or the step
 * fails and nothing is promoted next to a master that came back.
 */
export const recheckOldMaster: Handler<'recheck-old-master'> = async (step, ctx) => {
  let conn: SqlConnection;
  try {
    conn = await ctx.connect(step.host);
  } catch (err) {
    return { detail: `still down (${errorText(err)})` };
  }
  try {
    await sendAll(conn, step.action.setReadOnly);
    const d = ctx.dialect(step.action.dialectOf);
    const rows = await conn.query(step.action.listClients, READ_MS);
    let killed = 0;
    for (const r of rows) {
      try {
        await conn.query(d.killConnection(Number(r.id)), READ_MS);
        killed++;
      } catch (err) {
        if ((err as { errno?: number }).errno !== NO_SUCH_THREAD) throw err;
      }
    }
    return {
      detail: `it answered again: fenced (read-only, ${killed} client connection${killed === 1 ? '' : 's'} killed)`,
    };
  } finally {
    await conn.close();
  }
};

import { formatCoordinates } from '../../binlog/coordinates.js';
import { gtidOf, READ_MS, sendAll } from '../server-reads.js';
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

import { READ_MS, sendAll } from '../server-reads.js';
import type { Handler } from '../types.js';
import { type Look, poll } from '../waits.js';

/** Writes are closed while this waits: look often (a status read costs well under a millisecond). */
const LOOK_EVERY_MS = 10;

/**
 * Semi-sync: writes open on the new master only once enough replicas with their side on are connected, so the
 * first commit already waits for one that receives it instead of timing out into asynchronous replication.
 * Fewer replicas followed than the master's count asks for: as many as followed.
 */
export const openWrites: Handler<'open-writes'> = async (step, ctx) => {
  const a = step.action;
  const conn = ctx.conn(step.host);
  const ss = ctx.dialect(step.host).semiSync;
  const followed = a.followers.filter((n) => ctx.succeeded(n)).length;
  const byHand = `to open them without an acknowledgement: ${a.setWritable.join('; ')} on ${step.host}`;
  if (!followed) {
    throw new Error(`no replica that acknowledges was repointed to ${step.host}: writes stay closed (${byHand})`);
  }
  const needed = Math.min(a.needed, followed);
  const started = Date.now();
  const clients = await poll(
    `${needed} acknowledging replica${needed > 1 ? 's' : ''} on ${step.host} (writes stay closed; ${byHand})`,
    ctx.config.timeouts.verify,
    async (): Promise<Look<number>> => {
      const n = Number(ss.statusValue(await conn.query(a.clientsSql, READ_MS))) || 0;
      return n >= needed ? { done: n } : { waiting: `${n} connected with their semi-sync side on` };
    },
    LOOK_EVERY_MS,
  );
  await sendAll(conn, a.setWritable);
  const waited = Date.now() - started;
  const who = clients > 1 ? `${clients} replicas acknowledge` : '1 replica acknowledges';
  return { detail: `writable: ${who} (waited ${waited} ms)` };
};

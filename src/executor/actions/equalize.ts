import { compareCoordinates, formatCoordinates } from '../../binlog/coordinates.js';
import type { Coordinates } from '../../domain/coordinates.js';
import { gtidAhead } from '../../binlog/gtid.js';
import { errorText } from '../../errors.js';
import { gtidOf, replicaStatus, replicatesFrom, WRITE_MS } from '../server-reads.js';
import type { ActionContext, ActionOutcome, Handler } from '../types.js';
import { waitForGtid, waitForPosition } from '../waits.js';

/**
 * Replicates from the best replica up to exactly its end, then stops: by GTID from where the replica stands,
 * or by file from the mapped position. Skipped when the replica already holds everything.
 */
export const equalize: Handler<'equalize'> = async (step, ctx) => {
  return step.action.from ? byFile(step, ctx) : byGtid(step, ctx);
};

type EqualizeStep = Parameters<typeof equalize>[0];

async function byGtid(step: EqualizeStep, ctx: ActionContext): Promise<ActionOutcome> {
  const a = step.action;
  const conn = ctx.conn(step.host);
  const d = ctx.dialect(step.host);
  const until = ctx.output(a.until);
  const missing = gtidAhead(d.version.flavor, until, await gtidOf(conn, d.currentGtidSql()));
  if (missing === 0) return { detail: `already holds ${until}`, alreadyDone: true };
  await conn.query(a.stop, WRITE_MS);
  await conn.query(ctx.materialize(a.change), WRITE_MS);
  await conn.query(ctx.materialize(a.startUntil), WRITE_MS);
  await stopAfter(ctx, step, () =>
    waitForGtid(conn, d, { gtid: until, waitSql: ctx.materialize(a.wait), seconds: ctx.config.timeouts.equalize }),
  );
  return { detail: `applied ${missing} transaction${missing === 1 ? '' : 's'} from ${a.source}, now at ${until}` };
}

/**
 * A run killed in the middle left this replica replicating from the best one: it continues from where it
 * stopped, never from the mapped position again (that would apply transactions twice).
 */
async function byFile(step: EqualizeStep, ctx: ActionContext): Promise<ActionOutcome> {
  const a = step.action;
  const conn = ctx.conn(step.host);
  const d = ctx.dialect(step.host);
  const until = ctx.outputCoordinates(a.until.step);
  const from = ctx.outputCoordinates(a.from!.step);
  if (!until || !from) throw new Error(`no coordinates from steps ${a.until.step} and ${a.from!.step}`);
  const src = ctx.config.hosts.find((h) => h.name === a.source);
  if (!src) throw new Error(`no host ${a.source} in the config`);
  const done = { detail: `already at ${a.source}'s end ${formatCoordinates(until)}`, alreadyDone: true };
  if (compareCoordinates(from, until) >= 0) return done;
  // Stop first: a replica left replicating by a killed run keeps applying, and its position must not move
  // between reading it and starting again from it (that would apply transactions twice).
  await conn.query(a.stop, WRITE_MS);
  const s = await replicaStatus(conn, d);
  const resumed = replicatesFrom(s, src) && !!s.executed.file && compareCoordinates(s.executed, from) >= 0;
  const start: Coordinates = resumed ? s.executed : from;
  if (compareCoordinates(start, until) >= 0) return done;
  // A resumed run's CHANGE names where the replica stopped, which only exists now.
  const source = { host: src.host, port: src.port, user: ctx.config.replication.user, password: '' };
  const change = resumed ? ctx.materialize(d.changeSourceFile(source, start, true)) : ctx.materialize(a.change);
  await conn.query(change, WRITE_MS);
  await conn.query(ctx.materialize(a.startUntil), WRITE_MS);
  await stopAfter(ctx, step, () =>
    waitForPosition(conn, d, { at: until, waitSql: ctx.materialize(a.wait), seconds: ctx.config.timeouts.equalize }),
  );
  const range = `${formatCoordinates(start)}..${formatCoordinates(until)}`;
  return { detail: `replicated ${a.source} ${range}${resumed ? ' (continuing an interrupted run)' : ''}` };
}

/** Runs the wait, then stops replication whatever happened: an equalized (or failed) replica is left stopped. */
async function stopAfter(ctx: ActionContext, step: EqualizeStep, wait: () => Promise<void>): Promise<void> {
  const conn = ctx.conn(step.host);
  try {
    await wait();
  } catch (err) {
    await conn.query(step.action.stop, WRITE_MS);
    throw new Error(`${errorText(err)}; left stopped`);
  }
  await conn.query(step.action.stop, WRITE_MS);
}

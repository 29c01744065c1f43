import { compareCoordinates, formatCoordinates } from '../binlog/coordinates.js';
import type { Coordinates } from '../domain/coordinates.js';
import type { Dialect } from '../dialect/dialect.js';
import type { SqlConnection } from '../topology/connection.js';
import type { ReplicaStatus } from '../domain/server-state.js';
import { one, replicaStatus, threadErrors } from './server-reads.js';

/** How often a waiting step looks again. */
export const POLL_MS = 50;
/** How long an IO thread may keep failing to connect before a wait gives up on it. */
export const IO_ERROR_GRACE_MS = 10_000;
/** A bounded server-side wait (MASTER_GTID_WAIT(..., 1)) plus slack. */
const WAIT_QUERY_MS = 60_000;

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** One look at what a wait waits for: done (with its result), or still waiting (with what it saw). */
export type Look<T> = { done: T } | { waiting: string; pause?: boolean };

/**
 * The one polling loop: looks until `look` says done, throws what it throws (a broken replica ends a wait at
 * once), and gives up after `seconds` saying what it last saw. `pause: false` skips the pause when the look
 * itself already waited (a server-side wait of one second); `pauseMs`: a wait that holds writes closed looks
 * more often.
 */
export async function poll<T>(
  what: string,
  seconds: number,
  look: () => Promise<Look<T>>,
  pauseMs = POLL_MS,
): Promise<T> {
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    const l = await look();
    if ('done' in l) return l.done;
    if (Date.now() > deadline) throw new Error(`${what} not reached within ${seconds} s (${l.waiting})`);
    if (l.pause !== false) await sleep(pauseMs);
  }
}

/**
 * For a wait on a replica: throws when it broke while waiting for `what`. SQL errors and an IO thread that
 * gave up end the wait at once; an IO thread that keeps failing to connect (wrong password, missing user,
 * firewall) would retry for a day, so it ends the wait after IO_ERROR_GRACE_MS. Call it with every status
 * read during one wait.
 */
export function stopIfBroken(what: string): (s: ReplicaStatus | undefined) => void {
  let ioErrorSince = 0;
  return (s) => {
    if (s?.lastSqlError || (s?.lastIoError && s.ioRunning === 'No')) {
      throw new Error(`${threadErrors(s)}; stopped waiting for ${what}`);
    }
    ioErrorSince = s?.lastIoError && s.ioRunning !== 'Yes' ? ioErrorSince || Date.now() : 0;
    if (ioErrorSince && Date.now() - ioErrorSince > IO_ERROR_GRACE_MS) {
      throw new Error(`${threadErrors(s)} (for ${IO_ERROR_GRACE_MS / 1000} s); stopped waiting for ${what}`);
    }
  };
}

/**
 * Waits until this server has applied `gtid`, sending `waitSql` (a one-second server-side wait that answers
 * 0 when reached) again and again; a broken replica ends the wait early.
 */
export async function waitForGtid(
  conn: SqlConnection,
  d: Dialect,
  w: { gtid: string; waitSql: string; seconds: number },
) {
  const check = stopIfBroken(w.gtid);
  await poll(`GTID ${w.gtid}`, w.seconds, async (): Promise<Look<true>> => {
    if (Number((await one(conn, w.waitSql, WAIT_QUERY_MS)).r) === 0) return { done: true };
    const s = await replicaStatus(conn, d);
    check(s);
    return { waiting: threadErrors(s) || `applied ${s?.gtidReceived ?? '?'}`, pause: false };
  });
}

/**
 * Waits until the SQL thread has executed up to `at` in its source's binlog (a broken replica ends the wait
 * early). A thread that stopped by itself at an UNTIL position counts as arrived there.
 */
export async function waitForPosition(
  conn: SqlConnection,
  d: Dialect,
  w: { at: Coordinates; waitSql?: string; seconds: number },
): Promise<void> {
  const check = stopIfBroken(formatCoordinates(w.at));
  const waitSql = w.waitSql ?? d.waitForPositionSql(w.at, 1);
  await poll(formatCoordinates(w.at), w.seconds, async (): Promise<Look<true>> => {
    const r = (await one(conn, waitSql, WAIT_QUERY_MS)).r;
    if (r !== null && r !== undefined && Number(r) >= 0) return { done: true };
    const s = await replicaStatus(conn, d);
    if (s?.executed.file && compareCoordinates(s.executed, w.at) >= 0) return { done: true };
    check(s);
    if (s && !s.sqlRunning) {
      throw new Error(`the SQL thread stopped at ${formatCoordinates(s.executed)}, before ${formatCoordinates(w.at)}`);
    }
    // -1 already waited its second; NULL answers at once.
    const at = `at ${formatCoordinates(s?.executed)}${threadErrors(s) ? `; ${threadErrors(s)}` : ''}`;
    return { waiting: at, pause: r === null || r === undefined };
  });
}

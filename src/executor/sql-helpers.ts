import type { Coordinates } from '../binlog/coordinates.js';
import type { Dialect } from '../dialect/dialect.js';
import type { ResolvedHost } from '../topology/config-types.js';
import type { SqlConnection } from '../topology/connection.js';
import type { ReplicaStatus } from '../topology/server-state.js';

/** How often a waiting step looks again. */
export const POLL_MS = 50;
/** How long an IO thread may keep failing to connect before a wait gives up on it. */
export const IO_ERROR_GRACE_MS = 10_000;
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The first row of a query, or an empty row. */
export async function one(conn: SqlConnection, sql: string, timeoutMs?: number) {
  const rows = await conn.query(sql, timeoutMs);
  return rows[0] ?? {};
}

export async function replicaStatus(conn: SqlConnection, d: Dialect): Promise<ReplicaStatus | undefined> {
  const [row] = await conn.query(d.replicaStatusSql(), 10_000);
  return row ? d.parseReplicaStatus(row) : undefined;
}

/** A GTID position read as column `gtid`, without the line breaks MySQL puts in long sets. */
export async function gtidOf(conn: SqlConnection, sql: string): Promise<string> {
  return String((await one(conn, sql, 10_000)).gtid ?? '').replace(/\s+/g, '');
}

export const threadErrors = (s: ReplicaStatus | undefined) =>
  [s?.lastIoError && `IO thread: ${s.lastIoError}`, s?.lastSqlError && `SQL thread: ${s.lastSqlError}`]
    .filter(Boolean)
    .join('; ');

/** Where this server's own binlog ends (SHOW MASTER STATUS or its successor); undefined without log_bin. */
export async function binlogEnd(conn: SqlConnection, d: Dialect): Promise<Coordinates | undefined> {
  return d.parseBinlogStatus((await conn.query(d.binlogStatusSql(), 10_000))[0]);
}

/** The replica is pointed at this configured host. */
export function replicatesFrom(s: ReplicaStatus | undefined, h: ResolvedHost): s is ReplicaStatus {
  return !!s && s.sourceHost === h.host && s.sourcePort === h.port;
}

/**
 * For a wait on a replica (1 s at a time, so a broken replica fails fast instead of after the whole timeout):
 * throws when it broke while waiting for `what`. SQL errors and an IO thread that gave up end the wait at once;
 * an IO thread that keeps failing to connect (wrong password, missing user, firewall) would retry for a day,
 * so it ends the wait after IO_ERROR_GRACE_MS. Call it with every status read during one wait.
 */
export function stopIfBroken(what: string): (s: ReplicaStatus | undefined) => void {
  let ioErrorSince = 0;
  return (s) => {
    if (s?.lastSqlError || (s?.lastIoError && s.ioRunning === 'No'))
      throw new Error(`${threadErrors(s)}; stopped waiting for ${what}`);
    ioErrorSince = s?.lastIoError && s.ioRunning !== 'Yes' ? ioErrorSince || Date.now() : 0;
    if (ioErrorSince && Date.now() - ioErrorSince > IO_ERROR_GRACE_MS)
      throw new Error(`${threadErrors(s)} (for ${IO_ERROR_GRACE_MS / 1000} s); stopped waiting for ${what}`);
  };
}

import type { Coordinates } from '../domain/coordinates.js';
import type { Dialect } from '../dialect/dialect.js';
import type { ResolvedHost } from '../topology/config-types.js';
import type { SqlConnection } from '../topology/connection.js';
import type { ReplicaStatus } from '../domain/server-state.js';
import { withExecutedChecked } from '../binlog/relay-position.js';

/** How long one status read may take. */
export const READ_MS = 10_000;
/** How long one changing statement may take. */
export const WRITE_MS = 30_000;

/** The first row of a query, or an empty row. */
export async function one(conn: SqlConnection, sql: string, timeoutMs?: number) {
  const rows = await conn.query(sql, timeoutMs);
  return rows[0] ?? {};
}

/**
 * SHOW REPLICA STATUS, with the executed coordinates read from the relay log when the server's are impossible
 * (see executedIsStale). `raw` skips that read: for a poll that does not decide on them.
 */
export async function replicaStatus(
  conn: SqlConnection,
  d: Dialect,
  o: { raw?: boolean } = {},
): Promise<ReplicaStatus | undefined> {
  const [row] = await conn.query(d.replicaStatusSql(), READ_MS);
  if (!row) return undefined;
  const s = d.parseReplicaStatus(row);
  return o.raw ? s : withExecutedChecked(conn, d, s);
}

/** A GTID position read as column `gtid`, without the line breaks MySQL puts in long sets. */
export async function gtidOf(conn: SqlConnection, sql: string): Promise<string> {
  return String((await one(conn, sql, READ_MS)).gtid ?? '').replace(/\s+/g, '');
}

/** Where this server's own binlog ends (SHOW MASTER STATUS or its successor); undefined without log_bin. */
export async function binlogEnd(conn: SqlConnection, d: Dialect): Promise<Coordinates | undefined> {
  return d.parseBinlogStatus((await conn.query(d.binlogStatusSql(), READ_MS))[0]);
}

/** The replica is pointed at this configured host (by the address mmmf itself set). */
export function replicatesFrom(s: ReplicaStatus | undefined, h: ResolvedHost): s is ReplicaStatus {
  return !!s && s.sourceHost === h.host && s.sourcePort === h.port;
}

export const threadErrors = (s: ReplicaStatus | undefined) =>
  [s?.lastIoError && `IO thread: ${s.lastIoError}`, s?.lastSqlError && `SQL thread: ${s.lastSqlError}`]
    .filter(Boolean)
    .join('; ');

/** Sends statements one after the other. */
export async function sendAll(conn: SqlConnection, statements: string[], timeoutMs = WRITE_MS): Promise<void> {
  for (const sql of statements) await conn.query(sql, timeoutMs);
}

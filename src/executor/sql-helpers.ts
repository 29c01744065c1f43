import type { Dialect } from '../dialect/dialect.js';
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
  [s?.lastIoError && `IO thread: ${s.lastIoError}`, s?.lastSqlError && `SQL thread: ${s.lastSqlError}`].filter(Boolean).join('; ');

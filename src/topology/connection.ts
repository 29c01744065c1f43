import type { Row } from '../dialect/dialect.js';
import { errorText } from '../errors.js';
import type { ResolvedHost } from './config-types.js';

/**
 * The narrow interface everything above the driver talks to, so tests can feed recorded rows and the
 * driver (mysql2) stays behind this file.
 */
export interface SqlConnection {
  readonly name: string;
  /** Runs one statement; rows for SELECT/SHOW, [] otherwise. `timeoutMs` bounds a single statement. */
  query(sql: string, timeoutMs?: number): Promise<Row[]>;
  close(): Promise<void>;
}

export type Connector = (host: ResolvedHost, connectTimeoutSec: number) => Promise<SqlConnection>;

/**
 * What every statement mmmf sends relies on, set on each connection whatever the server's global settings:
 * quoted values are escaped with backslashes, which a session with NO_BACKSLASH_ESCAPES reads differently (a
 * password with a quote or a backslash would break the statement, or end up in an error message); and a
 * statement that waits for a metadata lock (SET GLOBAL read_only behind a long query) gives up in 30 s
 * instead of hanging a failover.
 */
export const SESSION_SETTINGS = [
  "SET SESSION sql_mode = TRIM(BOTH ',' FROM REPLACE(CONCAT(',', @@SESSION.sql_mode, ','), ',NO_BACKSLASH_ESCAPES,', ','))",
  'SET SESSION lock_wait_timeout = 30',
];

/** Opens a mysql2 connection (imported lazily: `mmmf --help` must not load a MySQL driver). */
export const connectMysql: Connector = async (host, connectTimeoutSec) => {
  const mysql = await import('mysql2/promise');
  const conn = await mysql.createConnection({
    host: host.host,
    port: host.port,
    ...(host.socket ? { socketPath: host.socket } : {}),
    user: host.user,
    password: host.password,
    connectTimeout: Math.round(connectTimeoutSec * 1000),
    dateStrings: true,
    supportBigNumbers: true,
    bigNumberStrings: true,
    multipleStatements: false,
  });
  // A dropped connection emits 'error' on the object; without a listener Node would crash the whole run.
  conn.on('error', () => {});
  try {
    for (const sql of SESSION_SETTINGS) await conn.query(sql);
  } catch (err) {
    conn.destroy();
    throw err;
  }
  return {
    name: host.name,
    async query(sql, timeoutMs) {
      const [rows] = await conn.query({ sql, ...(timeoutMs ? { timeout: timeoutMs } : {}) });
      return Array.isArray(rows) ? (rows as Row[]) : [];
    },
    async close() {
      try {
        await conn.end();
      } catch {
        conn.destroy();
      }
    },
  };
};

/** Connections to every host that answered, plus why the others did not. */
export interface ConnectionSet {
  open: Map<string, SqlConnection>;
  failed: Map<string, string>;
}

/**
 * Opens one connection per host in parallel and closes them all when `fn` ends, however it ends.
 * A host that does not answer within the connect timeout is recorded, never retried forever.
 */
export async function withConnections<T>(
  hosts: ResolvedHost[],
  connectTimeoutSec: number,
  connector: Connector,
  fn: (set: ConnectionSet) => Promise<T>,
): Promise<T> {
  const set: ConnectionSet = { open: new Map(), failed: new Map() };
  await Promise.all(
    hosts.map(async (h) => {
      try {
        set.open.set(
          h.name,
          await withTimeout(connector(h, connectTimeoutSec), connectTimeoutSec * 1000 + 500, h.name),
        );
      } catch (err) {
        set.failed.set(h.name, describeConnectError(err));
      }
    }),
  );
  try {
    return await fn(set);
  } finally {
    await Promise.all([...set.open.values()].map((c) => c.close()));
  }
}

function withTimeout<T>(p: Promise<T>, ms: number, name: string): Promise<T> {
  let timer: NodeJS.Timeout;
  let settled = false;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer from ${name} within ${ms} ms`)), ms);
  });
  // A connection that arrives after we gave up must still be closed.
  p.then(
    (c) => {
      if (settled) void (c as unknown as SqlConnection).close?.();
    },
    () => {},
  );
  return Promise.race([p, late]).finally(() => {
    settled = true;
    clearTimeout(timer);
  });
}

export function describeConnectError(err: unknown): string {
  const e = err as { code?: string };
  const msg = errorText(err);
  return e.code && !msg.includes(e.code) ? `${e.code}: ${msg}` : msg;
}

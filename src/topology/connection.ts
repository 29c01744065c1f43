import type * as Mysql2 from 'mysql2/promise';
import type { Row } from '../domain/row.js';
import { errorText } from '../errors.js';
import { readFileSync } from 'node:fs';
import type { ClientTls, ResolvedHost } from './config-types.js';
import { readGreeting } from './handshake.js';

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

type Driver = typeof Mysql2;

/** The MySQL driver did not load: no host can be judged from here, so it ends the run instead of a host's probe. */
export class DriverError extends Error {}

/**
 * mysql2, imported on first use: `mmmf --help` must not load a MySQL driver. A bundler hands over a CommonJS
 * module imported this way as `default` only (esbuild does); a driver without createConnection would have made
 * every host look unreachable, so it is an error of its own.
 */
async function loadDriver(): Promise<Driver> {
  const m = (await import('mysql2/promise')) as Driver & { default?: Driver };
  const driver = typeof m.createConnection === 'function' ? m : m.default;
  if (typeof driver?.createConnection !== 'function')
    throw new DriverError('the MySQL driver (mysql2) did not load: mmmf is not installed correctly');
  return driver;
}

/** Opens a mysql2 connection. */
export const connectMysql: Connector = async (host, connectTimeoutSec) => {
  const mysql = await loadDriver();
  const options = {
    host: host.host,
    port: host.port,
    ...(host.socket ? { socketPath: host.socket } : {}),
    user: host.user,
    password: host.password,
    ...(host.ssl ? { ssl: tlsOptions(host.ssl) } : {}),
    connectTimeout: Math.round(connectTimeoutSec * 1000),
    dateStrings: true,
    supportBigNumbers: true,
    bigNumberStrings: true,
    multipleStatements: false,
  };
  let conn: Awaited<ReturnType<typeof mysql.createConnection>>;
  try {
    conn = await mysql.createConnection(options);
  } catch (err) {
    throw await explainDenied(err, host, connectTimeoutSec);
  }
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

/**
 * MariaDB answers a plaintext login to a server with require_secure_transport=ON (or an account with REQUIRE
 * SSL) with "access denied", which sends the operator after the password. Whether the server offers TLS is
 * read from its greeting alone: nothing is sent to it, and no login is ever retried with certificate
 * verification off (whoever answers on a dead master's port could relay or read it).
 */
async function explainDenied(err: unknown, host: ResolvedHost, connectTimeoutSec: number): Promise<unknown> {
  if ((err as { code?: string }).code !== 'ER_ACCESS_DENIED_ERROR' || host.ssl) return err;
  const greeting = await readGreeting(host, connectTimeoutSec * 1000);
  if (!greeting?.offersTls) return err;
  return Object.assign(
    new Error(
      `${errorText(err)} over a plaintext login. The server offers TLS, and MariaDB answers "access denied" when ` +
        'it requires TLS (require_secure_transport=ON, or REQUIRE SSL on the account): then set ssl in the config ' +
        '(defaults.ssl or hosts.NAME.ssl, with ca: the CA that signed the server certificates); otherwise check ' +
        'the user and password',
    ),
    { code: 'MMMF_TLS_REQUIRED' },
  );
}

/** mysql2's TLS options from the config's (files read now: a renewed certificate is picked up by the next run). */
function tlsOptions(t: ClientTls): { ca?: string; cert?: string; key?: string; rejectUnauthorized: boolean } {
  const read = (f: string | undefined) => (f ? readFileSync(f, 'utf8') : undefined);
  const ca = read(t.ca);
  const cert = read(t.cert);
  const key = read(t.key);
  return {
    ...(ca ? { ca } : {}),
    ...(cert ? { cert } : {}),
    ...(key ? { key } : {}),
    // Always verified: the config refuses verifyServerCert: false for mmmf's own connections.
    rejectUnauthorized: true,
  };
}

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
        set.open.set(h.name, await connectWithin(connector, h, connectTimeoutSec));
      } catch (err) {
        if (err instanceof DriverError) throw err;
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

/** One connection, given up after the connect timeout (and closed if it arrives later). */
export function connectWithin(
  connector: Connector,
  host: ResolvedHost,
  connectTimeoutSec: number,
): Promise<SqlConnection> {
  return withTimeout(connector(host, connectTimeoutSec), connectTimeoutSec * 1000 + 500, host.name);
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

/** Node's TLS verification failures: the server's certificate is not trusted by ssl.ca or names another host. */
const TLS_VERIFY =
  /^(UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED_CERT_IN_CHAIN|DEPTH_ZERO_SELF_SIGNED_CERT|UNABLE_TO_GET_ISSUER_CERT(_LOCALLY)?|CERT_HAS_EXPIRED|CERT_NOT_YET_VALID|ERR_TLS_CERT_ALTNAME_INVALID|CERT_SIGNATURE_FAILURE)$/;

/**
 * What went wrong connecting, said so an operator knows what to fix: a TLS verification failure or a server
 * without TLS is named as such, and a server that requires TLS from a plaintext client says so (it may answer
 * "access denied" or "insecure transport").
 */
export function describeConnectError(err: unknown): string {
  const e = err as { code?: string; errno?: number };
  const msg = errorText(err);
  if (e.code === 'MMMF_TLS_REQUIRED') return msg;
  const base = e.code && !msg.includes(e.code) ? `${e.code}: ${msg}` : msg;
  if (e.code && (TLS_VERIFY.test(e.code) || e.code === 'HANDSHAKE_SSL_ERROR')) {
    return `TLS: the server's certificate could not be verified (${base}): ssl.ca must be the CA that signed it, and the certificate must name this host`;
  }
  if (e.code === 'HANDSHAKE_NO_SSL_SUPPORT')
    return `TLS: the server does not offer TLS, but ssl is configured for it (${base})`;
  if (e.errno === 3159 || /insecure transport|require_secure_transport/i.test(msg)) {
    return `the server requires TLS (require_secure_transport=ON) and this connection is plaintext: set ssl in the config (defaults.ssl or hosts.NAME.ssl) (${base})`;
  }
  return base;
}

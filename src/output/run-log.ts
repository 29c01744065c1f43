import { appendFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { quote } from '../dialect/dialect.js';
import type { ResolvedConfig } from '../topology/config-types.js';
import type { Connector, SqlConnection } from '../topology/connection.js';

/**
 * The run log: every statement sent and every answer, timestamped, with secrets redacted. Written to
 * `logFile` when configured, and to stderr with --debug. Appends synchronously so a killed run keeps
 * every line it wrote.
 */
export interface RunLog {
  line(host: string, mark: '>' | '<' | '!' | '#', text: string): void;
}

/** Replaces every configured password (raw and as an SQL literal) with <redacted>. */
export function redactorFor(config: ResolvedConfig): (s: string) => string {
  const secrets = [...new Set([config.replication.password, ...config.hosts.map((h) => h.password)])]
    .filter((x) => x.length > 0)
    .sort((a, b) => b.length - a.length);
  return (s) => {
    let out = s;
    for (const x of secrets) {
      out = out.split(quote(x)).join("'<redacted>'");
      // A bare 3-letter password would redact ordinary words; bare matches only for longer ones.
      if (x.length >= 4) out = out.split(x).join('<redacted>');
    }
    return out;
  };
}

export function openRunLog(config: ResolvedConfig, debug: boolean): RunLog | undefined {
  if (!config.logFile && !debug) return undefined;
  const redact = redactorFor(config);
  if (config.logFile) mkdirSync(dirname(config.logFile), { recursive: true });
  return {
    line(host, mark, text) {
      const l = `${new Date().toISOString()} ${host} ${mark} ${redact(text).replace(/\n/g, '\\n')}\n`;
      if (config.logFile) appendFileSync(config.logFile, l, { mode: 0o600 }); // it names hosts and accounts
      if (debug) process.stderr.write(l);
    },
  };
}

const summarize = (rows: Record<string, unknown>[]) => {
  if (!rows.length) return 'ok, no rows';
  const text = JSON.stringify(rows.length > 3 ? rows.slice(0, 3) : rows);
  return `${rows.length} row${rows.length === 1 ? '' : 's'}: ${text.length > 600 ? `${text.slice(0, 600)}…` : text}`;
};

/**
 * Wraps a connector so that no server error carries a secret: a syntax error quotes the statement "near" the
 * fault, which for a CHANGE MASTER is next to the password — that part is cut whenever the statement held a
 * secret, and every configured password is redacted from every message. Errors keep their codes.
 */
export function redactingConnector(inner: Connector, config: ResolvedConfig): Connector {
  const redact = redactorFor(config);
  const secrets = [config.replication.password, ...config.hosts.map((h) => h.password)].filter((x) => x.length > 0);
  const clean = (err: unknown, sql?: string): unknown => {
    if (!(err instanceof Error)) return err;
    let msg = err.message;
    if (sql && secrets.some((x) => sql.includes(x) || sql.includes(quote(x)))) {
      msg = msg.replace(
        /near '[\s\S]*' at line (\d+)/,
        'near <the statement, not shown: it holds a secret> at line $1',
      );
    }
    err.message = redact(msg);
    return err;
  };
  return async (host, timeout) => {
    let conn: SqlConnection;
    try {
      conn = await inner(host, timeout);
    } catch (err) {
      throw clean(err);
    }
    return {
      name: conn.name,
      async query(sql, ms) {
        try {
          return await conn.query(sql, ms);
        } catch (err) {
          throw clean(err, sql);
        }
      },
      close: () => conn.close(),
    };
  };
}

/** Wraps a connector so that every statement and answer goes to the run log. */
export function loggingConnector(inner: Connector, log: RunLog | undefined): Connector {
  if (!log) return inner;
  return async (host, timeout) => {
    let conn: SqlConnection;
    try {
      conn = await inner(host, timeout);
    } catch (err) {
      log.line(host.name, '!', `connect failed: ${(err as Error).message}`);
      throw err;
    }
    log.line(host.name, '#', `connected to ${host.socket ?? `${host.host}:${host.port}`} as ${host.user}`);
    return {
      name: conn.name,
      async query(sql, timeoutMs) {
        log.line(host.name, '>', sql);
        const t = Date.now();
        try {
          const rows = await conn.query(sql, timeoutMs);
          log.line(host.name, '<', `${summarize(rows)} (${Date.now() - t} ms)`);
          return rows;
        } catch (err) {
          const e = err as { errno?: number; message?: string };
          log.line(
            host.name,
            '!',
            `${e.errno ? `error ${e.errno}: ` : ''}${e.message ?? String(err)} (${Date.now() - t} ms)`,
          );
          throw err;
        }
      },
      close: () => conn.close(),
    };
  };
}

import type { Dialect } from '../dialect/dialect.js';
import { quote } from '../dialect/dialect.js';
import type { SqlConnection } from './connection.js';
import type { AccountFacts } from '../domain/server-state.js';

export type { AccountFacts } from '../domain/server-state.js';

export async function probeAccounts(conn: SqlConnection, _d: Dialect, replicationUser: string): Promise<AccountFacts> {
  const attempt = async <T>(fn: () => Promise<T>): Promise<T | { error: string }> => {
    try {
      return await fn();
    } catch (err) {
      return { error: (err as Error).message.split('\n')[0] ?? String(err) };
    }
  };
  const grants = await attempt(async () =>
    (await conn.query('SHOW GRANTS', 10_000)).map((r) => String(Object.values(r)[0])),
  );
  const rows = await attempt(() =>
    conn.query(`SELECT Host AS host, plugin FROM mysql.user WHERE User = ${quote(replicationUser)}`, 10_000),
  );
  if ('error' in rows) return { grants, replicationUserHosts: rows };
  const plugins = [...new Set(rows.map((r) => String(r.plugin ?? '')).filter(Boolean))];
  return { grants, replicationUserHosts: rows.map((r) => String(r.host)), replicationUserPlugins: plugins };
}

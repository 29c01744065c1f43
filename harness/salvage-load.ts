// Transactions only the master's binlog holds: the replicas stop receiving, the master acknowledges commits
// (awkward bytes, multi-statement transactions, a DDL), then it is killed. Shared by the salvage tests and the
// bench; every acknowledged COMMIT is returned, so a test can prove each one reached every survivor.
import type { Cluster } from './cluster.js';
import { until } from './load.js';

export const SALVAGE_DDL = [
  'CREATE DATABASE IF NOT EXISTS salvage',
  `CREATE TABLE IF NOT EXISTS salvage.t (id BIGINT PRIMARY KEY, tag VARCHAR(32) NOT NULL, v VARBINARY(255),
    s TEXT CHARACTER SET utf8mb4, n INT NOT NULL DEFAULT 0) ENGINE=InnoDB`,
];

/** Quotes, a backslash, NUL, CR/LF, comment and statement terminators, the words that end transactions. */
const AWKWARD = ["it's", 'back\\slash', '\0nul', 'line\r\nbreak', '*/ ; -- #', 'ROLLBACK', 'COMMIT', '😀 ü'];

/**
 * Stops the IO thread of each replica: from now on only the master's binlog gets what it acknowledges. A
 * connected replica first reads up to the end of its source's binlog (at most 10 s): what was acknowledged
 * before this call is meant to be on it, and an IO thread slowed by a busy machine had not always read it yet
 * (salvage-gtid, run 1 of 10 on a fresh clone: test3 stopped before it read the 10 transactions only it was to hold).
 */
export async function stopReceiving(c: Cluster, replicas: string[]): Promise<void> {
  for (const r of replicas) {
    await until(() => readToSourceEnd(c, r), 10_000, `${r} to read to the end of its source's binlog`);
    await c.query(r, 'STOP SLAVE IO_THREAD');
  }
}

/** The replica's IO thread is not running, or it has read everything its source's binlog holds. */
async function readToSourceEnd(c: Cluster, replica: string): Promise<boolean> {
  const [st] = await c.query<Record<string, string>>(replica, 'SHOW SLAVE STATUS');
  if (st?.Slave_IO_Running !== 'Yes') return true;
  const source = c.names.find((n) => c.source(n) === `${st.Master_Host}:${st.Master_Port}`);
  if (!source) return true;
  const end = await binlogEndOf(c, source);
  return st.Master_Log_File === end.file && Number(st.Read_Master_Log_Pos) === end.position;
}

/**
 * Writes `count` transactions on `master` (as root over its socket), ids from `firstId`: single rows with
 * awkward values and bytes that are not UTF-8, every fifth a multi-statement transaction (insert, update,
 * delete of a row it inserted), and a DDL at `ddlAt` (an index, then a column it fills). `pad` bytes of text
 * per row make the binlog as large as a test needs. Returns the ids whose transaction was acknowledged.
 */
export async function writeOnly(
  c: Cluster,
  master: string,
  o: { firstId: number; count: number; tag: string; ddlAt?: number; pad?: number },
): Promise<number[]> {
  const conn = await c.connect(master);
  const acked: number[] = [];
  try {
    for (let k = 0; k < o.count; k++) {
      const id = o.firstId + k;
      const text = `${AWKWARD[k % AWKWARD.length]} ${o.tag} ${'x'.repeat(o.pad ?? 0)}`;
      const bin = Buffer.from([0, 255, 254, 39, 92, 13, 10, k % 256]);
      if (k === o.ddlAt) await conn.query(`ALTER TABLE salvage.t ADD INDEX tag_${o.tag} (tag)`);
      if (k % 5 === 4) {
        await conn.query('BEGIN');
        await conn.query('INSERT INTO salvage.t (id, tag, v, s) VALUES (?, ?, ?, ?), (?, ?, ?, ?)', [
          id,
          o.tag,
          bin,
          text,
          -id,
          o.tag,
          bin,
          'gone',
        ]);
        await conn.query('UPDATE salvage.t SET n = n + 1, s = CONCAT(s, ?) WHERE id = ?', ["'+'", id]);
        await conn.query('DELETE FROM salvage.t WHERE id = ?', [-id]);
        await conn.query('COMMIT');
      } else {
        await conn.query('INSERT INTO salvage.t (id, tag, v, s) VALUES (?, ?, ?, ?)', [id, o.tag, bin, text]);
      }
      acked.push(id);
    }
  } finally {
    await conn.end();
  }
  return acked;
}

/** The ids of `salvage.t` a server holds (positive: the rows the load keeps). */
export async function salvagedIds(c: Cluster, name: string): Promise<number[]> {
  const rows = await c.query<{ id: string }>(name, 'SELECT id FROM salvage.t WHERE id > 0 ORDER BY id');
  return rows.map((r) => Number(r.id));
}

/** Where a server's binlog ends now. */
export async function binlogEndOf(c: Cluster, name: string): Promise<{ file: string; position: number }> {
  const [r] = await c.query<{ File: string; Position: string }>(name, 'SHOW MASTER STATUS');
  if (!r) throw new Error(`${name} has no binlog`);
  return { file: r.File, position: Number(r.Position) };
}

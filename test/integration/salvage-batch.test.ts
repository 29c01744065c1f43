// The salvage's statement batches (src/dialect/salvage-batch.ts) on a real MariaDB: the decoder's output for
// acknowledged transactions of every kind the salvage load writes (awkward bytes, multi-statement transactions,
// a DDL), joined into batches, each sent as one multi-statement query, then a marker query alone. The marker's
// answer must be the marker alone — a statement answered without the "more results" flag in the middle of a
// batch (MariaDB does that after a BINLOG of row events, hence batches end there) leaves the rest of the batch's
// answers to be read as the marker's — and the replica that applied the batches must hold the master's data.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import mysql from 'mysql2/promise';
import { describe, expect, it } from 'vitest';
import { dataFingerprint } from '../../harness/cluster.js';
import { until } from '../../harness/load.js';
import { basePortOf } from '../../harness/ports.js';
import { SALVAGE_DDL, salvagedIds, writeOnly } from '../../harness/salvage-load.js';
import { batchStatements } from '../../src/dialect/salvage-batch.js';
import { useCluster } from '../cluster-fixture.js';

const END = '/*!*/;';

describe('salvage batches on a real server', () => {
  const cluster = useCluster({ basePort: basePortOf('salvage-batch'), replicas: 1 }, async (c) => {
    for (const sql of SALVAGE_DDL) await c.query('test1', sql);
    await until(async () => (await salvagedIds(c, 'test2').catch(() => null)) !== null, 20_000, 'the table');
  });

  it('each batch is answered up to its last statement, and applying them gives the master data', async () => {
    const c = cluster();
    await c.query('test2', 'STOP SLAVE');
    const [at] = await c.query<{ Exec_Master_Log_Pos: string; Relay_Master_Log_File: string }>(
      'test2',
      'SHOW SLAVE STATUS',
    );
    const acked = await writeOnly(c, 'test1', { firstId: 1, count: 120, tag: 'batch', ddlAt: 60, pad: 2000 });
    await c.query('test1', 'FLUSH BINARY LOGS');
    const file = join(c.dir, 'test1', 'data', at!.Relay_Master_Log_File);
    const printed = execFileSync('mariadb-binlog', [
      '--no-defaults',
      '--skip-annotate-row-events',
      `--start-position=${at!.Exec_Master_Log_Pos}`,
      file,
    ]);
    const batched = batchStatements(printed);
    expect(batched).toBeDefined();
    const text = batched!.toString('latin1');
    const [head, rest] = text.split(`DELIMITER ${END}\n`);
    const block = rest!.split('\nDELIMITER ;')[0]!;
    // Safe to split by the delimiter here: this load's statements are all in the shapes the batcher joins.
    const batches = block
      .split(`${END}\n`)
      .map((b) =>
        b
          .split('\n')
          .filter((l) => !l.startsWith('#') && !l.startsWith('/*!\\C'))
          .join('\n')
          .trim(),
      )
      .filter(Boolean);
    // Fewer than half the round trips of the statements as printed (the point of batching).
    const statements = printed
      .toString('latin1')
      .split('\n')
      .filter((l) => l.endsWith(END)).length;
    expect(batches.length).toBeLessThan(statements / 2);
    const conn = await mysql.createConnection({
      socketPath: join(c.dir, 'test2', 'mariadbd.sock'),
      user: 'root',
      multipleStatements: true,
      charset: 'UTF8_GENERAL_CI',
    });
    try {
      for (const h of head!.split('\n').filter((l) => l.startsWith('/*!'))) await conn.query(h);
      for (const [i, b] of batches.entries()) {
        await conn.query(b.replace(/\/\*!\*\/;?$/, ''));
        // Answers the batch left unread (a statement in its middle answered without the flag) would come now.
        const [marker] = await conn.query(`SELECT ${i} AS marker`);
        expect(marker, `after batch ${i}: ${b.slice(0, 300)}`).toEqual([{ marker: i }]);
      }
    } finally {
      await conn.end();
    }
    expect((await salvagedIds(c, 'test2')).filter((id) => acked.includes(id))).toEqual(acked);
    expect(await dataFingerprint(c, 'test2')).toBe(await dataFingerprint(c, 'test1'));
  });
});

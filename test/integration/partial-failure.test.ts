// A replica that cannot be equalized (its data drifted: a row written with sql_log_bin=0 collides with a
// replicated one) is reported with the reason and left stopped; the others still fail over. Exit 1.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dataFingerprint, mmmf, startCluster, type Cluster } from '../../harness/cluster.js';

describe('one replica cannot be equalized', () => {
  let c: Cluster;
  beforeAll(async () => {
    c = await startCluster({ basePort: 33141, replicas: 3 });
  });
  afterAll(async () => {
    await c?.down();
  });

  it('fails over the others, leaves it stopped with the reason, and exits 1', async () => {
    await c.sandbox('load', '50');
    await c.sandbox('lag', 'test3');
    const [m] = await c.query<{ n: string }>('test1', 'SELECT MAX(id) AS n FROM sbtest.t');
    // Drift on test3, invisible to GTIDs: the id the master is about to use.
    const conn = await c.connect('test3');
    await conn.query('SET SESSION sql_log_bin = 0');
    await conn.query(`INSERT INTO sbtest.t (id, k, pad) VALUES (${Number(m!.n) + 3}, 0, 'drift')`);
    await conn.end();
    await c.sandbox('load', '100');
    await c.sandbox('kill', 'test1');

    const r = await mmmf(['--cfg', c.cfg, '--failover-to', 'test4']);
    expect(r.exitCode, r.stdout).toBe(1);
    expect(r.stdout).toMatch(/✖ test3\s+NOT failed over: .*Duplicate entry/);
    expect(r.stdout).toMatch(/✔ test4\s+new master/);
    expect(r.stdout).toMatch(/✔ test2\s+replica of test4, IO Yes, SQL Yes/);
    expect(r.stdout).toMatch(/did not complete/);
    const [s3] = await c.query<Record<string, string>>('test3', 'SHOW SLAVE STATUS');
    expect([s3?.Slave_IO_Running, s3?.Slave_SQL_Running]).toEqual(['No', 'No']);
    expect(await dataFingerprint(c, 'test2')).toBe(await dataFingerprint(c, 'test4'));
  });
});

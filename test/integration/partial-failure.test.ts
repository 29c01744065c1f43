// A replica that cannot be equalized (its data drifted: a row written with sql_log_bin=0 collides with a
// replicated one) is reported with the reason and left stopped; the others still fail over. Exit 1.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { useCluster } from '../cluster-fixture.js';
import { dataFingerprint, mmmf } from '../../harness/cluster.js';

describe('one replica cannot be equalized', () => {
  const cluster = useCluster({ basePort: 33141, replicas: 3 });

  it('fails over the others, leaves it stopped with the reason, and exits 1', async () => {
    const c = cluster();
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

    // The onFailure hook (not postFailover) runs, with the result on stdin.
    const cfg = join(c.dir, 'hooked.config.ts');
    writeFileSync(
      cfg,
      `import base from './mmmf.config.ts';
      export default { ...base, hooks: { postFailover: 'touch ${join(c.dir, 'post-ran')}',
        onFailure: 'echo "$MMMF_HOOK $MMMF_OUTCOME $MMMF_NEW_MASTER" > ${join(c.dir, 'failure.txt')}; cat > ${join(c.dir, 'failure.json')}' } };\n`,
    );
    const r = await mmmf(['--cfg', cfg, '--failover-to', 'test4']);
    expect(r.exitCode, r.stdout).toBe(1);
    expect(readFileSync(join(c.dir, 'failure.txt'), 'utf8')).toBe('onFailure failed test4\n');
    const result = JSON.parse(readFileSync(join(c.dir, 'failure.json'), 'utf8'));
    expect(result.ok).toBe(false);
    expect(result.hosts.find((h: { name: string }) => h.name === 'test3').ok).toBe(false);
    expect(existsSync(join(c.dir, 'post-ran'))).toBe(false);
    expect(r.stdout).toMatch(/✖ test3\s+NOT failed over: .*Duplicate entry/);
    expect(r.stdout).toMatch(/✔ test4\s+new master/);
    expect(r.stdout).toMatch(/✔ test2\s+replica of test4, IO Yes, SQL Yes/);
    expect(r.stdout).toMatch(/did not complete/);
    const [s3] = await c.query<Record<string, string>>('test3', 'SHOW SLAVE STATUS');
    expect([s3?.Slave_IO_Running, s3?.Slave_SQL_Running]).toEqual(['No', 'No']);
    expect(await dataFingerprint(c, 'test2')).toBe(await dataFingerprint(c, 'test4'));
  });
});

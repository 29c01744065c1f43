// A replica that cannot be equalized (its data drifted: a row written with sql_log_bin=0 collides with a
// replicated one) is reported with the reason and left stopped; the others still fail over. Exit 1.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { useCluster } from '../cluster-fixture.js';
import { mmmf } from '../../harness/cluster.js';
import { ledgerEvidence } from '../../harness/ledger.js';
import { basePortOf } from '../../harness/ports.js';
import { expectIdenticalData, expectNothingLost } from '../expect-data.js';

describe('one replica cannot be equalized', () => {
  const cluster = useCluster({ basePort: basePortOf('partial-failure'), replicas: 3 });

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
    const ev = await ledgerEvidence(c, ['test2', 'test3', 'test4'], 'test1');

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
    // What the report says, on the servers: test3 stopped with the collision as its error, test4 the one writable
    // server, test2 replicating from it with nothing lost.
    const status = async (n: string) => (await c.query<Record<string, string>>(n, 'SHOW SLAVE STATUS'))[0];
    const s3 = await status('test3');
    expect([s3?.Slave_IO_Running, s3?.Slave_SQL_Running, s3?.Last_SQL_Error]).toEqual([
      'No',
      'No',
      expect.stringMatching(/Duplicate entry/),
    ]);
    const s2 = await status('test2');
    expect([String(s2?.Master_Port), s2?.Slave_IO_Running, s2?.Slave_SQL_Running, s2?.Last_Error]).toEqual([
      String(c.port('test4')),
      'Yes',
      'Yes',
      '',
    ]);
    const ro = async (n: string) => Number((await c.query<{ ro: number }>(n, 'SELECT @@read_only AS ro'))[0]?.ro);
    expect([await ro('test2'), await ro('test3'), await ro('test4')]).toEqual([1, 1, 0]);
    await expectNothingLost(c, ['test2', 'test4'], ev);
    await expectIdenticalData(c, ['test2', 'test4']);
  });
});

// --abort after a killed run: before the point of no return it puts the cluster back (replicas on the old
// master again, the fenced old master writable); after promotion it refuses and says to finish instead.
import { describe, expect, it } from 'vitest';
import { useCluster } from '../cluster-fixture.js';
import { mmmf } from '../../harness/cluster.js';
import { until } from '../../harness/load.js';

describe('--abort', () => {
  let promoteStep = 0;
  const cluster = useCluster({ basePort: 33195, replicas: 2 }, async (c) => {
    await c.sandbox('load', '100');
    await c.sandbox('lag', 'test3');
    await c.sandbox('load', '200');
    const plan = JSON.parse(
      (await mmmf(['--cfg', c.cfg, '--failover-to', 'test3', '--fence-live-master', '--dry-run', '--json'])).stdout,
    ).plan;
    promoteStep = plan.steps.find((s: { action: { kind: string } }) => s.action.kind === 'promote').n;
  });

  it('undoes a failover killed before promotion: old master writable, replicas back on it', async () => {
    const c = cluster();
    const killed = await mmmf(['--cfg', c.cfg, '--failover-to', 'test3', '--fence-live-master'], {
      MMMF_TEST_KILL_AT_STEP: String(promoteStep),
    });
    expect(killed.exitCode).toBe(-1);
    const [ro] = await c.query<{ ro: number }>('test1', 'SELECT @@read_only AS ro');
    expect(Number(ro?.ro)).toBe(1); // fenced by the killed run

    const r = await mmmf(['--cfg', c.cfg, '--abort']);
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/Aborted: the cluster replicates from test1 again/);
    const [ro2] = await c.query<{ ro: number }>('test1', 'SELECT @@read_only AS ro');
    expect(Number(ro2?.ro)).toBe(0);
    await c.query('test1', "INSERT INTO sbtest.t (k, pad) VALUES (7, 'after abort')");
    for (const n of ['test2', 'test3']) {
      await until(
        async () => (await c.query(n, "SELECT 1 FROM sbtest.t WHERE pad = 'after abort'")).length === 1,
        10_000,
        `the write on ${n}`,
      );
      const [s] = await c.query<Record<string, string>>(n, 'SHOW SLAVE STATUS');
      expect([String(s?.Master_Port), s?.Slave_IO_Running, s?.Slave_SQL_Running]).toEqual([
        String(c.port('test1')),
        'Yes',
        'Yes',
      ]);
    }
    expect((await mmmf(['--cfg', c.cfg, '--abort'])).stdout).toMatch(/nothing to abort/);
  });

  it('refuses to abort past promotion (exit 3) and the same command finishes the failover', async () => {
    const c = cluster();
    const killed = await mmmf(['--cfg', c.cfg, '--failover-to', 'test3', '--fence-live-master'], {
      MMMF_TEST_KILL_AT_STEP: String(promoteStep + 1),
    });
    expect(killed.exitCode).toBe(-1);
    const r = await mmmf(['--cfg', c.cfg, '--abort']);
    expect(r.exitCode).toBe(3);
    expect(r.stderr).toMatch(/past the point of no return/);
    expect(r.stderr).toMatch(/finish it instead: mmmf --cfg .* --failover-to test3/);
    const fin = await mmmf(['--cfg', c.cfg, '--failover-to', 'test3']);
    expect(fin.exitCode, fin.stdout).toBe(0);
  });
});

// A replica tree (scripts/sandbox.sh --topology tree): test1 → test2 → test4, test1 → test3. A failover keeps
// test4 under its intermediate master test2, which follows the new master: test4 stays served, nothing is lost.
import { describe, expect, it } from 'vitest';
import { mmmf, type Cluster } from '../../harness/cluster.js';
import { EVENTS_DDL, LEDGER_DDL, LEDGER_KEYS, startLoad, until } from '../../harness/load.js';
import { useCluster } from '../cluster-fixture.js';
import { expectIdenticalData } from '../expect-data.js';

const link = async (c: Cluster, n: string) => {
  const [s] = await c.query<Record<string, string>>(n, 'SHOW SLAVE STATUS');
  return s ? `${s.Master_Port} ${s.Slave_IO_Running} ${s.Slave_SQL_Running}` : 'none';
};

describe.each([
  { positioning: 'gtid' as const, basePort: 33461 },
  { positioning: 'file' as const, basePort: 33471 },
])('replica tree ($positioning positioning)', ({ positioning, basePort }) => {
  const cluster = useCluster({ basePort, replicas: 3, topology: 'tree', positioning }, async (c) => {
    await c.query('test1', LEDGER_DDL);
    await c.query('test1', EVENTS_DDL);
    for (const n of c.names) await c.query(n, 'SET GLOBAL slave_net_timeout = 10');
  });

  it('check passes a healthy tree; the master is killed under load; test4 stays under test2, which follows test3', async () => {
    const c = cluster();
    const check = await mmmf(['check', '--cfg', c.cfg]);
    expect(check.exitCode, check.stdout).toBe(0);
    expect(check.stdout).toMatch(/Preflight for a failover to test2, test3\n/);
    expect(check.stdout).toContain('no findings');
    const status = await mmmf(['status', '--cfg', c.cfg]);
    expect(status.stdout).toMatch(/^│ {2}└─ ● test4 /m);

    const load = await startLoad(c, 'test1', 3, 5);
    await until(async () => load.acked.size > 300, 30_000, 'load on the master');
    await c.sandbox('kill', 'test1');
    await load.stop();
    const r = await mmmf(['--cfg', c.cfg, '--failover-to', 'test3']);
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/test4 replicates from test2, not from the old master: it stays under test2/);
    expect(await link(c, 'test2')).toBe(`${c.port('test3')} Yes Yes`);
    expect(await link(c, 'test4')).toBe(`${c.port('test2')} Yes Yes`);

    // A write on the new master reaches the sub-replica through its intermediate master.
    await c.query('test3', 'INSERT INTO sbtest.ledger (writer, seq) VALUES (99, 1)');
    await until(
      async () => (await c.query('test4', 'SELECT 1 FROM sbtest.ledger WHERE writer = 99')).length === 1,
      20_000,
      'the new write on test4',
    );
    for (const n of ['test2', 'test3', 'test4']) {
      const keys = new Set((await c.query<{ k: string }>(n, LEDGER_KEYS)).map((x) => x.k));
      expect(
        [...load.acked].filter((k) => !keys.has(k)),
        `acknowledged writes missing on ${n}`,
      ).toEqual([]);
    }
    await expectIdenticalData(c, ['test2', 'test3', 'test4']);
  });
});

// A replica tree (scripts/sandbox.sh --topology tree): test1 → test2 → test5, test1 → test3, test4. A failover
// keeps test5 under its intermediate master test2, which follows the new master: test5 stays served, nothing is
// lost. When the intermediate master dies too, test5 moves under the new master by GTID (by file: left alone,
// with the reason).
import { describe, expect, it } from 'vitest';
import { mmmf, type Cluster } from '../../harness/cluster.js';
import { ledgerEvidence, MARKER_WRITER } from '../../harness/ledger.js';
import { EVENTS_DDL, LEDGER_DDL, startLoad, until } from '../../harness/load.js';
import { basePortOf } from '../../harness/ports.js';
import { useCluster } from '../cluster-fixture.js';
import { expectIdenticalData, expectNothingLost } from '../expect-data.js';

/** The reachable servers that accept writes (read_only off). */
const writable = async (c: Cluster) => {
  const out: string[] = [];
  for (const n of c.names) {
    const rows = await c.query<{ ro: number }>(n, 'SELECT @@read_only AS ro').catch(() => undefined);
    if (rows && Number(rows[0]?.ro) === 0) out.push(n);
  }
  return out;
};
const link = async (c: Cluster, n: string) => {
  const [s] = await c.query<Record<string, string>>(n, 'SHOW SLAVE STATUS');
  return s ? `${s.Master_Port} ${s.Slave_IO_Running} ${s.Slave_SQL_Running}` : 'none';
};

describe.each([
  { positioning: 'gtid' as const, basePort: basePortOf('tree-gtid') },
  { positioning: 'file' as const, basePort: basePortOf('tree-file') },
])('replica tree ($positioning positioning)', ({ positioning, basePort }) => {
  const cluster = useCluster({ basePort, replicas: 4, topology: 'tree', positioning }, async (c) => {
    await c.query('test1', LEDGER_DDL);
    await c.query('test1', EVENTS_DDL);
    for (const n of c.names) await c.query(n, 'SET GLOBAL slave_net_timeout = 10');
  });

  it('check passes a healthy tree; the master is killed under load; test5 stays under test2, which follows test3', async () => {
    const c = cluster();
    const check = await mmmf(['check', '--cfg', c.cfg]);
    expect(check.exitCode, check.stdout).toBe(0);
    expect(check.stdout).toMatch(/Preflight for a failover to test2, test3, test4\n/);
    expect(check.stdout).toContain('no findings');
    const status = await mmmf(['status', '--cfg', c.cfg]);
    expect(status.stdout).toMatch(/^│ {2}└─ ● test5 /m);

    const load = await startLoad(c, 'test1', 3, 5);
    await until(async () => load.acked.size > 300, 30_000, 'load on the master');
    await load.stillWriting();
    const killedAt = Date.now();
    await c.sandbox('kill', 'test1'); // under load
    await load.stop();
    expect(load.errors.filter((e) => e.at < killedAt)).toEqual([]);
    // Replication is asynchronous: a write acknowledged just before the crash may have reached no replica. What
    // must not be lost is what reached any, read from the servers: rows applied, relay logs, and the dead master's
    // binlog up to where each IO thread had read (test5's, under test2, holds nothing test2 lacks).
    const survivors = ['test2', 'test3', 'test4', 'test5'];
    const ev = await ledgerEvidence(c, survivors, 'test1');
    const r = await mmmf(['--cfg', c.cfg, '--failover-to', 'test3']);
    expect.soft(r.exitCode, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/test5 replicates from test2, not from the old master: it stays under test2/);
    expect(await link(c, 'test2')).toBe(`${c.port('test3')} Yes Yes`);
    expect(await link(c, 'test4')).toBe(`${c.port('test3')} Yes Yes`);
    expect(await link(c, 'test5')).toBe(`${c.port('test2')} Yes Yes`);
    expect(await writable(c)).toEqual(['test3']);

    // A write on the new master reaches the sub-replica through its intermediate master.
    await c.query('test3', `INSERT INTO sbtest.ledger (writer, seq) VALUES (${MARKER_WRITER}, 1)`);
    await until(
      async () => (await c.query('test5', `SELECT 1 FROM sbtest.ledger WHERE writer = ${MARKER_WRITER}`)).length === 1,
      20_000,
      'the new write on test5',
    );
    expect([...ev.longest.values()].reduce((n, l) => n + l.seq, 0)).toBeGreaterThan(300);
    await expectNothingLost(c, survivors, ev, load.attempted);
    await expectIdenticalData(c, survivors);
  });

  it('the intermediate master dies too: its replica moves under the new master by GTID, or is left alone by file', async () => {
    const c = cluster();
    await c.sandbox('load', '100');
    await c.sandbox('kill', 'test2'); // test5 loses its source...
    await c.sandbox('load', '100'); // ...and falls behind
    await c.sandbox('kill', 'test3');
    const ev = await ledgerEvidence(c, ['test4', 'test5'], 'test3');
    const r = await mmmf(['--cfg', c.cfg, '--failover-to', 'test4', '--force']); // minutes after the first one
    expect.soft(r.exitCode, r.stdout + r.stderr).toBe(0);
    expect(await writable(c)).toEqual(['test4']);
    if (positioning === 'gtid') {
      expect(r.stdout).toMatch(
        /test5 replicated from test2, which does not answer: it moves under the new master by GTID/,
      );
      expect(await link(c, 'test5')).toBe(`${c.port('test4')} Yes Yes`);
      await expectNothingLost(c, ['test4', 'test5'], ev);
      await expectIdenticalData(c, ['test4', 'test5']);
    } else {
      expect(r.stdout).toMatch(
        /test5 is left out and will not be touched: its intermediate master test2 does not answer/,
      );
      expect(await link(c, 'test5')).toMatch(new RegExp(`^${c.port('test2')} `));
      await expectNothingLost(c, ['test4'], ev);
    }
  });
});

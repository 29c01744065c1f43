// Scenario (vi): the old master still answers when the failover starts. A plain --failover-to is refused and
// changes nothing; with --fence-live-master it is fenced, its last transactions reach every replica, and no
// acknowledged write is lost.
import { describe, expect, it } from 'vitest';
import { useCluster } from '../cluster-fixture.js';
import { mmmf, replicationSnapshot } from '../../harness/cluster.js';
import { ledgerEvidence } from '../../harness/ledger.js';
import { EVENTS_DDL, LEDGER_DDL, LEDGER_KEYS, gtidSeq, startLoad, until } from '../../harness/load.js';
import { basePortOf } from '../../harness/ports.js';
import { expectIdenticalData, expectNothingLost } from '../expect-data.js';

describe('failover with the old master still alive', () => {
  const cluster = useCluster({ basePort: basePortOf('live-master'), replicas: 3 });

  it('refuses a plain --failover-to while the master answers: nothing changes, the master stays writable', async () => {
    const c = cluster();
    const before = await replicationSnapshot(c, ['test1', 'test2', 'test3', 'test4']);
    const r = await mmmf(['--cfg', c.cfg, '--failover-to', 'test3']);
    expect(r.exitCode, r.stdout + r.stderr).toBe(3);
    expect(r.stderr).toMatch(/the old master test1 \(127\.0\.0\.1:\d+\) answers: it is alive/);
    expect(r.stderr).toMatch(/use --switchover-to test3.*add --fence-live-master/s);
    expect(await replicationSnapshot(c, ['test1', 'test2', 'test3', 'test4'])).toEqual(before);
    const dry = await mmmf(['--cfg', c.cfg, '--failover-to', 'test3', '--dry-run']);
    expect(dry.exitCode).toBe(3); // a dry run says so too
  });

  it('fences the old master, loses no acknowledged write, and leaves exactly one writable server', async () => {
    const c = cluster();
    await c.query('test1', EVENTS_DDL);
    await c.query('test1', LEDGER_DDL);
    await c.query('test4', 'STOP SLAVE IO_THREAD'); // one replica lags; it must still end up complete
    const load = await startLoad(c, 'test1', 3, 11);
    await until(async () => (await gtidSeq(c, 'test1')) > 800, 60_000, 'load on the master');

    await load.stillWriting();
    const started = Date.now();
    const r = await mmmf(['--cfg', c.cfg, '--failover-to', 'test3', '--fence-live-master']); // the writers are still writing
    await load.stop();
    expect(load.errors.filter((e) => e.at < started)).toEqual([]); // they failed only once fenced
    expect(load.errors.length).toBe(3);
    expect.soft(r.exitCode, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/Make the old master read-only/);
    expect(r.stdout).toMatch(/killed \d+ client connections?/);
    expect(load.acked.size).toBeGreaterThan(100);

    for (const n of ['test1', 'test2', 'test3', 'test4']) {
      const keys = new Set((await c.query<{ k: string }>(n, LEDGER_KEYS)).map((x) => x.k));
      const lost = [...load.acked].filter((k) => !keys.has(k));
      expect(lost, `acknowledged writes missing on ${n}`).toEqual([]);
    }
    // Every writer's ledger gap-free everywhere, as long as what the fenced master holds.
    await expectNothingLost(
      c,
      ['test1', 'test2', 'test3', 'test4'],
      await ledgerEvidence(c, ['test1']),
      load.attempted,
    );
    await expectIdenticalData(c, ['test1', 'test2', 'test3', 'test4']);
    const ro = async (n: string) => Number((await c.query<{ ro: number }>(n, 'SELECT @@read_only AS ro'))[0]?.ro);
    expect([await ro('test1'), await ro('test2'), await ro('test3'), await ro('test4')]).toEqual([1, 1, 0, 1]);
    for (const n of ['test2', 'test4']) {
      const [s] = await c.query<Record<string, string>>(n, 'SHOW SLAVE STATUS');
      expect([String(s?.Master_Port), s?.Slave_IO_Running, s?.Slave_SQL_Running]).toEqual([
        String(c.port('test3')),
        'Yes',
        'Yes',
      ]);
    }
  });
});

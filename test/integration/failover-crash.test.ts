// Scenario (i): the master is killed -9 under load with replicas at three different positions (one thousands
// of transactions behind); failing over to the MOST lagging replica must lose nothing any replica received.
import { describe, expect, it } from 'vitest';
import { useCluster } from '../cluster-fixture.js';
import { mmmf } from '../../harness/cluster.js';
import { EVENTS_DDL, LEDGER_DDL, LEDGER_KEYS, gtidSeq, startLoad, until } from '../../harness/load.js';
import { expectIdenticalData } from '../expect-data.js';

describe('failover after a master crash under load', () => {
  const cluster = useCluster({ basePort: 33101, replicas: 3 });

  it('fails over to the most lagging replica with identical data and nothing lost', async () => {
    const c = cluster();
    await c.query('test1', EVENTS_DDL);
    await c.query('test1', LEDGER_DDL);
    const load = await startLoad(c, 'test1', 4, 7);
    const master = () => gtidSeq(c, 'test1');
    // test4 stops receiving first and falls thousands of transactions behind, test3 later, test2 never.
    await until(async () => (await master()) > 200, 30_000, 'first load');
    await c.query('test4', 'STOP SLAVE IO_THREAD');
    const test4At = await gtidSeq(c, 'test4', 'gtid_slave_pos');
    await until(async () => (await master()) > test4At + 2500, 120_000, 'test4 to fall 2500 behind');
    await c.query('test3', 'STOP SLAVE IO_THREAD');
    const test3At = await gtidSeq(c, 'test3', 'gtid_slave_pos');
    await until(async () => (await master()) > test3At + 500, 60_000, 'test3 to fall 500 behind');
    // test2 keeps receiving but stops applying: the newest transactions exist only in its relay log.
    await c.query('test2', 'STOP SLAVE SQL_THREAD');
    const test2At = await gtidSeq(c, 'test2', 'gtid_slave_pos');
    await until(async () => (await master()) > test2At + 200, 60_000, 'test2 to hold 200 unapplied transactions');
    await c.sandbox('kill', 'test1'); // while the writers are still writing
    await load.stop();

    // What reached any replica before the failover: rows applied, and GTIDs received (maybe not yet applied).
    const before = new Set<string>();
    let receivedMax = 0;
    for (const n of ['test2', 'test3', 'test4']) {
      for (const r of await c.query<{ k: string }>(n, LEDGER_KEYS)) before.add(r.k);
      const [s] = await c.query<{ Gtid_IO_Pos: string }>(n, 'SHOW SLAVE STATUS');
      receivedMax = Math.max(receivedMax, Number(/0-\d+-(\d+)/.exec(s?.Gtid_IO_Pos ?? '')?.[1] ?? 0));
    }
    const lag4 = receivedMax - (await gtidSeq(c, 'test4', 'gtid_slave_pos'));
    expect(lag4).toBeGreaterThan(2500);
    expect(receivedMax - (await gtidSeq(c, 'test2', 'gtid_slave_pos'))).toBeGreaterThan(200); // only in test2's relay log

    const r = await mmmf(['--cfg', c.cfg, '--failover-to', 'test4']);
    expect(r.stderr).toBe('');
    expect(r.exitCode, r.stdout).toBe(0);
    expect(r.stdout).toContain('Failover to test4 done');
    expect(r.stdout).not.toContain('repl-secret');

    const survivors = ['test2', 'test3', 'test4'];
    await expectIdenticalData(c, survivors);
    for (const n of survivors) {
      expect(await gtidSeq(c, n, 'gtid_slave_pos')).toBeGreaterThanOrEqual(receivedMax);
      const rows = new Set((await c.query<{ k: string }>(n, LEDGER_KEYS)).map((x) => x.k));
      const lost = [...before].filter((k) => !rows.has(k));
      expect(lost, `${n} lost transactions`).toEqual([]);
    }
    // Exactly one writable server, and every replica runs from it.
    const [ro4] = await c.query<{ ro: number }>('test4', 'SELECT @@read_only AS ro');
    expect(Number(ro4?.ro)).toBe(0);
    for (const n of ['test2', 'test3']) {
      const [s] = await c.query<Record<string, string>>(n, 'SHOW SLAVE STATUS');
      expect([String(s?.Master_Port), s?.Slave_IO_Running, s?.Slave_SQL_Running, s?.Last_Error]).toEqual([
        String(c.port('test4')),
        'Yes',
        'Yes',
        '',
      ]);
      const [ro] = await c.query<{ ro: number }>(n, 'SELECT @@read_only AS ro');
      expect(Number(ro?.ro)).toBe(1);
    }
    // A fresh write on the new master reaches every replica.
    await c.query('test4', "INSERT INTO sbtest.events (writer, seq, kind) VALUES (99, 1, 'after')");
    for (const n of ['test2', 'test3']) {
      await until(
        async () => (await c.query(n, 'SELECT 1 FROM sbtest.events WHERE writer = 99')).length === 1,
        10_000,
        `the new write on ${n}`,
      );
    }
  });
});

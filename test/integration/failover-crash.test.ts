// Scenario (i): the master is killed -9 under load with replicas at three different positions (one thousands
// of transactions behind); failing over to the MOST lagging replica must lose nothing any replica received —
// judged by content: every writer's ledger on every survivor is gap-free and as long as the longest any replica
// had received (its relay log included), read from the servers' tables and logs before mmmf runs.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readLogs, relayLogFiles } from '../../harness/binlog-text.js';
import { useCluster } from '../cluster-fixture.js';
import { mmmf } from '../../harness/cluster.js';
import { ledgerEvidence, MARKER_WRITER } from '../../harness/ledger.js';
import { EVENTS_DDL, LEDGER_DDL, gtidSeq, startLoad, until } from '../../harness/load.js';
import { basePortOf } from '../../harness/ports.js';
import { expectIdenticalData, expectNothingLost } from '../expect-data.js';

describe('failover after a master crash under load', () => {
  const cluster = useCluster({ basePort: basePortOf('failover-crash'), replicas: 3 });

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
    await load.stillWriting(); // every writer acknowledged another commit just now...
    const killedAt = Date.now();
    await c.sandbox('kill', 'test1'); // ...and the master dies while they are still writing
    await load.stop();
    expect(load.errors.filter((e) => e.at < killedAt)).toEqual([]); // no writer had failed before the crash

    // What reached any replica before the failover, read from the servers: applied rows, relay logs, and the
    // dead master's binlog up to where each IO thread had read.
    const survivors = ['test2', 'test3', 'test4'];
    const ev = await ledgerEvidence(c, survivors, 'test1');
    const receivedMax = Math.max(...survivors.map((n) => ev.replicas[n]!.gtid));
    const lag4 = receivedMax - (await gtidSeq(c, 'test4', 'gtid_slave_pos'));
    expect(lag4).toBeGreaterThan(2500);
    expect(receivedMax - (await gtidSeq(c, 'test2', 'gtid_slave_pos'))).toBeGreaterThan(200); // only in test2's relay log
    // test2's relay log, read offline, holds more of every writer's ledger than it had applied.
    const applied2 = await c.query<{ w: number; s: number }>(
      'test2',
      'SELECT writer AS w, MAX(seq) AS s FROM sbtest.ledger WHERE writer BETWEEN 1 AND 4 GROUP BY writer',
    );
    const relay2 = new Map<number, number>();
    for (const t of await readLogs(relayLogFiles(join(c.dir, 'test2', 'data')))) {
      for (const [w, s] of t.ledger) relay2.set(w, Math.max(relay2.get(w) ?? 0, s));
    }
    expect(applied2.map((x) => relay2.get(Number(x.w))! > Number(x.s))).toEqual([true, true, true, true]);

    const r = await mmmf(['--cfg', c.cfg, '--failover-to', 'test4']);
    // Soft: whatever mmmf says, the servers are judged below.
    expect.soft(r.stderr).toBe('');
    expect.soft(r.exitCode, r.stdout).toBe(0);
    expect(r.stdout).toContain('Failover to test4 done');
    expect(r.stdout).not.toContain('repl-secret');

    await expectIdenticalData(c, survivors);
    await expectNothingLost(c, survivors, ev, load.attempted);
    for (const n of survivors) expect(await gtidSeq(c, n, 'gtid_slave_pos')).toBeGreaterThanOrEqual(receivedMax);
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
    await c.query('test4', `INSERT INTO sbtest.ledger (writer, seq) VALUES (${MARKER_WRITER}, 1)`);
    for (const n of ['test2', 'test3']) {
      await until(
        async () => (await c.query(n, `SELECT 1 FROM sbtest.ledger WHERE writer = ${MARKER_WRITER}`)).length === 1,
        10_000,
        `the new write on ${n}`,
      );
    }
  });
});

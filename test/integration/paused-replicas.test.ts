// Received-but-unapplied transactions must survive a failover however the replica holding them was left:
// SQL thread paused with the IO thread still retrying, or both threads stopped (where MariaDB in GTID mode
// would discard the relay log on the next thread start).
import { describe, expect, it } from 'vitest';
import { useCluster } from '../cluster-fixture.js';
import { mmmf } from '../../harness/cluster.js';
import { ledgerEvidence } from '../../harness/ledger.js';
import { gtidSeq } from '../../harness/load.js';
import { basePortOf } from '../../harness/ports.js';
import { expectIdenticalData, expectNothingLost } from '../expect-data.js';

describe('replicas whose newest transactions are only in their relay log', () => {
  const cluster = useCluster({ basePort: basePortOf('paused-replicas'), replicas: 3 });

  it('applies them before comparing, and equalizes everyone else from them', async () => {
    const c = cluster();
    await c.sandbox('load', '100');
    await c.sandbox('lag', 'test4'); // test4: 300 behind everyone
    await c.sandbox('load', '300');
    await c.query('test3', 'STOP SLAVE SQL_THREAD'); // test3: IO keeps receiving, SQL paused
    await c.query('test2', 'STOP SLAVE SQL_THREAD'); // test2: both threads stopped after 200 more
    await c.sandbox('load', '200');
    await c.query('test2', 'STOP SLAVE IO_THREAD');
    await c.sandbox('load', '150'); // only test3 receives these (unapplied)
    await c.sandbox('kill', 'test1');
    const survivors = ['test2', 'test3', 'test4'];
    // Every sandbox load transaction adds the next row of ledger writer 100: what each replica received is read
    // back from its table, its relay log and the dead master's binlog.
    const ev = await ledgerEvidence(c, survivors, 'test1');
    const received = Math.max(...survivors.map((n) => ev.replicas[n]!.gtid));
    expect(ev.longest.get(100)).toEqual({ seq: expect.any(Number), on: 'test3' }); // only test3 received the last 150
    expect(ev.longest.get(100)!.seq).toBeGreaterThan(600);
    expect(received).toBeGreaterThan(700);
    expect(await gtidSeq(c, 'test3', 'gtid_slave_pos')).toBeLessThan(received - 300);

    const dry = await mmmf(['--cfg', c.cfg, '--failover-to', 'test4', '--dry-run']);
    expect(dry.stdout).toMatch(
      /test2: Apply its relay log by file position[\s\S]*MASTER_USE_GTID = no, RELAY_LOG_FILE = 'relay-bin\.\d+', RELAY_LOG_POS = \d+/,
    );
    expect(dry.stdout).toMatch(/test3: Resume the paused SQL thread/);

    const r = await mmmf(['--cfg', c.cfg, '--failover-to', 'test4']);
    expect.soft(r.exitCode, r.stdout + r.stderr).toBe(0);
    await expectNothingLost(c, survivors, ev);
    for (const n of survivors) expect(await gtidSeq(c, n, 'gtid_slave_pos')).toBe(received);
    await expectIdenticalData(c, survivors);
  });
});

// Received-but-unapplied transactions must survive a failover however the replica holding them was left:
// SQL thread paused with the IO thread still retrying, or both threads stopped (where MariaDB in GTID mode
// would discard the relay log on the next thread start).
import { describe, expect, it } from 'vitest';
import { useCluster } from '../cluster-fixture.js';
import { mmmf } from '../../harness/cluster.js';
import { gtidSeq } from '../../harness/load.js';
import { expectIdenticalData } from '../expect-data.js';

describe('replicas whose newest transactions are only in their relay log', () => {
  const cluster = useCluster({ basePort: 33131, replicas: 3 });

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
    const received = Math.max(
      ...(await Promise.all(
        ['test2', 'test3', 'test4'].map(async (n) => {
          const [s] = await c.query<{ Gtid_IO_Pos: string }>(n, 'SHOW SLAVE STATUS');
          return Number(/0-1-(\d+)/.exec(s?.Gtid_IO_Pos ?? '')?.[1] ?? 0);
        }),
      )),
    );
    expect(received).toBeGreaterThan(700);
    expect(await gtidSeq(c, 'test3', 'gtid_slave_pos')).toBeLessThan(received - 300);

    const dry = await mmmf(['--cfg', c.cfg, '--failover-to', 'test4', '--dry-run']);
    expect(dry.stdout).toMatch(
      /test2: Apply its relay log by file position[\s\S]*MASTER_USE_GTID = no, RELAY_LOG_FILE = 'relay-bin\.\d+', RELAY_LOG_POS = \d+/,
    );
    expect(dry.stdout).toMatch(/test3: Resume the paused SQL thread/);

    const r = await mmmf(['--cfg', c.cfg, '--failover-to', 'test4']);
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    for (const n of ['test2', 'test3', 'test4']) expect(await gtidSeq(c, n, 'gtid_slave_pos')).toBe(received);
    await expectIdenticalData(c, ['test2', 'test3', 'test4']);
  });
});

// kill -9 of mmmf at every step boundary of a failover, then the same command again: the journal makes
// the second run finish exactly the printed plan, and the cluster converges with nothing lost.
import { describe, expect, it } from 'vitest';
import { dataFingerprint, mmmf, startCluster, type Cluster } from '../../harness/cluster.js';
import { gtidSeq } from '../../harness/load.js';

async function crashedCluster(): Promise<Cluster> {
  const c = await startCluster({ basePort: 33191, replicas: 2 });
  try {
    await c.sandbox('load', '100');
    await c.sandbox('lag', 'test3'); // the target falls 400 behind test2
    await c.sandbox('load', '400');
    await c.query('test2', 'STOP SLAVE SQL_THREAD'); // and test2 holds 50 only in its relay log
    await c.sandbox('load', '50');
    await c.sandbox('kill', 'test1');
    return c;
  } catch (err) {
    await c.down();
    throw err;
  }
}

describe('kill -9 mid-failover, then resume', () => {
  it('converges with nothing lost whichever step the first run died before', async () => {
    let steps = 0;
    {
      const c = await crashedCluster();
      try {
        steps = JSON.parse((await mmmf(['--cfg', c.cfg, '--failover-to', 'test3', '--dry-run', '--json'])).stdout).plan.steps.length;
      } finally {
        await c.down();
      }
    }
    expect(steps).toBeGreaterThan(8);
    for (let k = 1; k <= steps; k++) {
      const c = await crashedCluster();
      try {
        const [s] = await c.query<{ Gtid_IO_Pos: string }>('test2', 'SHOW SLAVE STATUS');
        const received = Number(/0-1-(\d+)/.exec(s!.Gtid_IO_Pos)![1]);
        const first = await mmmf(['--cfg', c.cfg, '--failover-to', 'test3'], { MMMF_TEST_KILL_AT_STEP: String(k) });
        expect(first.exitCode, `k=${k}: ${first.stdout}${first.stderr}`).toBe(-1); // killed by SIGKILL

        if (k === Math.ceil(steps / 2)) {
          const other = await mmmf(['--cfg', c.cfg, '--failover-to', 'test2']);
          expect(other.exitCode).toBe(3);
          expect(other.stderr).toMatch(/found an unfinished failover to test3 .*refusing to start another one to test2/);
          const dry = await mmmf(['--cfg', c.cfg, '--failover-to', 'test3', '--dry-run']);
          expect(dry.stdout).toMatch(/Found an unfinished failover to test3/);
        }

        const again = await mmmf(['--cfg', c.cfg, '--failover-to', 'test3']);
        expect(again.exitCode, `k=${k}: ${again.stdout}${again.stderr}`).toBe(0);
        expect(again.stdout).toMatch(/Resuming an unfinished failover to test3/);
        expect(await dataFingerprint(c, 'test2')).toBe(await dataFingerprint(c, 'test3'));
        expect(await gtidSeq(c, 'test3', 'gtid_slave_pos')).toBe(received);
        const [r2] = await c.query<Record<string, string>>('test2', 'SHOW SLAVE STATUS');
        expect([String(r2?.Master_Port), r2?.Slave_IO_Running, r2?.Slave_SQL_Running], `k=${k}`).toEqual([String(c.port('test3')), 'Yes', 'Yes']);
        const done = await mmmf(['--cfg', c.cfg, '--failover-to', 'test3', '--force']);
        expect(done.stdout, `k=${k}`).toMatch(/already is the master/); // the journal is closed
      } finally {
        await c.down();
      }
    }
  }, 600_000);
});

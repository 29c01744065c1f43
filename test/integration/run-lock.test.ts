// Two runs against one cluster must never race into a split brain: the second refuses (exit 3) and names
// the holder. A failover right after another is refused (anti-flap) unless --force.
import { describe, expect, it } from 'vitest';
import { useCluster } from '../cluster-fixture.js';
import { mmmf } from '../../harness/cluster.js';
import { until } from '../../harness/load.js';
import { SERVER_LOCK_NAME } from '../../src/safety/run-lock.js';

describe('single-run lock and anti-flap', () => {
  const cluster = useCluster({ basePort: 33161, replicas: 3 }, async (c) => {
    await c.sandbox('load', '200');
    await c.sandbox('kill', 'test1');
  });

  it('refuses while another connection holds the cluster lock on a server, naming it', async () => {
    const c = cluster();
    const holder = await c.connect('test3');
    try {
      const [rows] = await holder.query(`SELECT GET_LOCK('${SERVER_LOCK_NAME}', 0) AS r`);
      expect((rows as { r: number }[])[0]!.r).toBe(1);
      const r = await mmmf(['--cfg', c.cfg, '--failover-to', 'test2']);
      expect(r.exitCode).toBe(3);
      expect(r.stderr).toMatch(/another mmmf run is working on this cluster/);
      expect(r.stderr).toMatch(/test3: held by connection \d+ \(root@(localhost|127\.0\.0\.1:\d+), for \d+ s\)/);
    } finally {
      await holder.end();
    }
    // The server releases the lock once it has processed the disconnect: the next test needs it free.
    await until(
      async () =>
        Number((await c.query<{ f: number }>('test3', `SELECT IS_FREE_LOCK('${SERVER_LOCK_NAME}') AS f`))[0]?.f) === 1,
      10_000,
      'the lock to be released',
    );
    const [s] = await c.query<Record<string, string>>('test2', 'SHOW SLAVE STATUS');
    expect(String(s?.Master_Port)).toBe(String(c.port('test1'))); // nothing changed
  });

  it('lets exactly one of two concurrent runs fail over; the other refuses with exit 3', async () => {
    const c = cluster();
    const env = { MMMF_TEST_STEP_DELAY_MS: '150' };
    const [a, b] = await Promise.all([
      mmmf(['--cfg', c.cfg, '--failover-to', 'test2'], env),
      mmmf(['--cfg', c.cfg, '--failover-to', 'test3'], env),
    ]);
    expect([a.exitCode, b.exitCode].sort((x, y) => x - y)).toEqual([0, 3]);
    const loser = a.exitCode === 3 ? a : b;
    expect(loser.stderr).toMatch(/another mmmf run (holds this cluster's lock|is working on this cluster)/);
    expect(loser.stderr).toMatch(/held by (pid \d+|connection \d+)/);
  });

  it('refuses a second failover within antiFlapMinutes unless --force', async () => {
    const c = cluster();
    // The new master is alive: --fence-live-master, so that anti-flap is what refuses.
    const r = await mmmf(['--cfg', c.cfg, '--failover-to', 'test4', '--fence-live-master']);
    expect(r.exitCode).toBe(3);
    expect(r.stderr).toMatch(/last failover of this cluster .* finished [\d.]+ minutes ago/);
    expect(r.stderr).toMatch(/add --force/);
    const forced = await mmmf(['--cfg', c.cfg, '--failover-to', 'test4', '--force', '--fence-live-master']);
    expect(forced.exitCode, forced.stdout + forced.stderr).toBe(0);
    expect(forced.stdout).toMatch(/Failover to test4 done/);
  });
});

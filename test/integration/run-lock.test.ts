// Two runs against one cluster must never race into a split brain: the second refuses (exit 3) and names
// the holder. A failover right after another is refused (anti-flap) unless --force. Judged on the servers:
// one writable server, every other replicating from it, one journaled run, nothing changed by a refusal.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { useCluster } from '../cluster-fixture.js';
import { mmmf, replicationSnapshot, type Cluster } from '../../harness/cluster.js';
import { readJournals } from '../../harness/journal-view.js';
import { ledgerEvidence, type LedgerEvidence } from '../../harness/ledger.js';
import { until } from '../../harness/load.js';
import { SERVER_LOCK_NAME } from '../../src/safety/run-lock.js';
import { basePortOf } from '../../harness/ports.js';
import { expectIdenticalData, expectNothingLost } from '../expect-data.js';

const REPLICAS = ['test2', 'test3', 'test4'];

const readOnly = async (c: Cluster, n: string) =>
  Number((await c.query<{ ro: number }>(n, 'SELECT @@read_only AS ro'))[0]?.ro);
const writable = async (c: Cluster) => {
  const ro = await Promise.all(REPLICAS.map((n) => readOnly(c, n)));
  return REPLICAS.filter((_, i) => ro[i] === 0);
};

/** `master` is the only writable server and every other replica replicates from it (a fenced old master aside). */
async function expectMaster(c: Cluster, master: string, fenced?: string) {
  expect(await writable(c)).toEqual([master]);
  for (const n of REPLICAS.filter((x) => x !== master && x !== fenced)) {
    const [s] = await c.query<Record<string, string>>(n, 'SHOW SLAVE STATUS');
    expect([n, String(s?.Master_Port), s?.Slave_IO_Running, s?.Slave_SQL_Running]).toEqual([
      n,
      String(c.port(master)),
      'Yes',
      'Yes',
    ]);
  }
}

describe('single-run lock and anti-flap', () => {
  let ev: LedgerEvidence;
  const cluster = useCluster({ basePort: basePortOf('run-lock'), replicas: 3 }, async (c) => {
    await c.sandbox('load', '200');
    await c.sandbox('kill', 'test1');
    ev = await ledgerEvidence(c, REPLICAS, 'test1');
  });

  it('refuses while another connection holds the cluster lock on a server, naming it', async () => {
    const c = cluster();
    const before = await replicationSnapshot(c, REPLICAS);
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
    expect(await replicationSnapshot(c, REPLICAS)).toEqual(before); // nothing changed
    expect(readJournals(join(c.dir, 'state'))).toEqual({ closed: [] }); // no run began
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
    // On the servers: exactly one failover happened, to the winner's target.
    const winner = a.exitCode === 0 ? 'test2' : 'test3';
    await expectMaster(c, winner);
    const j = readJournals(join(c.dir, 'state'));
    expect(j.open).toBeUndefined();
    expect(j.closed.map((run) => run.find((r) => r.type === 'start'))).toEqual([
      expect.objectContaining({ target: winner }),
    ]);
    await expectNothingLost(c, REPLICAS, ev);
    await expectIdenticalData(c, REPLICAS);
  });

  it('refuses a second failover within antiFlapMinutes unless --force', async () => {
    const c = cluster();
    const [old] = await writable(c); // the previous test's winner
    const before = await replicationSnapshot(c, REPLICAS);
    // The new master is alive: --fence-live-master, so that anti-flap is what refuses.
    const r = await mmmf(['--cfg', c.cfg, '--failover-to', 'test4', '--fence-live-master']);
    expect(r.exitCode).toBe(3);
    expect(r.stderr).toMatch(/last failover of this cluster .* finished [\d.]+ minutes ago/);
    expect(r.stderr).toMatch(/add --force/);
    expect(await replicationSnapshot(c, REPLICAS)).toEqual(before);
    const forced = await mmmf(['--cfg', c.cfg, '--failover-to', 'test4', '--force', '--fence-live-master']);
    expect(forced.exitCode, forced.stdout + forced.stderr).toBe(0);
    expect(forced.stdout).toMatch(/Failover to test4 done/);
    await expectMaster(c, 'test4', old);
    await expectNothingLost(c, REPLICAS, ev);
  });
});

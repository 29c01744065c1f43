// --abort after a killed run: before the point of no return it puts the cluster back (replicas on the old
// master again, the fenced old master writable); after promotion — or a promotion begun and killed half-way —
// it refuses and says to finish instead, and the same command finishes the failover. Where each run died is read from its journal; every claim about the
// cluster is checked on the servers.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { useCluster } from '../cluster-fixture.js';
import { mmmf, replicationSnapshot, type Cluster } from '../../harness/cluster.js';
import { allRunsEnded, killedBeforeStep, killedInStep, readJournals } from '../../harness/journal-view.js';
import { ledgerEvidence } from '../../harness/ledger.js';
import { until } from '../../harness/load.js';
import { basePortOf } from '../../harness/ports.js';
import { expectIdenticalData, expectNothingLost } from '../expect-data.js';

const ALL = ['test1', 'test2', 'test3'];
const readOnly = async (c: Cluster, n: string) =>
  Number((await c.query<{ ro: number }>(n, 'SELECT @@read_only AS ro'))[0]?.ro);
const link = async (c: Cluster, n: string) => {
  const [s] = await c.query<Record<string, string>>(n, 'SHOW SLAVE STATUS');
  return s ? `${s.Master_Port} ${s.Slave_IO_Running} ${s.Slave_SQL_Running}` : 'none';
};
const journals = (c: Cluster) => readJournals(join(c.dir, 'state'));

/**
 * `args` (the failover to test3) finishes it, on the servers: test3 the one writable master, test2 replicating from
 * it, the fenced old master read-only; everything it had committed is on both, and the journal is closed.
 */
async function expectFinishedBy(c: Cluster, args: string[]): Promise<void> {
  const fin = await mmmf(args);
  expect.soft(fin.exitCode, fin.stdout).toBe(0);
  expect(await Promise.all(ALL.map((n) => readOnly(c, n)))).toEqual([1, 1, 0]);
  expect(await link(c, 'test2')).toBe(`${c.port('test3')} Yes Yes`);
  await expectNothingLost(c, ALL, await ledgerEvidence(c, ['test1']));
  await expectIdenticalData(c, ALL);
  expect(allRunsEnded(journals(c))).toEqual([]);
}

describe('--abort', () => {
  let promoteStep = 0;
  const cluster = useCluster({ basePort: basePortOf('abort'), replicas: 2 }, async (c) => {
    await c.sandbox('load', '100');
    await c.sandbox('lag', 'test3');
    await c.sandbox('load', '200');
    const plan = JSON.parse(
      (await mmmf(['--cfg', c.cfg, '--failover-to', 'test3', '--fence-live-master', '--dry-run', '--json'])).stdout,
    ).plan;
    promoteStep = plan.steps.find((s: { action: { kind: string } }) => s.action.kind === 'promote').n;
  });

  it('undoes a failover killed before promotion: old master writable, replicas back on it', async () => {
    const c = cluster();
    const killed = await mmmf(['--cfg', c.cfg, '--failover-to', 'test3', '--fence-live-master'], {
      MMMF_TEST_KILL_AT_STEP: String(promoteStep),
    });
    expect([killed.exitCode, killed.signal]).toEqual([-1, 'SIGKILL']);
    expect(killedBeforeStep(journals(c), promoteStep)).toEqual([]);
    expect(await Promise.all(ALL.map((n) => readOnly(c, n)))).toEqual([1, 1, 1]); // fenced; nobody promoted

    const r = await mmmf(['--cfg', c.cfg, '--abort']);
    expect.soft(r.exitCode, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/Aborted: the cluster replicates from test1 again/);
    expect(journals(c).open).toBeUndefined(); // the unfinished run is closed
    expect(await Promise.all(ALL.map((n) => readOnly(c, n)))).toEqual([0, 1, 1]); // exactly one writable: test1
    await c.query('test1', "INSERT INTO sbtest.t (k, pad) VALUES (7, 'after abort')");
    for (const n of ['test2', 'test3']) {
      await until(
        async () => (await c.query(n, "SELECT 1 FROM sbtest.t WHERE pad = 'after abort'")).length === 1,
        10_000,
        `the write on ${n}`,
      );
      expect(await link(c, n)).toBe(`${c.port('test1')} Yes Yes`);
    }
    expect((await mmmf(['--cfg', c.cfg, '--abort'])).stdout).toMatch(/nothing to abort/);
  });

  it('refuses to abort past promotion (exit 3) and the same command finishes the failover', async () => {
    const c = cluster();
    const killed = await mmmf(['--cfg', c.cfg, '--failover-to', 'test3', '--fence-live-master'], {
      MMMF_TEST_KILL_AT_STEP: String(promoteStep + 1),
    });
    expect([killed.exitCode, killed.signal]).toEqual([-1, 'SIGKILL']);
    expect(killedBeforeStep(journals(c), promoteStep + 1)).toEqual([]);
    expect(await Promise.all(ALL.map((n) => readOnly(c, n)))).toEqual([1, 1, 0]); // test3 promoted
    const snap = await replicationSnapshot(c, ALL);
    const journal = journals(c);
    const r = await mmmf(['--cfg', c.cfg, '--abort']);
    expect(r.exitCode).toBe(3);
    expect(r.stderr).toMatch(/past the point of no return/);
    expect(r.stderr).toMatch(/finish it instead: mmmf --cfg .* --failover-to test3/);
    expect(await replicationSnapshot(c, ALL)).toEqual(snap); // the refusal changed nothing...
    expect(journals(c)).toEqual(journal); // ...not even the journal

    await expectFinishedBy(c, ['--cfg', c.cfg, '--failover-to', 'test3']);
  });

  it('a promotion begun and killed half-way (after its STOP SLAVE): --abort refuses, changes nothing, and the same command finishes', async () => {
    const c = cluster();
    await c.sandbox('reset');
    await c.sandbox('load', '100');
    await c.sandbox('lag', 'test3');
    await c.sandbox('load', '200');
    const args = ['--cfg', c.cfg, '--failover-to', 'test3', '--fence-live-master'];
    const plan = JSON.parse((await mmmf([...args, '--dry-run', '--json'])).stdout).plan;
    const promote = plan.steps.find((s: { action: { kind: string } }) => s.action.kind === 'promote').n as number;
    const killed = await mmmf(args, { MMMF_TEST_FAULTS: `kill@statement-sent#${promote}.1` });
    expect([killed.exitCode, killed.signal]).toEqual([-1, 'SIGKILL']);
    expect(killedInStep(journals(c), promote)).toEqual([]);
    // Half-way, on the servers: test3's replication stopped, nobody writable (the old master fenced).
    expect(await link(c, 'test3')).toMatch(/ No No$/);
    expect(await Promise.all(ALL.map((n) => readOnly(c, n)))).toEqual([1, 1, 1]);
    const snap = await replicationSnapshot(c, ALL);
    const journal = journals(c);
    const r = await mmmf(['--cfg', c.cfg, '--abort']);
    expect(r.exitCode, r.stdout + r.stderr).toBe(3);
    expect(r.stderr).toMatch(/past the point of no return/);
    expect(await replicationSnapshot(c, ALL)).toEqual(snap);
    expect(journals(c)).toEqual(journal);

    await expectFinishedBy(c, args);
  });
});

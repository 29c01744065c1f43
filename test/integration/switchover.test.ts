// Planned switchover with the master alive: a writer keeps writing (and follows the writable server, as an
// application behind a VIP would); no acknowledged write is lost, the old master becomes a replica of the
// new one, and the write-unavailability window is measured. A failure before promotion rolls back.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { mmmf, type Cluster } from '../../harness/cluster.js';
import { readJournals } from '../../harness/journal-view.js';
import { ledgerEvidence } from '../../harness/ledger.js';
import { followingWriter, LEDGER_DDL, until } from '../../harness/load.js';
import { basePortOf } from '../../harness/ports.js';
import { useCluster } from '../cluster-fixture.js';
import { expectAckedEverywhere, expectIdenticalData, expectNothingLost } from '../expect-data.js';

/** On the servers: `master` is the one writable server and every other replicates from it, running. */
async function expectMaster(c: Cluster, master: string) {
  for (const n of c.names) {
    const [v] = await c.query<{ ro: number }>(n, 'SELECT @@read_only AS ro');
    const [s] = await c.query<Record<string, string>>(n, 'SHOW SLAVE STATUS');
    const link = n === master ? 'none' : `${s?.Master_Port} ${s?.Slave_IO_Running} ${s?.Slave_SQL_Running}`;
    expect([n, Number(v?.ro), link]).toEqual([
      n,
      n === master ? 0 : 1,
      n === master ? 'none' : `${c.port(master)} Yes Yes`,
    ]);
  }
}

describe('switchover', () => {
  const cluster = useCluster({ basePort: basePortOf('switchover'), replicas: 3 }, async (c) => {
    await c.query('test1', LEDGER_DDL);
    await c.sandbox('load', '200');
  });

  it('moves the master under write load: zero acknowledged writes lost, old master follows the new one', async () => {
    const c = cluster();
    const w = followingWriter(c);
    await until(async () => w.acked.size > 300, 30_000, 'writes before the switchover');
    const r = await mmmf(['--cfg', c.cfg, '--switchover-to', 'test3']);
    await until(async () => w.acked.size > 600, 30_000, 'writes after the switchover');
    await w.stop();
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/Switchover to test3 done/);
    expect(r.stdout).toMatch(/✔ test1\s+old master, now replica of test3, IO Yes, SQL Yes, read-only/);
    const blocked = Number(/Writes were blocked for (\d+) ms/.exec(r.stdout)?.[1]);
    expect(blocked).toBeGreaterThan(0);
    console.log(
      `switchover: writes blocked ${blocked} ms by mmmf's measure; longest gap between acknowledged writes ${w.gap()} ms`,
    );

    await expectAckedEverywhere(c, 'test3', w.acked);
    // The writer's ledger gap-free everywhere (a write retried after the switch kept its seq), as long as the
    // new master's.
    await expectNothingLost(c, c.names, await ledgerEvidence(c, ['test3']), new Map([[1, w.attempted()]]));
    await expectMaster(c, 'test3');
    await expectIdenticalData(c, c.names);
  });

  it('rolls back a switchover that fails before promotion: the old master takes writes again', async () => {
    const c = cluster();
    const plan = JSON.parse(
      (await mmmf(['--cfg', c.cfg, '--switchover-to', 'test2', '--dry-run', '--json'])).stdout,
    ).plan;
    const confirm = plan.steps.find((s: { phase: string }) => s.phase === 'confirm').n;
    const r = await mmmf(['--cfg', c.cfg, '--switchover-to', 'test2'], { MMMF_TEST_FAIL_AT_STEP: String(confirm) });
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toMatch(/Rolled back before promotion: test3 is writable again/);
    await c.query('test3', 'INSERT INTO sbtest.ledger (writer, seq) VALUES (2, 1)');
    for (const n of ['test1', 'test2', 'test4']) {
      await until(
        async () => (await c.query(n, 'SELECT 1 FROM sbtest.ledger WHERE writer = 2')).length === 1,
        10_000,
        `the write on ${n}`,
      );
    }
    // Rolled back, on the servers: exactly one writable server (test3), every other replicating from it, and no
    // unfinished run left in the journal.
    await expectMaster(c, 'test3');
    expect(readJournals(join(c.dir, 'state')).open).toBeUndefined();
  });

  it('refuses (exit 3) when a replica is not replicating, or the master is down', async () => {
    const c = cluster();
    await c.query('test4', 'STOP SLAVE SQL_THREAD');
    const r = await mmmf(['--cfg', c.cfg, '--switchover-to', 'test2']);
    expect(r.exitCode).toBe(3);
    expect(r.stderr).toMatch(/test4 is not replicating \(IO Yes, SQL No\)/);
    await c.query('test4', 'START SLAVE SQL_THREAD');
    await c.sandbox('kill', 'test3');
    const down = await mmmf(['--cfg', c.cfg, '--switchover-to', 'test2']);
    expect(down.exitCode).toBe(3);
    expect(down.stderr).toMatch(/Use --failover-to instead/);
  });
});

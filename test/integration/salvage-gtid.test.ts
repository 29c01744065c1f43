// Salvaging what only a dead master's binlog holds (issue 21), by GTID and in ROW format, on network-namespace
// hosts: each server on a host of its own with sshd, mmmf on a client host. The replicas stop receiving, the
// master acknowledges transactions, then it is killed with its host still up. One cluster, scenarios in order:
// a supervisor restarts the server during the salvage (refused, nothing applied); a tail across a rotation with
// a torn last transaction, mmmf killed between the files and run again (nothing twice); SSH unreachable (the
// failover goes on as without salvage, and says so). Needs root (CI runs as root).
import { existsSync, readdirSync, readFileSync, statSync, truncateSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { dataFingerprint, mmmfOnClient, type Cluster } from '../../harness/cluster.js';
import { until } from '../../harness/load.js';
import { binlogEndOf, SALVAGE_DDL, salvagedIds, stopReceiving, writeOnly } from '../../harness/salvage-load.js';
import { useCluster } from '../cluster-fixture.js';
import { basePortOf } from '../../harness/ports.js';

const root = process.getuid?.() === 0;
const run = (c: Cluster, args: string[], env: Record<string, string> = {}) =>
  mmmfOnClient(c, ['--cfg', c.cfg, ...args], env);

/** Whether the run in progress (its journal: run.jsonl of the cluster's folder in the state folder) began step `n`. */
function begun(c: Cluster, n: number): boolean {
  const clusters = join(c.dir, 'state', 'clusters');
  if (!existsSync(clusters)) return false;
  return readdirSync(clusters).some((f) => {
    const run = join(clusters, f, 'run.jsonl');
    if (!existsSync(run)) return false;
    return readFileSync(run, 'utf8')
      .split('\n')
      .filter(Boolean)
      .some((l) => {
        const r = JSON.parse(l) as { type: string; n?: number };
        return r.type === 'begin' && r.n === n;
      });
  });
}

async function expectSame(c: Cluster, names: string[]): Promise<void> {
  const prints = await Promise.all(names.map((n) => dataFingerprint(c, n)));
  for (const [i, p] of prints.entries()) expect(p, names[i]).toBe(prints[0]);
}

describe.skipIf(!root)('salvaging the dead master binlog over SSH (GTID, ROW)', () => {
  const cluster = useCluster({ basePort: basePortOf('salvage-gtid'), replicas: 3, netns: true }, async (c) => {
    for (const sql of SALVAGE_DDL) await c.query('test1', sql);
    await until(async () => (await salvagedIds(c, 'test4').catch(() => null)) !== null, 20_000, 'the table');
    // mmmf sees every host alive once, and remembers where each keeps its binlog (what a cron'd check does).
    const status = await run(c, ['status']);
    if (status.exitCode !== 0) throw new Error(`mmmf status failed: ${status.stderr}`);
  });

  it('a server its supervisor restarts during the salvage: refused, nothing applied, nothing promoted', async () => {
    const c = cluster();
    await stopReceiving(c, ['test2', 'test3', 'test4']);
    const acked = await writeOnly(c, 'test1', { firstId: 1, count: 5, tag: 'restarted' });
    const before = await binlogEndOf(c, 'test2');
    await c.sandbox('kill', 'test1');
    const plan = JSON.parse((await run(c, ['--failover-to', 'test2', '--dry-run', '--json'])).stdout).plan;
    const salvage = plan.steps.find((s: { phase: string }) => s.phase === 'salvage');
    expect(salvage.command.join('\n')).toMatch(/ssh root@[\d.]+ cat -- \S+\/test1\/data\/mysql-bin\.index/);
    // The salvage waits after reading; meanwhile "systemd" starts the server again.
    const failover = run(c, ['--failover-to', 'test2'], { MMMF_TEST_FAULTS: 'delay=8000@salvage:read' });
    await until(async () => begun(c, salvage.n), 30_000, 'the salvage step to begin');
    await c.sandbox('start', 'test1');
    const r = await failover;
    expect(r.exitCode, r.stdout + r.stderr).toBe(1);
    expect(r.stdout).toMatch(/test1's server runs again \((server pid=\d+ mariadbd cwd=\S+|listening port=3306)/);
    expect(r.stdout).toMatch(/Nothing was promoted/);
    expect(await binlogEndOf(c, 'test2')).toEqual(before); // nothing applied
    expect((await salvagedIds(c, 'test2')).filter((id) => acked.includes(id))).toEqual([]);
    const [ro] = await c.query<{ ro: string }>('test2', 'SELECT @@read_only AS ro');
    expect(Number(ro?.ro)).toBe(1);
    // test1 stays the master: its replicas replicate from it again and get what it wrote.
    for (const n of ['test2', 'test3', 'test4']) await c.query(n, 'START SLAVE');
    for (const n of ['test2', 'test3', 'test4']) {
      await until(async () => (await salvagedIds(c, n)).length === acked.length, 30_000, `${n} to catch up`);
    }
  });

  it('a tail across a rotation with a torn last transaction; mmmf killed between the files, run again: all once', async () => {
    const c = cluster();
    await stopReceiving(c, ['test2', 'test4']);
    await writeOnly(c, 'test1', { firstId: 100, count: 10, tag: 'lagging' }); // test3 alone receives these
    await stopReceiving(c, ['test3']);
    const first = await writeOnly(c, 'test1', { firstId: 200, count: 20, tag: 'first', ddlAt: 7 });
    await c.query('test1', 'FLUSH BINARY LOGS');
    const second = await writeOnly(c, 'test1', { firstId: 300, count: 20, tag: 'second' });
    const tornStart = await binlogEndOf(c, 'test1');
    await writeOnly(c, 'test1', { firstId: 400, count: 1, tag: 'torn', pad: 200 });
    const tornEnd = await binlogEndOf(c, 'test1');
    await c.sandbox('kill', 'test1');
    // The crash tore the last write: the file ends somewhere inside that transaction.
    const cut = tornStart.position + 1 + Math.floor(Math.random() * (tornEnd.position - tornStart.position - 1));
    const file = join(c.dir, 'test1', 'data', tornEnd.file);
    truncateSync(file, cut);
    expect(statSync(file).size).toBe(cut);

    const killed = await run(c, ['--failover-to', 'test2', '--force'], {
      MMMF_TEST_FAULTS: 'kill@salvage:file-applied',
    });
    expect(killed.exitCode, killed.stdout + killed.stderr).not.toBe(0);
    const r = await run(c, ['--failover-to', 'test2', '--force', '--json']);
    const report = JSON.parse(r.stdout);
    expect([r.exitCode, report.ok], r.stdout.slice(-3000) + r.stderr).toEqual([0, true]);
    expect(report.salvage).toMatchObject({
      outcome: 'applied',
      oldMaster: 'test1',
      appliedTo: 'test3',
      transactions: 41, // 20 + the DDL, then 20 after the rotation
      alreadyApplied: 21,
      tornTailBytes: cut - tornStart.position,
      refusals: [],
    });
    expect(report.salvage.positions).toHaveLength(2);
    const want = [...first, ...second].sort((a, b) => a - b);
    for (const n of ['test2', 'test3', 'test4']) {
      const ids = await salvagedIds(c, n);
      expect(
        want.filter((id) => !ids.includes(id)),
        `${n} lacks`,
      ).toEqual([]);
      expect(ids.includes(400), `${n} holds the torn transaction`).toBe(false);
    }
    await expectSame(c, ['test2', 'test3', 'test4']);
  });

  it('the old master host off the network (SSH unreachable): the failover goes on as without salvage, and says so', async () => {
    const c = cluster();
    await stopReceiving(c, ['test3', 'test4']);
    const lost = await writeOnly(c, 'test2', { firstId: 500, count: 5, tag: 'lost' });
    await c.sandbox('kill', 'test2');
    await c.sandbox('netcut', 'test2'); // its host is silent: SSH (and the VIP's removal) get no answer
    const r = await run(c, ['--failover-to', 'test4', '--force']);
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/nothing salvaged; the failover went on without it/);
    expect(r.stdout).toMatch(/test2's host does not answer over SSH as root@[\d.]+ \(/);
    for (const n of ['test3', 'test4']) {
      expect(
        (await salvagedIds(c, n)).filter((id) => lost.includes(id)),
        n,
      ).toEqual([]);
    }
    await expectSame(c, ['test3', 'test4']);
  });
});

// Three monitor hosts, one failover (issue 20): three configs with their own state folders, the same cluster
// name and the same etcd (one member), running `--failover-to auto --if-dead` at the same moment
// over one real MariaDB cluster (ports: harness/ports.ts) that is failed over and rejoined round after round while a
// ledger writer follows the master. Exactly one monitor acts; the others name it (exit 3) or find nothing to
// do (exit 0); nothing acknowledged is lost; the published master follows. Every fifth round kills -9 the
// acting monitor at a random step: the other monitors' timers finish its failover, to the same target. Then
// etcd stopped (exit 4, nothing changed), etcd frozen mid-run (the run stops before its next step), and a run
// killed before promotion on one monitor host undone with --abort from another.
import { describe, expect, it } from 'vitest';
import { mmmf, replicationSnapshot, type Cluster } from '../../harness/cluster.js';
import { LEDGER_DDL, rng, until } from '../../harness/load.js';
import { basePortOf, ETCD_PORTS } from '../../harness/ports.js';
import { useCluster } from '../cluster-fixture.js';
import { sleep, useEtcd } from '../etcd-fixture.js';
import { expectAckedEverywhere, expectIdenticalData } from '../expect-data.js';
import {
  etcdUnfinished,
  everythingReceived,
  ledgerWriter,
  monitorConfig,
  published,
  runMonitor,
  writableServer,
  type MonitorRun,
} from '../monitors-fixture.js';

const ROUNDS = 20;
const CLUSTER = 'orders';
const IF_DEAD = ['--failover-to', 'auto', '--if-dead'];
const TTL_S = 3;
const MONITORS = ['mon1', 'mon2', 'mon3'];

describe('three monitors, one etcd', () => {
  const cluster = useCluster({ basePort: basePortOf('monitors'), replicas: 3 }, async (c) => {
    await c.query('test1', LEDGER_DDL);
  });
  const etcd = useEtcd({ basePort: ETCD_PORTS.monitors });
  let cfgs: string[] = [];
  let master = 'test1';
  const seed = Number(process.env.MMMF_TEST_SEED ?? Date.now() % 100_000);
  const rand = rng(seed);
  const pick = <T>(xs: T[]) => xs[Math.floor(rand() * xs.length)]!;
  const setup = (c: Cluster) => {
    const settings = { endpoints: etcd().endpoints, lockTtlSeconds: TTL_S, requestTimeoutMs: 1000 };
    cfgs = MONITORS.map((m) => monitorConfig(c, m, CLUSTER, { ...settings, publishOrchestratorKeys: true }));
  };
  /** The killed master back, rejoined under the new one by one of the monitors. */
  const rejoin = async (c: Cluster, old: string, by: string) => {
    await c.sandbox('start', old);
    const r = await mmmf(['--cfg', by, 'rejoin', old]);
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
  };

  it(`${ROUNDS} rounds of the master killed: exactly one monitor acts, nothing is lost, the master is published`, async () => {
    const c = cluster();
    setup(c);
    console.log(`monitors: seed ${seed} (MMMF_TEST_SEED=${seed} replays it)`);
    const writer = ledgerWriter(c);
    const acts = [0, 0, 0];
    const kills: string[] = [];
    try {
      for (let round = 0; round < ROUNDS; round++) {
        const t0 = Date.now();
        const replicas = c.names.filter((n) => n !== master);
        await killMasterAfterWrites(c, master, pick(replicas), writer);
        // Every fifth round the acting monitor is killed (-9) before a random step of its plan.
        const killAt = round % 5 === 4 ? 1 + Math.floor(rand() * (await planSteps(cfgs[0]!))) : undefined;
        const env: Record<string, string> = killAt ? { MMMF_TEST_FAULTS: `kill@before-step#${killAt}` } : {};
        const runs = await Promise.all(cfgs.map((cfg, i) => runMonitor(MONITORS[i]!, cfg, IF_DEAD, env)));
        let target: string;
        let actor: MonitorRun;
        if (killAt) {
          actor = expectOneActor(runs, round, (r) => r.signal === 'SIGKILL');
          const journaled = (await etcdUnfinished(etcd(), CLUSTER))?.start.target;
          expect(journaled, `round ${round}: the killed run's journal stays in etcd`).toMatch(/^test\d$/);
          const others = cfgs.filter((_, i) => MONITORS[i] !== actor.monitor);
          const finished = await timersUntilDone(others, actor);
          target = finished.target;
          expect(target, `round ${round}: resumed with the journaled target`).toBe(journaled);
          kills.push(
            `round ${round}: killed before step ${killAt}, finished by ${finished.by} after ${finished.ms} ms`,
          );
        } else {
          actor = expectOneActor(runs, round, (r) => r.exitCode === 0 && /Failover to test\d done/.test(r.stdout));
          target = /Failover to (test\d) done/.exec(actor.stdout)![1]!;
        }
        acts[runs.indexOf(actor)]!++;
        expect(await writableServer(c, replicas)).toBe(target);
        const pub = { name: target, orchestrator: `127.0.0.1:${c.port(target)}` };
        expect(await published(etcd(), CLUSTER)).toMatchObject(pub);
        // The rejoin publishes the master again (proxies see the cluster whole): gone from etcd, it is back.
        await etcd().etcdctl('del', `/mmmf/clusters/${CLUSTER}/master`);
        await etcd().etcdctl('del', '--prefix', `mysql/master/${CLUSTER}`);
        // After the rejoin: test1 comes back writable (it has no read_only in its my.cnf) until mmmf rejoins it.
        await rejoin(c, master, cfgs[round % 3]!);
        expect(await published(etcd(), CLUSTER)).toMatchObject(pub);
        writer.resume();
        console.log(`round ${round}: ${master} killed, ${actor.monitor} → ${target} (${Date.now() - t0} ms)`);
        master = target;
      }
    } finally {
      await writer.stop();
    }
    await expectAckedEverywhere(c, master, writer.acked);
    await expectIdenticalData(c, c.names);
    console.log(
      `monitors: ${ROUNDS} rounds, ${writer.acked.size} acknowledged writes all on every server, acts per ` +
        `monitor ${acts.join('/')}\n  ${kills.join('\n  ')}`,
    );
  });

  it('etcd stopped: every monitor exits 4 and nothing changes; etcd back, the next timer fails over', async () => {
    const c = cluster();
    if (!cfgs.length) setup(c);
    const replicas = c.names.filter((n) => n !== master);
    await c.sandbox('kill', master);
    await etcd().members[0]!.stop();
    try {
      const before = await replicationSnapshot(c, replicas);
      const runs = await Promise.all([
        ...cfgs.map((cfg, i) => runMonitor(MONITORS[i]!, cfg, IF_DEAD)),
        runMonitor('by hand', cfgs[0]!, ['--failover-to', replicas[0]!]),
      ]);
      for (const r of runs) {
        expect(r.exitCode, `${r.monitor}: ${r.stdout}${r.stderr}`).toBe(4);
        expect(r.stderr).toMatch(/the coordination store does not answer: nothing was changed/);
        expect(r.stderr).toContain(`etcd http://127.0.0.1:${ETCD_PORTS.monitors}: `);
      }
      expect(await replicationSnapshot(c, replicas)).toEqual(before);
    } finally {
      await etcd().members[0]!.start();
      await etcd().healthy();
    }
    const r = await runMonitor('mon2', cfgs[1]!, IF_DEAD);
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    const target = /Failover to (test\d) done/.exec(r.stdout)![1]!;
    expect((await published(etcd(), CLUSTER)).name).toBe(target);
    await rejoin(c, master, cfgs[1]!);
    master = target;
  });

  it('etcd frozen mid-run: the run stops before its next step, its journal stays, a later run resumes it', async () => {
    const c = cluster();
    if (!cfgs.length) setup(c);
    const replicas = c.names.filter((n) => n !== master);
    await c.sandbox('kill', master);
    const plan = await dryPlan(cfgs[0]!);
    const promote = plan.steps.find((s) => s.phase === 'promote')!.n;
    // A window before the promotion: 3 s (longer than the lease) in which etcd is frozen.
    const run = runMonitor('mon1', cfgs[0]!, IF_DEAD, { MMMF_TEST_FAULTS: `delay=3000@before-step#${promote}` });
    await until(
      async () => ((await etcdUnfinished(etcd(), CLUSTER))?.results.length ?? 0) >= promote - 1,
      30_000,
      `the steps before ${promote} to be journaled`,
    );
    etcd().members[0]!.freeze();
    let first: MonitorRun;
    try {
      first = await run;
    } finally {
      etcd().members[0]!.thaw();
    }
    expect(first.exitCode, first.stdout + first.stderr).toBe(1);
    expect(first.stdout).toMatch(/this run lost the cluster's lock .*: it stops here, its journal stays/);
    expect(await writableServer(c, replicas)).toBeUndefined(); // not promoted
    await etcd().healthy();
    const journal = await etcdUnfinished(etcd(), CLUSTER);
    expect(journal?.start.target).toBe(plan.target);
    expect(journal?.results.map((r) => r.n).sort((a, b) => a - b)).toEqual(
      plan.steps.filter((s) => s.n < promote).map((s) => s.n),
    );
    expect(journal?.interrupted).toEqual([]); // the promotion never began
    const finished = await timersUntilDone([cfgs[1]!, cfgs[2]!], first);
    expect(finished.target).toBe(plan.target);
    expect(await writableServer(c, replicas)).toBe(plan.target);
    expect((await published(etcd(), CLUSTER)).name).toBe(plan.target);
    await rejoin(c, master, cfgs[2]!);
    master = plan.target;
    await expectIdenticalData(c, c.names);
  });

  it('--abort from another monitor host: a run killed before promotion on mon1 is undone by mon2', async () => {
    const c = cluster();
    if (!cfgs.length) setup(c);
    const replicas = c.names.filter((n) => n !== master);
    const target = replicas[0]!;
    const args = ['--failover-to', target, '--fence-live-master'];
    const dry = await mmmf(['--cfg', cfgs[0]!, ...args, '--dry-run', '--json']);
    const steps = (JSON.parse(dry.stdout) as { plan: DryPlan }).plan.steps;
    const promote = steps.find((x) => x.phase === 'promote')!.n;
    const killed = await runMonitor('mon1', cfgs[0]!, args, { MMMF_TEST_FAULTS: `kill@before-step#${promote}` });
    expect([killed.exitCode, killed.signal]).toEqual([-1, 'SIGKILL']);
    expect((await etcdUnfinished(etcd(), CLUSTER))?.start.target).toBe(target);
    const readOnly = async (n: string) => Number((await c.query<{ ro: number }>(n, 'SELECT @@read_only AS ro'))[0]?.ro);
    expect(await Promise.all(c.names.map(readOnly))).toEqual(c.names.map(() => 1)); // fenced; nobody promoted

    await sleep(TTL_S * 1000 + 500); // mon1's lease runs out (its host died with it)
    const r = await runMonitor('mon2', cfgs[1]!, ['--abort']);
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`Aborted: the cluster replicates from ${master} again`));
    expect(await etcdUnfinished(etcd(), CLUSTER)).toBeUndefined();
    expect(await writableServer(c)).toBe(master); // exactly one writable server: the old master, again
    await c.query(master, 'INSERT INTO sbtest.ledger (writer, seq) VALUES (99, 1)');
    for (const n of replicas) {
      await until(
        async () => (await c.query(n, 'SELECT 1 FROM sbtest.ledger WHERE writer = 99')).length === 1,
        10_000,
        `the write after the abort on ${n}`,
      );
      const [st] = await c.query<Record<string, string>>(n, 'SHOW SLAVE STATUS');
      expect([n, String(st?.Master_Port), st?.Slave_IO_Running, st?.Slave_SQL_Running]).toEqual([
        n,
        String(c.port(master)),
        'Yes',
        'Yes',
      ]);
    }
    expect((await runMonitor('mon3', cfgs[2]!, ['--abort'])).stdout).toMatch(/nothing to abort/);
  });
});

/** The writer writes on, one replica's SQL thread pauses, every replica receives everything, the master dies. */
async function killMasterAfterWrites(
  c: Cluster,
  master: string,
  paused: string,
  writer: ReturnType<typeof ledgerWriter>,
): Promise<void> {
  const wrote = async (n: number, what: string) => {
    const before = writer.acked.size;
    await until(async () => writer.acked.size >= before + n, 20_000, what);
  };
  await wrote(10, `writes on ${master}`);
  await c.query(paused, 'STOP SLAVE SQL_THREAD'); // the failover must apply what it received
  await wrote(10, `writes while ${paused} is paused`);
  await writer.pause();
  await until(() => everythingReceived(c, master), 20_000, 'every replica to receive everything');
  await c.sandbox('kill', master);
}

interface DryPlan {
  target: string;
  steps: { n: number; phase: string }[];
}

async function dryPlan(cfg: string): Promise<DryPlan> {
  const r = await mmmf(['--cfg', cfg, '--failover-to', 'auto', '--dry-run', '--json']);
  expect(r.exitCode, r.stdout + r.stderr).toBe(0);
  return (JSON.parse(r.stdout) as { plan: DryPlan }).plan;
}

const planSteps = async (cfg: string) => (await dryPlan(cfg)).steps.length;

/**
 * Exactly one run is the actor; every other one named it (exit 3, its pid) or found nothing to do (exit 0).
 */
function expectOneActor(runs: MonitorRun[], round: number, isActor: (r: MonitorRun) => boolean): MonitorRun {
  const all = runs.map((r) => `${r.monitor} (pid ${r.pid}) exit ${r.exitCode}:\n${r.stdout}${r.stderr}`).join('\n');
  const actors = runs.filter(isActor);
  expect(actors.length, `round ${round}: ${all}`).toBe(1);
  const actor = actors[0]!;
  for (const r of runs.filter((x) => x !== actor)) {
    if (r.exitCode === 3) expect(r.stderr, `round ${round}: ${all}`).toContain(`held by pid ${actor.pid} on `);
    else expect([r.exitCode, r.stdout], `round ${round}: ${all}`).toEqual([0, expect.stringMatching(/nothing to do/)]);
  }
  return actor;
}

/**
 * The surviving monitors' timers, each every second (offset by half a second), until one run resumes the dead
 * run's failover and finishes it. Every other run names a holder (exit 3) or finds nothing to do (exit 0).
 */
async function timersUntilDone(cfgs: string[], dead: MonitorRun): Promise<{ target: string; by: string; ms: number }> {
  const t0 = Date.now();
  let done: { target: string; by: string; ms: number } | undefined;
  const log: string[] = [];
  const timer = async (cfg: string, i: number) => {
    await sleep(500 * i);
    while (!done && Date.now() - t0 < 60_000) {
      const started = Date.now();
      const r = await runMonitor(`timer ${i + 1}`, cfg, IF_DEAD);
      log.push(`${r.monitor} exit ${r.exitCode}: ${(r.stdout + r.stderr).slice(0, 600)}`);
      const finished = /Failover to (test\d) done/.exec(r.stdout);
      if (r.exitCode === 0 && finished) {
        expect(r.stdout).toMatch(/Resuming an unfinished failover to test\d/);
        done = { target: finished[1]!, by: r.monitor, ms: Date.now() - t0 };
      } else if (r.exitCode === 3) {
        expect(r.stderr, log.join('\n')).toMatch(/held by pid \d+ on /);
      } else expect([r.exitCode, r.stdout], log.join('\n')).toEqual([0, expect.stringMatching(/nothing to do/)]);
      await sleep(Math.max(0, 1000 - (Date.now() - started)));
    }
  };
  await Promise.all(cfgs.map(timer));
  if (!done) throw new Error(`no monitor finished pid ${dead.pid}'s run within 60 s:\n${log.join('\n')}`);
  return done;
}

// `npm run bench [-- --runs N] [--quick]`: figures of real failovers on local sandboxes, never asserted.
// Prints a markdown table and writes it, with every raw number, to bench/results.md and bench/results.json.
//   - failover wall time vs number of replicas (in sync, master killed)
//   - vs backlog on the most lagging replica (the target), beside the floor: the time that replica needs to
//     apply the same backlog through ordinary replication catch-up from the old master
//   - GTID vs file positioning for the same backlog (file adds mapping the target's position)
//   - start-up: `mmmf --help`, `mmmf status` and `mmmf --dry-run`, as ratios to `node -e 0` run in the same rounds
//   - a planned switchover on network-namespace hosts: how long writes through the VIP were blocked (root)
//   - peak memory of a failover by file against the size of the best replica's logs
//   - a failover with one delayed replica beside the same without it
//   - unattended: kill -9 of the master → writable new master with `--if-dead` and the default window
//   - a master-master pair's switchover (the pair kept circular) with the writer VIP move (root)
//   - a failover that salvages 1,000 transactions (~10 MB) only the dead master's binlog held, over SSH, beside
//     the same failover without them (root)
//   - several monitor hosts: kill -9 of the acting monitor mid-failover → writable new master, finished by
//     another monitor's timer (etcd, lockTtlSeconds 5, timers every 10 s; harness/bench-monitors.ts)
// `--replicas 2,20` and `--backlogs 10000` measure only those sizes.
// `--only switchover` (or startup, insync, replicas, backlog, positioning, memory, delayed, ifdead, pair, salvage,
// monitors) re-measures those rows and keeps the others.
import { execa } from 'execa';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MONITOR_PERIOD_S, MONITOR_TTL_S, measureMonitors } from './bench-monitors.js';
import { startCluster, type Cluster } from './cluster.js';
import { repoRoot, SHIPPED_BIN } from './paths.js';
import { basePortOf } from './ports.js';
import { measureSalvage } from './bench-salvage.js';
import { goalsTable, LABELS, writeReadmeGoals } from './bench-goals.js';

interface Span {
  name: string;
  ms: number;
}

const ROOT = repoRoot();
const CLI = SHIPPED_BIN;
const BASE_PORT = basePortOf('bench');
const GNU_TIME = '/usr/bin/time';
const flag = (name: string) => process.argv.includes(`--${name}`);
const num = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const QUICK = flag('quick');
const RUNS = num('runs', QUICK ? 1 : 3);
/** `--replicas 2,20`, `--backlogs 10000`: only those sizes (the goals need 2 and 20 replicas, and 10,000). */
const list = (name: string, fallback: number[]) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1]!.split(',').map(Number) : fallback;
};
const REPLICA_COUNTS = list('replicas', QUICK ? [2, 5] : [2, 5, 10, 20]);
const BACKLOGS = list('backlogs', QUICK ? [0, 1000] : [0, 1000, 10_000, 100_000]);

interface Row {
  group: string;
  label: string;
  unit: 'ms' | 'MiB';
  values: number[];
  floor?: number[];
  /** The goal: median / median of the floor at most this (the floor measured in the same runs). */
  goal?: number;
  note?: string;
}
const rows: Row[] = [];

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const fmt = (ms: number) => (ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(0)} ms`);
const fmtIn = (unit: Row['unit'], v: number) => (unit === 'MiB' ? `${v.toFixed(0)} MiB` : fmt(v));
const since = (t: bigint) => Number(process.hrtime.bigint() - t) / 1e6;
const progress = (s: string) => process.stderr.write(`  ${s}\n`);

/** The bench's clusters are the test suite's (harness/cluster.ts), on a port range of their own. */
async function withSandbox<T>(
  replicas: number,
  fn: (c: Cluster) => Promise<T>,
  netns = false,
  positioning: 'gtid' | 'file' = 'gtid',
  topology: 'flat' | 'pair' = 'flat',
): Promise<T> {
  const c = await startCluster({ basePort: BASE_PORT, replicas, netns, positioning, topology });
  try {
    // The config compiled once, as the cron `--if-dead` line, a `check` or a `status` before would have done:
    // every figure is a run with the compiled-config cache warm (a first run ever compiles it with jiti).
    if (netns) await onClient(c, [CLI, 'status', '--cfg', c.cfg]);
    else await execa('node', [CLI, 'status', '--cfg', c.cfg], { reject: false });
    return await fn(c);
  } finally {
    await c.down();
  }
}

/** Runs a command on the sandbox's client host, whatever it exits with. */
const onClient = (c: Cluster, argv: string[]) => c.sandbox('client', 'node', ...argv).catch(() => '');

async function failover(
  s: Cluster,
  target: string,
): Promise<{ ms: number; equalizeMs: number; mapMs: number; peakMiB: number; timings: Span[] }> {
  const t = process.hrtime.bigint();
  // GNU time reports the process's peak resident memory; its start-up cost is far below the figures' noise.
  const argv = ['node', CLI, '--cfg', s.cfg, '--failover-to', target, '--json'];
  const r = existsSync(GNU_TIME)
    ? await execa(GNU_TIME, ['-f', 'mmmf-peak-rss-kb %M', ...argv], { reject: false })
    : await execa(argv[0]!, argv.slice(1), { reject: false });
  const ms = since(t);
  const peakMiB = Number(/mmmf-peak-rss-kb (\d+)/.exec(r.stderr)?.[1] ?? NaN) / 1024;
  if (r.exitCode !== 0)
    throw new Error(`failover failed (exit ${r.exitCode}): ${r.stderr}\n${r.stdout.slice(0, 2000)}`);
  const out = JSON.parse(r.stdout) as {
    timings?: Span[];
    results: { host: string; n: number; ms: number }[];
    plan: { steps: { n: number; phase: string; host: string }[] };
  };
  const stepMs = (phase: string) => {
    const st = out.plan.steps.find((x) => x.phase === phase && x.host === target);
    return st ? out.results.find((x) => x.n === st.n)!.ms : 0;
  };
  return { ms, equalizeMs: stepMs('equalize-target'), mapMs: stepMs('map'), peakMiB, timings: out.timings ?? [] };
}

/** `node -e 0`, the floor of a whole-process figure, measured right before it (median of three). */
function nodeFloor(): number {
  const xs = [0, 1, 2].map(() => {
    const t = process.hrtime.bigint();
    spawnSync(process.execPath, ['-e', '0'], { stdio: 'ignore' });
    return since(t);
  });
  return median(xs);
}

/**
 * The in-sync failover of 1 + 3 (master killed, nothing to catch up), exec to exit, beside `node -e 0` measured
 * right before each run; and where its time goes (the run's own timeline, medians).
 */
async function byInSync() {
  const xs: number[] = [];
  const floors: number[] = [];
  const spans = new Map<string, number[]>();
  for (let i = 0; i < RUNS; i++) {
    await withSandbox(3, async (s) => {
      await s.sandbox('load', '200');
      const [m] = await s.query('test1', 'SELECT @@gtid_binlog_pos AS g');
      for (const k of ['test2', 'test3', 'test4']) await s.query(k, `SELECT MASTER_GTID_WAIT('${m!.g}', 30)`);
      await s.sandbox('kill', 'test1');
      floors.push(nodeFloor());
      const r = await failover(s, 'test2');
      xs.push(r.ms);
      for (const t of r.timings) spans.set(t.name, [...(spans.get(t.name) ?? []), t.ms]);
    });
    progress(`1+3 in sync: run ${i + 1}/${RUNS} ${fmt(xs[i]!)} (node -e 0: ${fmt(floors[i]!)})`);
  }
  rows.push({ group: 'insync', label: LABELS.inSync, unit: 'ms', values: xs, floor: floors, goal: 5.0 });
  const where = [...spans].map(([name, v]) => `${name} ${median(v).toFixed(0)}`).join(' · ');
  rows.push({ group: 'insync', label: '  where the time goes (medians, ms)', unit: 'ms', values: [], note: where });
}

/** `shared` transactions every replica receives, then `behind` more that test4 (IO thread stopped) lacks. */
async function test4Behind(s: Cluster, shared: number, behind: number): Promise<void> {
  if (shared > 0) await s.sandbox('load', String(shared));
  await s.sandbox('lag', 'test4');
  await s.sandbox('load', String(behind));
}

/** test2 and test3 hold everything the master wrote, the master dies, and mmmf fails over to test4. */
async function crashAndFailOverToTest4(s: Cluster) {
  const [end] = await s.query<{ File: string; Position: string }>('test1', 'SHOW MASTER STATUS');
  for (const k of ['test2', 'test3']) await s.query(k, `SELECT MASTER_POS_WAIT('${end!.File}', ${end!.Position}, 300)`);
  await s.sandbox('kill', 'test1');
  return failover(s, 'test4');
}

async function byReplicas() {
  for (const n of REPLICA_COUNTS) {
    const xs: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      xs.push(
        await withSandbox(n, async (s) => {
          await s.sandbox('load', '200');
          const [m] = await s.query('test1', 'SELECT @@gtid_binlog_pos AS g');
          for (let k = 2; k <= n + 1; k++) await s.query(`test${k}`, `SELECT MASTER_GTID_WAIT('${m!.g}', 30)`);
          await s.sandbox('kill', 'test1');
          return (await failover(s, 'test2')).ms;
        }),
      );
      progress(`1+${n} in sync: run ${i + 1}/${RUNS} ${fmt(xs[i]!)}`);
    }
    rows.push({ group: 'replicas', label: `1 + ${n} replicas, in sync`, unit: 'ms', values: xs });
  }
}

async function byBacklog() {
  for (const backlog of BACKLOGS) {
    const xs: number[] = [];
    const eqs: number[] = [];
    const floors: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      await withSandbox(3, async (s) => {
        await s.sandbox('load', '200');
        if (backlog > 0) {
          // Floor: the same replica applying the same backlog through ordinary replication catch-up.
          await test4Behind(s, 0, backlog);
          const [m] = await s.query('test1', 'SELECT @@gtid_binlog_pos AS g');
          const t = process.hrtime.bigint();
          await s.query('test4', 'START SLAVE IO_THREAD');
          await s.query('test4', `SELECT MASTER_GTID_WAIT('${m!.g}', 900)`);
          floors.push(since(t));
          await s.sandbox('lag', 'test4');
          await s.sandbox('load', String(backlog));
        }
        const r = await crashAndFailOverToTest4(s);
        xs.push(r.ms);
        eqs.push(r.equalizeMs);
      });
      progress(
        `backlog ${backlog}: run ${i + 1}/${RUNS} failover ${fmt(xs[i]!)}, equalize ${fmt(eqs[i]!)}${floors[i] ? `, floor ${fmt(floors[i]!)}` : ''}`,
      );
    }
    rows.push({
      group: 'backlog',
      label: `1 + 3, target ${backlog.toLocaleString('en-US')} transactions behind (GTID)`,
      unit: 'ms',
      values: xs,
    });
    if (backlog > 0) {
      rows.push({
        group: 'backlog',
        label: `  equalization of those ${backlog.toLocaleString('en-US')} (GTID)`,
        unit: 'ms',
        values: eqs,
        floor: floors,
      });
    }
  }
}

/** The same backlog failed over by GTID and by file: what mapping positions through the relay log costs. */
async function byPositioning() {
  const backlog = QUICK ? 1000 : 10_000;
  for (const mode of ['gtid', 'file'] as const) {
    const xs: number[] = [];
    const eqs: number[] = [];
    const maps: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      await withSandbox(
        3,
        async (s) => {
          await test4Behind(s, 200, backlog);
          const r = await crashAndFailOverToTest4(s);
          xs.push(r.ms);
          eqs.push(r.equalizeMs);
          maps.push(r.mapMs);
        },
        false,
        mode,
      );
      progress(
        `${mode} positioning, ${backlog} behind: run ${i + 1}/${RUNS} failover ${fmt(xs[i]!)}, map ${fmt(maps[i]!)}, equalize ${fmt(eqs[i]!)}`,
      );
    }
    const n = backlog.toLocaleString('en-US');
    rows.push({
      group: 'positioning',
      label: `1 + 3, target ${n} behind, ${mode === 'gtid' ? 'GTID' : 'file and position'}`,
      unit: 'ms',
      values: xs,
    });
    if (mode === 'file')
      rows.push({
        group: 'positioning',
        label: `  mapping the target's position (relay log + binlog reads)`,
        unit: 'ms',
        values: maps,
      });
    rows.push({ group: 'positioning', label: `  equalization of those ${n}`, unit: 'ms', values: eqs });
  }
}

/**
 * 1 + 3 in sync, master killed, failover to test2: once as is, once with test4 MASTER_DELAY = 3600. A delayed
 * replica is never waited for (only stopped, then repointed keeping its delay), so the two should be close.
 */
async function byDelayed() {
  for (const delayed of [false, true]) {
    const xs: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      xs.push(
        await withSandbox(3, async (s) => {
          if (delayed) {
            await s.query('test4', 'STOP SLAVE');
            await s.query('test4', 'CHANGE MASTER TO MASTER_DELAY = 3600');
            await s.query('test4', 'START SLAVE');
          }
          await s.sandbox('load', '200');
          const [m] = await s.query('test1', 'SELECT @@gtid_binlog_pos AS g');
          for (const k of ['test2', 'test3']) await s.query(k, `SELECT MASTER_GTID_WAIT('${m!.g}', 30)`);
          if (!delayed) await s.query('test4', `SELECT MASTER_GTID_WAIT('${m!.g}', 30)`);
          await s.sandbox('kill', 'test1');
          return (await failover(s, 'test2')).ms;
        }),
      );
      progress(`1+3${delayed ? ', test4 delayed 3600 s' : ''}: run ${i + 1}/${RUNS} ${fmt(xs[i]!)}`);
    }
    const label = delayed ? '1 + 3, one of them delayed (MASTER_DELAY 3600)' : '1 + 3 in sync (beside the delayed row)';
    rows.push({ group: 'delayed', label, unit: 'ms', values: xs });
  }
}

/** Root only (network namespaces, sshd): a failover salvaging 1,000 transactions, beside one without them. */
async function bySalvage() {
  if (process.getuid?.() !== 0) {
    rows.push({ group: 'salvage', label: SALVAGE_ROW, unit: 'ms', values: [], note: 'needs root' });
    return;
  }
  const f = await measureSalvage(RUNS, progress);
  rows.push({ group: 'salvage', label: SALVAGE_ROW, unit: 'ms', values: f.withTail });
  rows.push({
    group: 'salvage',
    label: '  its salvage step (read over SSH, checked, decoded, applied)',
    unit: 'ms',
    values: f.salvageStep,
  });
  rows.push({ group: 'salvage', label: SALVAGE_BESIDE, unit: 'ms', values: f.without });
}
const SALVAGE_ROW = LABELS.salvage;
const SALVAGE_BESIDE = LABELS.unsalvaged;

/**
 * Unattended: the master is killed (-9) and an `--if-dead` run starts right after, with the default
 * confirmation window (deadConfirmSeconds 10): the time until the new master is writable, which is the window
 * plus the failover itself.
 */
async function byIfDead() {
  const xs: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    xs.push(
      await withSandbox(3, async (s) => {
        await s.sandbox('load', '200');
        const [m] = await s.query('test1', 'SELECT @@gtid_binlog_pos AS g');
        for (const k of ['test2', 'test3', 'test4']) await s.query(k, `SELECT MASTER_GTID_WAIT('${m!.g}', 30)`);
        const t = process.hrtime.bigint();
        await s.sandbox('kill', 'test1');
        const r = await execa('node', [CLI, '--cfg', s.cfg, '--failover-to', 'auto', '--if-dead', '--json'], {
          reject: false,
        });
        const ms = since(t);
        const [ro] = await s.query<{ ro: number }>('test2', 'SELECT @@read_only AS ro');
        if (r.exitCode !== 0 || Number(ro?.ro) !== 0) {
          throw new Error(`--if-dead failover failed (exit ${r.exitCode}): ${r.stderr}\n${r.stdout.slice(0, 2000)}`);
        }
        return ms;
      }),
    );
    progress(`kill -9 → --if-dead → writable test2: run ${i + 1}/${RUNS} ${fmt(xs[i]!)}`);
  }
  const label = 'kill -9 → writable new master, `--if-dead` started right after (deadConfirmSeconds 10)';
  rows.push({ group: 'ifdead', label, unit: 'ms', values: xs });
}

/** Several monitor hosts: the acting monitor dies mid-failover, another one's timer finishes it. */
async function byMonitors() {
  const xs = await measureMonitors(RUNS, progress);
  const label =
    `kill -9 of the acting monitor mid-failover → writable new master, finished by another monitor ` +
    `(3 monitors, lockTtlSeconds ${MONITOR_TTL_S}, timers every ${MONITOR_PERIOD_S} s)`;
  rows.push({ group: 'monitors', label, unit: 'ms', values: xs });
}

/**
 * Peak memory of a failover by file while the target is only 1,000 transactions behind but the best replica's
 * current relay log and binlog hold many more: what reading those logs costs in memory.
 */
async function byMemory() {
  for (const held of QUICK ? [10_000] : [10_000, 100_000]) {
    const peaks: number[] = [];
    const maps: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      await withSandbox(
        3,
        async (s) => {
          await test4Behind(s, held, 1000);
          const r = await crashAndFailOverToTest4(s);
          peaks.push(r.peakMiB);
          maps.push(r.mapMs);
        },
        false,
        'file',
      );
      progress(
        `memory, ${held} in the logs: run ${i + 1}/${RUNS} peak ${peaks[i]!.toFixed(0)} MiB, map ${fmt(maps[i]!)}`,
      );
    }
    const n = held.toLocaleString('en-US');
    rows.push({
      group: 'memory',
      label: `peak memory, by file, 1,000 behind, ${n} more transactions in the best replica's logs`,
      unit: 'MiB',
      values: peaks,
    });
    rows.push({ group: 'memory', label: `  mapping the target's position`, unit: 'ms', values: maps });
  }
}

/**
 * Planned switchover on network-namespace hosts with the writer VIP: how long writes were blocked, by mmmf's
 * own measure (VIP leaves or read_only, to VIP arrives and the new master is writable) and as seen by a
 * writer on the client host that writes only through the VIP.
 */
async function bySwitchover() {
  const r = await measureSwitchovers('flat', ['test2', 'test3', 'test1', 'test4', 'test2']);
  if (!r) return;
  rows.push({
    group: 'switchover',
    label: "switchover with VIP move: writes blocked (mmmf's measure)",
    unit: 'ms',
    values: r.measured,
  });
  rows.push({
    group: 'switchover',
    label: '  longest gap seen by a writer through the VIP',
    unit: 'ms',
    values: r.seen,
  });
  rows.push({ group: 'switchover', label: LABELS.perWrite, unit: 'ms', values: r.perWrite });
  rows.push({ group: 'switchover', label: LABELS.vipGap, unit: 'ms', values: r.vipGap });
}

/** MMM's move_role writer: a master-master pair switching back and forth, the pair kept circular. */
async function byPair() {
  const r = await measureSwitchovers('pair', ['test2', 'test1']);
  if (!r) return;
  rows.push({
    group: 'pair',
    label: "pair switchover with VIP move: writes blocked (mmmf's measure)",
    unit: 'ms',
    values: r.measured,
  });
  rows.push({ group: 'pair', label: '  longest gap seen by a writer through the VIP', unit: 'ms', values: r.seen });
  rows.push({ group: 'pair', label: LABELS.perWrite, unit: 'ms', values: r.perWrite });
  rows.push({ group: 'pair', label: LABELS.vipGap, unit: 'ms', values: r.vipGap });
}

/**
 * Switchovers on network-namespace hosts while a writer writes through the writer VIP: mmmf's measure of the
 * write block, and the longest gap between two acknowledged writes the writer saw. Undefined without root.
 */
async function measureSwitchovers(
  topology: 'flat' | 'pair',
  targets: string[],
): Promise<{ measured: number[]; seen: number[]; perWrite: number[]; vipGap: number[] } | undefined> {
  if (process.getuid?.() !== 0) {
    const group = topology === 'pair' ? 'pair' : 'switchover';
    rows.push({
      group,
      label: `${group} with VIP move`,
      unit: 'ms',
      values: [],
      note: 'needs root (network namespaces)',
    });
    return undefined;
  }
  const measured: number[] = [];
  const seen: number[] = [];
  const perWrite: number[] = [];
  const vipGap: number[] = [];
  await withSandbox(
    3,
    async (s) => {
      await s.query(
        'test1',
        'CREATE TABLE IF NOT EXISTS sbtest.ledger (writer INT NOT NULL, seq INT NOT NULL, PRIMARY KEY (writer, seq))',
      );
      const vip = /address: '([\d.]+)\//.exec(readFileSync(s.cfg, 'utf8'))![1]!;
      const writerJs = join(ROOT, 'dist/harness/vip-writer.js');
      for (let i = 0; i < Math.max(RUNS, 3); i++) {
        // One writer keeps its connection (reconnecting on failure), one opens a connection per write.
        const writer = s.sandbox('client', 'node', writerJs, vip, 'app', 'app-secret', '8', String(100 + i));
        const each = s.sandbox('client', 'node', writerJs, vip, 'app', 'app-secret', '8', String(200 + i), 'per-write');
        await new Promise((r) => setTimeout(r, 2500));
        const target = targets[i % targets.length]!;
        const r = await s.sandbox('client', 'node', CLI, '--cfg', s.cfg, '--switchover-to', target, '--json');
        const out = JSON.parse(r) as { ok: boolean; writesBlockedMs?: number; vipGapMs?: number };
        if (!out.ok || out.writesBlockedMs === undefined) throw new Error(`switchover failed: ${r.slice(0, 2000)}`);
        const gap = longestGap(await writer);
        const gapEach = longestGap(await each);
        measured.push(out.writesBlockedMs);
        seen.push(gap);
        perWrite.push(gapEach);
        if (out.vipGapMs !== undefined) vipGap.push(out.vipGapMs);
        progress(
          `${topology} switchover ${i + 1}: mmmf measured ${fmt(out.writesBlockedMs)}, VIP on no host ` +
            `${out.vipGapMs ?? '?'} ms, writers saw gaps of ${fmt(gap)} (one connection) and ${fmt(gapEach)} ` +
            `(a connection per write)`,
        );
      }
    },
    true,
    'gtid',
    topology,
  );
  return { measured, seen, perWrite, vipGap };
}

/** The longest time between two acknowledged writes in a writer's output. */
function longestGap(output: string): number {
  const acks = output
    .split('\n')
    .filter((l) => l.startsWith('ack '))
    .map((l) => Number(l.split(' ')[2]));
  let gap = 0;
  for (let k = 1; k < acks.length; k++) gap = Math.max(gap, acks[k]! - acks[k - 1]!);
  return gap;
}

/**
 * Runs each command once per round, `rounds` rounds, starting each round one command further along so none
 * always runs first; a first round, not counted, warms the page cache and the compiled-config cache. On a shared,
 * noisy machine a burst of load then hits every command alike, and ratios of medians from the same rounds hold.
 */
function interleaved<K extends string>(rounds: number, commands: Record<K, string[]>): Record<K, number[]> {
  const keys = Object.keys(commands) as K[];
  const times = Object.fromEntries(keys.map((k) => [k, [] as number[]])) as Record<K, number[]>;
  for (let round = -1; round < rounds; round++) {
    for (let i = 0; i < keys.length; i++) {
      const k = keys[(i + Math.max(round, 0)) % keys.length]!;
      const t = process.hrtime.bigint();
      const r = spawnSync(process.execPath, commands[k], { stdio: ['ignore', 'ignore', 'pipe'] });
      const ms = since(t);
      if (r.status !== 0) throw new Error(`${commands[k].join(' ')}: exit ${r.status}: ${String(r.stderr)}`);
      if (round >= 0) times[k].push(ms);
    }
  }
  return times;
}

/**
 * Start-up against `node -e 0` measured in the same rounds: `--help` (yargs only), `status` of a 4-host
 * sandbox (config from the compiled-config cache, the MySQL driver, one probe per host) and a failover
 * `--dry-run` with the master down (probe and plan). Goals are ratios to `node -e 0`.
 */
async function startup() {
  const rounds = Math.max(RUNS, QUICK ? 5 : 10);
  await withSandbox(3, async (s) => {
    await s.sandbox('load', '100');
    const up = interleaved(rounds, {
      node: ['-e', '0'],
      help: [CLI, '--help'],
      status: [CLI, 'status', '--cfg', s.cfg],
    });
    progress(`start-up, 4 hosts up: ${rounds} rounds of node -e 0, --help, status`);
    await s.sandbox('kill', 'test1');
    const down = interleaved(rounds, {
      node: ['-e', '0'],
      dry: [CLI, '--cfg', s.cfg, '--failover-to', 'test2', '--dry-run'],
    });
    progress(`start-up, master down: ${rounds} rounds of node -e 0, --dry-run`);
    const row = (label: string, values: number[], floor: number[], goal?: number): Row => ({
      group: 'startup',
      label,
      unit: 'ms',
      values,
      floor,
      ...(goal ? { goal } : {}),
    });
    rows.push(
      { group: 'startup', label: '`node -e 0` (the floor of the start-up rows)', unit: 'ms', values: up.node },
      row('`mmmf --help`', up.help, up.node, 2.0),
      row('`mmmf status`, 1 + 3 (4 hosts up)', up.status, up.node, 2.5),
      row('`mmmf --dry-run` (1 + 3, master down)', down.dry, down.node),
    );
  });
}

/** Ratios of each run to the floor of the same run, when the floor was measured run by run: their range. */
function pairedSpread(r: Row): string {
  if (!r.floor || r.floor.length !== r.values.length || r.values.length < 2) return '';
  const ratios = r.values.map((x, i) => x / r.floor![i]!);
  return ` (runs ${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)})`;
}

/** The goal beside the figure, and whether the median meets it. */
function goalCell(r: Row, ratio: number | undefined): string {
  if (r.goal === undefined || ratio === undefined) return '';
  return `≤ ${r.goal.toFixed(1)}× ${ratio <= r.goal ? 'met' : '**not met**'}`;
}

function table(): string {
  const L = [
    '| measurement | median | min | max | runs | floor (median) | ratio to floor | goal |',
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const r of rows) {
    if (!r.values.length) {
      L.push(`| ${r.label} | ${r.note ?? '-'} | | | | | | |`);
      continue;
    }
    const f = r.floor?.length ? median(r.floor) : undefined;
    const v = (x: number) => fmtIn(r.unit, x);
    const ratio = f ? median(r.values) / f : undefined;
    L.push(
      `| ${r.label} | ${v(median(r.values))} | ${v(Math.min(...r.values))} | ${v(Math.max(...r.values))} | ${r.values.length} | ${f ? v(f) : ''} | ${ratio ? `${ratio.toFixed(2)}${pairedSpread(r)}` : ''} | ${goalCell(r, ratio)} |`,
    );
  }
  // The goals (bench-goals.ts) are printed above this table, each beside its target.
  return L.join('\n');
}

async function main() {
  const started = new Date();
  process.stderr.write(`bench: ${RUNS} run(s) per figure${QUICK ? ' (quick)' : ''}\n`);
  // --only GROUP[,GROUP]: measure those groups and replace them in the last results, keeping the others.
  const onlyArg = process.argv.indexOf('--only');
  const only = onlyArg > 0 ? process.argv[onlyArg + 1]!.split(',') : undefined;
  const groups: Record<string, () => Promise<void>> = {
    startup,
    insync: byInSync,
    replicas: byReplicas,
    backlog: byBacklog,
    positioning: byPositioning,
    memory: byMemory,
    switchover: bySwitchover,
    pair: byPair,
    delayed: byDelayed,
    ifdead: byIfDead,
    salvage: bySalvage,
    monitors: byMonitors,
  };
  if (only) {
    const previous = JSON.parse(readFileSync(join(ROOT, 'bench/results.json'), 'utf8')) as { rows: Row[] };
    for (const g of Object.keys(groups)) {
      if (only.includes(g)) await groups[g]!();
      else rows.push(...previous.rows.filter((r) => r.group === g));
    }
  } else {
    for (const fn of Object.values(groups)) await fn();
  }
  const header =
    `${started.toISOString()} · ${(await execa('mariadbd', ['--version'])).stdout.trim()} · node ${process.version} · ` +
    `${(await import('node:os')).cpus().length} cores · ${RUNS} run(s) per figure · load average at the end ` +
    `${(await import('node:os')).loadavg()[0]!.toFixed(1)} (a shared machine: each ratio is taken within one run)` +
    (only ? ` · measured now: ${only.join(', ')}; the other groups are the last run's` : '');
  const goalsMd = goalsTable(rows);
  const md =
    `# mmmf benchmark\n\n${header}\n\n## Goals\n\n${goalsMd}\n\n## Figures\n\n${table()}\n\nWall time of the whole \`mmmf\` process (node start-up, probe, plan, execution, final probe); ` +
    'memory = its peak resident set (GNU time). ' +
    'Equalization = the target\'s "catch up from the best replica" step; floor = the same replica applying the same backlog ' +
    'through ordinary replication from the old master before it died.\n';
  console.log('\n' + md);
  mkdirSync(join(ROOT, 'bench'), { recursive: true });
  writeFileSync(join(ROOT, 'bench/results.md'), md);
  writeFileSync(
    join(ROOT, 'bench/results.json'),
    JSON.stringify({ started, runs: RUNS, quick: QUICK, rows }, null, 2) + '\n',
  );
  const readme = writeReadmeGoals(join(ROOT, 'README.md'), header, goalsMd);
  process.stderr.write(`bench: written to bench/results.md and bench/results.json${readme ? ' and README.md' : ''}\n`);
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});

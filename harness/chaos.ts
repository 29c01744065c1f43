// The crash harness behind `npm run chaos`: per iteration a fresh sandbox, concurrent write load, random lag
// per replica, kill -9 of the master at a random moment, failover to a random replica, then every invariant
// a DBA cares about is checked. Decisions come from the seed (iteration i of seed S = iteration 0 of seed S+i),
// counted in master transactions, so an iteration is replayed with `--seed S+i --iterations 1`.
import { execa } from 'execa';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { dataFingerprint, mmmf, startCluster, type Cluster } from './cluster.js';
import { type ChaosScenario, describeScenario, drawScenario, type LagPlan } from './chaos-scenario.js';
import { EVENTS_DDL, LEDGER_DDL, LEDGER_KEYS, gtidSeq, startLoad, until } from './load.js';

export interface ChaosOptions {
  iterations: number;
  seed: number;
  replicas: number;
  basePort: number;
  log: (line: string) => void;
}

export interface IterationResult {
  seed: number;
  ok: boolean;
  line: string;
  violations: string[];
  /** The cluster folder, kept for inspection when an invariant broke. */
  keptAt?: string;
}

/**
 * Where each of the dead master's transactions ends in its binlog, read offline from its files with
 * mariadb-binlog (the harness's own ground truth; mmmf never reads binlog files). Lets the harness say which
 * GTID a replica had received from its old-master coordinates alone, as file positioning sees it.
 */
async function masterTransactionEnds(dataDir: string): Promise<{ file: number; end: number; seq: number }[]> {
  const out: { file: number; end: number; seq: number }[] = [];
  const files = readdirSync(dataDir)
    .filter((f) => /^mysql-bin\.\d+$/.test(f))
    .sort();
  for (const f of files) {
    const text = (await execa('mariadb-binlog', [join(dataDir, f)], { reject: false })).stdout;
    let current: { seq: number; end: number } | undefined;
    for (const m of text.matchAll(/end_log_pos (\d+) CRC32 \S+\s+(GTID 0-\d+-(\d+)|.*)/g)) {
      const end = Number(m[1]);
      if (m[3]) {
        if (current) out.push({ file: Number(f.split('.')[1]), ...current });
        current = { seq: Number(m[3]), end };
      } else if (/^(Rotate|Stop)/.test(m[2]!)) {
        if (current) out.push({ file: Number(f.split('.')[1]), ...current });
        current = undefined;
      } else if (current) current.end = end;
    }
    // The last transaction of the file the master was writing when it died may be incomplete: only count
    // what mariadb-binlog could read to its end.
    if (current) out.push({ file: Number(f.split('.')[1]), ...current });
  }
  return out;
}

export async function runChaos(
  o: ChaosOptions,
): Promise<{ passed: number; failed: number; results: IterationResult[] }> {
  const results: IterationResult[] = [];
  for (let i = 0; i < o.iterations; i++) {
    const r = await iteration(o.seed + i, o);
    results.push(r);
    o.log(`${r.ok ? 'ok  ' : 'FAIL'} ${i + 1}/${o.iterations} ${r.line}`);
    if (!r.ok) {
      for (const v of r.violations) o.log(`     ✖ ${v}`);
      o.log(`     replay: npm run chaos -- --seed ${r.seed} --iterations 1 --replicas ${o.replicas}`);
      if (r.keptAt)
        o.log(
          `     cluster kept for inspection in ${r.keptAt} (stop it: bash scripts/sandbox.sh --dir ${r.keptAt} down)`,
        );
      break; // its ports stay taken by the kept cluster
    }
  }
  const passed = results.filter((r) => r.ok).length;
  return { passed, failed: results.length - passed, results };
}

type Status = Record<string, string>;
const slaveStatus = async (c: Cluster, n: string): Promise<Status> =>
  (await c.query<Status>(n, 'SHOW SLAVE STATUS'))[0] ?? {};
const readOnly = async (c: Cluster, n: string) =>
  Number((await c.query<{ ro: number }>(n, 'SELECT @@read_only AS ro'))[0]?.ro);

/** The sandbox config with test1 named otherwise (a `socket` keeps it reachable; without one, it is not). */
function aliasConfig(c: Cluster, test1: string, file: string): string {
  const path = join(c.dir, file);
  writeFileSync(
    path,
    `import base from './mmmf.config.ts';\nexport default { ...base, hosts: { ...base.hosts, test1: ${test1} } };\n`,
  );
  return path;
}

/** Replica states real clusters are in, set up before the load: delay, parallel appliers, purged relay logs. */
async function prepare(c: Cluster, s: ChaosScenario): Promise<void> {
  await c.query('test1', EVENTS_DDL);
  await c.query('test1', LEDGER_DDL);
  await c.query('test1', 'CREATE TABLE IF NOT EXISTS sbtest.drift (id INT PRIMARY KEY) ENGINE=InnoDB');
  // Every replica holds the tables before any is reconfigured (a replica delayed from here on would not).
  const ddlDone = await gtidSeq(c, 'test1');
  for (const l of s.lag) {
    await until(
      async () => (await gtidSeq(c, l.name, 'gtid_slave_pos')) >= ddlDone,
      30_000,
      `${l.name} to hold the tables`,
    );
  }
  if (s.pair) {
    // A planned switchover to the passive and back, under writes: the pair stays circular each time.
    for (const to of ['test2', 'test1']) {
      await c.sandbox('load', '50');
      const r = await mmmf(['--cfg', c.cfg, '--switchover-to', to]);
      if (r.exitCode !== 0) {
        throw new Error(`pair switchover to ${to}: exit ${r.exitCode}: ${r.stderr || r.stdout.slice(-1500)}`);
      }
    }
  }
  const reconfigure = async (n: string, sql: string[]) => {
    await c.query(n, 'STOP SLAVE');
    for (const q of sql) await c.query(n, q);
    await c.query(n, 'START SLAVE');
  };
  for (const n of s.parallel) {
    await reconfigure(n, ['SET GLOBAL slave_parallel_threads = 4', "SET GLOBAL slave_parallel_mode = 'optimistic'"]);
  }
  if (s.delayed) await reconfigure(s.delayed.name, ['CHANGE MASTER TO MASTER_DELAY = 3600']);
  if (s.purge) await reconfigure(s.purge, ['SET GLOBAL relay_log_purge = ON', 'SET GLOBAL max_relay_log_size = 4096']);
  if (s.drift) {
    await until(
      async () => (await c.query(s.drift!, 'SHOW TABLES IN sbtest LIKE "drift"')).length === 1,
      30_000,
      'drift table',
    );
    const conn = await c.connect(s.drift);
    await conn.query('SET SESSION sql_log_bin = 0'); // invisible to GTIDs: only the collision will tell
    await conn.query('INSERT INTO sbtest.drift VALUES (1)');
    await conn.end();
  }
}

/** Fires each lag action when the master has committed that many transactions (counted from `base`). */
async function lagActions(c: Cluster, lag: LagPlan[], base: number, rotateAt?: number): Promise<void> {
  const actions: { at: number; n: string; run: () => Promise<unknown> }[] = [];
  const sql = (n: string, q: string) => () => c.query(n, q);
  for (const l of lag) {
    if (l.mode === 'io-stop') actions.push({ at: l.at, n: l.name, run: sql(l.name, 'STOP SLAVE IO_THREAD') });
    if (l.mode === 'sql-pause') actions.push({ at: l.at, n: l.name, run: sql(l.name, 'STOP SLAVE SQL_THREAD') });
    if (l.mode === 'both-stop') {
      actions.push({ at: l.at, n: l.name, run: sql(l.name, 'STOP SLAVE SQL_THREAD') });
      actions.push({ at: l.ioAt!, n: l.name, run: sql(l.name, 'STOP SLAVE IO_THREAD') });
    }
    if (l.mode === 'backup') actions.push({ at: l.at, n: l.name, run: () => stopAsBackup(c, l.name) });
  }
  if (rotateAt) actions.push({ at: rotateAt, n: 'test1', run: sql('test1', 'FLUSH BINARY LOGS') });
  for (const a of actions.sort((x, y) => x.at - y.at)) {
    await until(async () => (await gtidSeq(c, 'test1')) - base >= a.at, 120_000, `master transaction ${a.at}`);
    await a.run();
  }
}

/**
 * A backup job's replica: stops receiving, applies everything it received, then stops (both threads). Its
 * IO thread may stop inside a transaction, so "applied" is the SQL thread idling at the end of its relay log
 * with nothing moving, not Exec = Read.
 */
async function stopAsBackup(c: Cluster, n: string): Promise<void> {
  await c.query(n, 'STOP SLAVE IO_THREAD');
  let last = '';
  await until(
    async () => {
      const s = await slaveStatus(c, n);
      const at = `${s.Relay_Log_File}:${s.Relay_Log_Pos}`;
      const idle = /read all relay log/i.test(s.Slave_SQL_Running_State ?? '') && at === last;
      last = at;
      if (!idle) await new Promise((r) => setTimeout(r, 300));
      return idle;
    },
    60_000,
    `${n} to apply its relay log`,
  );
  await c.query(n, 'STOP SLAVE');
}

async function iteration(seed: number, o: ChaosOptions): Promise<IterationResult> {
  const s = drawScenario(seed, o.replicas);
  const names = s.lag.map((l) => l.name);
  const violations: string[] = [];
  let c: Cluster | undefined;
  let keep = false;
  let line = describeScenario(seed, s);
  try {
    c = await startCluster({
      basePort: o.basePort,
      replicas: o.replicas,
      format: s.format,
      positioning: s.positioning,
      ...(s.pair ? { topology: 'pair' as const } : {}),
    });
    const cl = c;
    await prepare(cl, s);
    const base = await gtidSeq(cl, 'test1');
    const load = await startLoad(cl, 'test1', s.writers, seed);
    await lagActions(cl, s.lag, base, s.purge ? Math.floor(s.killAt / 2) : undefined);
    if (s.drift) {
      // The colliding row: another replica must hold it before the crash (the drifted one lags).
      await cl.query('test1', 'INSERT INTO sbtest.drift VALUES (1)');
      const witness = s.lag.find((l) => l.mode === 'sync' && l.name !== s.drift && l.name !== s.delayed?.name)!.name;
      await until(
        async () => (await cl.query(witness, 'SELECT 1 FROM sbtest.drift')).length === 1,
        30_000,
        'drift row',
      );
    }
    if (s.aliveAliasCheck) {
      // Only a master some replica is still connected to can be told alive; with none, a run cannot know.
      const connected = await Promise.all(
        names.map(async (n) => (await slaveStatus(cl, n)).Slave_IO_Running === 'Yes'),
      );
      if (connected.some(Boolean)) violations.push(...(await aliveAliasRefusal(cl, names)));
      else line += ' (alive-alias skipped: no replica connected)';
    }
    await until(async () => (await gtidSeq(cl, 'test1')) - base >= s.killAt, 120_000, `master transaction ${s.killAt}`);
    await cl.sandbox('kill', 'test1');
    await load.stop();
    // An IO thread can take a moment to notice the crash; until then mmmf rightly refuses (the master may be
    // alive). Cron would simply run again: wait as it would.
    await until(
      async () =>
        (await Promise.all(names.map((n) => slaveStatus(cl, n)))).every((st) => st.Slave_IO_Running !== 'Yes'),
      30_000,
      'replicas to notice the crash',
    );
    for (const n of s.stopAfterCrash) await cl.query(n, 'STOP SLAVE');

    const seen = await whatReplicasHold(cl, names);
    const maxReceived = Math.max(...Object.values(seen.received));
    const candidates = names.filter((n) => n !== s.delayed?.name || s.delayed.lift);
    const laggard = candidates.reduce((a, b) => (seen.received[b]! < seen.received[a]! ? b : a));
    let target = s.drift ?? (s.mostLagging ? laggard : candidates[Math.floor(s.targetPick * candidates.length)]!);
    line += ` → ${target}${target === laggard ? ' (most lagging)' : ''} behind=${maxReceived - seen.received[target]!}`;
    const cfg = s.alias
      ? aliasConfig(
          cl,
          `{ host: 'localhost', port: ${cl.port('test1')}, socket: '${join(cl.dir, 'test1', 'mariadbd.sock')}' }`,
          'alias.config.ts',
        )
      : cl.cfg;
    const lift = s.delayed?.lift ? ['--lift-delay'] : [];

    const t0 = Date.now();
    let out: RunOutput;
    if (s.drift) {
      const failed = await runJson(cfg, target, lift);
      violations.push(...(await driftOutcome(cl, s.drift, names, failed)));
      // Continue to the replica that received the most (it holds everything): that must work.
      target = names
        .filter((n) => n !== s.drift && n !== s.delayed?.name)
        .reduce((a, b) => (seen.received[b]! > seen.received[a]! ? b : a));
      line += ` then → ${target}`;
    } else if (s.killAtStep) {
      const killed = await runJson(cfg, target, lift, { MMMF_TEST_KILL_AT_STEP: String(s.killAtStep) });
      // A plan shorter than the kill step finished; running it again must say there is nothing to do.
      line += killed.exitCode === 0 ? ' (plan shorter than the kill step; run again)' : ' (killed, resumed)';
    }
    out = await runJson(cfg, target, lift);
    if (out.exitCode === 3 && /--lift-delay/.test(out.stderr) && s.delayed && !s.delayed.lift) {
      // Only the delayed replica received the newest transactions: refused, as it must be; lifting keeps them.
      line += ' (refused: delayed holds the most; lifted)';
      s.delayed.lift = true;
      out = await runJson(cfg, target, ['--lift-delay']);
    }
    line += ` failover=${((Date.now() - t0) / 1000).toFixed(2)}s`;
    if (out.exitCode !== 0) violations.push(`mmmf exited ${out.exitCode}: ${out.why}`);
    const partial = (out.json.results ?? []).some((r) => /incomplete one/.test(r.detail));
    const left = new Set(
      [s.drift, s.delayed && !s.delayed.lift ? s.delayed.name : undefined].filter(Boolean) as string[],
    );
    violations.push(
      ...(await checkInvariants(cl, {
        names,
        target,
        seen,
        left,
        partial,
        seed,
        delayed: s.delayed,
        positioning: s.positioning,
      })),
    );
    if (violations.length) {
      keep = true;
      violations.push(`plan: ${JSON.stringify(out.json.plan ?? null).slice(0, 4000)}`);
    }
  } catch (err) {
    violations.push(`harness error: ${(err as Error).stack ?? String(err)}`);
    keep = true;
  } finally {
    if (c && !keep) await c.down();
  }
  return { seed, ok: violations.length === 0, line, violations, ...(keep && c ? { keptAt: c.dir } : {}) };
}

interface RunOutput {
  exitCode: number;
  stderr: string;
  why: string;
  json: { results?: { n: number; host: string; status: string; detail: string }[]; plan?: unknown };
}

async function runJson(
  cfg: string,
  target: string,
  extra: string[],
  env: Record<string, string> = {},
): Promise<RunOutput> {
  const r = await mmmf(['--cfg', cfg, '--failover-to', target, '--json', ...extra], env);
  let json: RunOutput['json'] = {};
  try {
    json = JSON.parse(r.stdout) as RunOutput['json'];
  } catch {
    // killed, or refused before printing a plan: stderr says why
  }
  const failedSteps = (json.results ?? [])
    .filter((x) => x.status !== 'done' && x.status !== 'skipped')
    .map((x) => `step ${x.n} ${x.host} ${x.status}: ${x.detail}`)
    .join('; ');
  return {
    exitCode: r.exitCode,
    stderr: r.stderr,
    json,
    why: r.stderr.trim() || failedSteps || r.stdout.slice(0, 500),
  };
}

/** With the master alive and configured at an address mmmf cannot reach: refused, and nothing changed. */
async function aliveAliasRefusal(c: Cluster, names: string[]): Promise<string[]> {
  const cfg = aliasConfig(c, `{ host: '127.0.0.2', port: ${c.port('test1')} }`, 'unreachable-alias.config.ts');
  const before = await Promise.all(
    names.map((n) => slaveStatus(c, n).then((st) => `${st.Master_Port} ${st.Using_Gtid}`)),
  );
  const r = await mmmf(['--cfg', cfg, '--failover-to', names[0]!]);
  const after = await Promise.all(
    names.map((n) => slaveStatus(c, n).then((st) => `${st.Master_Port} ${st.Using_Gtid}`)),
  );
  const out: string[] = [];
  // Replicas whose IO thread a lag action stopped are not "connected"; with none connected mmmf may proceed.
  if (r.exitCode !== 3)
    out.push(`alive master at an unreachable alias: exit ${r.exitCode}, expected 3 (${r.stderr.slice(0, 300)})`);
  if (after.join() !== before.join())
    out.push(`alive master at an unreachable alias: replication changed (${before} → ${after})`);
  if ((await readOnly(c, 'test1')) !== 0)
    out.push('alive master at an unreachable alias: the master was made read-only');
  return out;
}

/** A target that could not be brought up: nothing promoted, nothing pointed at it, no server writable. */
async function driftOutcome(c: Cluster, drift: string, names: string[], r: RunOutput): Promise<string[]> {
  const out: string[] = [];
  if (r.exitCode !== 1 && r.exitCode !== 3) out.push(`drifted target ${drift}: exit ${r.exitCode}, expected 1 or 3`);
  for (const n of names) {
    if ((await readOnly(c, n)) === 0)
      out.push(`drifted target: ${n} is writable after a failover that promoted nobody`);
    if (n === drift) continue;
    const st = await slaveStatus(c, n);
    if (Number(st.Master_Port) === c.port(drift)) out.push(`${n} was pointed at ${drift}, which was never promoted`);
  }
  return out;
}

interface Seen {
  /** Ledger rows any replica had applied before the failover. */
  before: Set<string>;
  received: Record<string, number>;
}

/** What reached any replica: ledger rows applied, and GTIDs received (applied or only in a relay log). */
async function whatReplicasHold(c: Cluster, names: string[]): Promise<Seen> {
  const before = new Set<string>();
  const received: Record<string, number> = {};
  const ends = await masterTransactionEnds(join(c.dir, 'test1', 'data'));
  for (const n of names) {
    const applied = await gtidSeq(c, n, 'gtid_slave_pos');
    for (const r of await c.query<{ k: string }>(n, LEDGER_KEYS)) before.add(r.k);
    const st = await slaveStatus(c, n);
    // Received = applied, or in the relay log: by GTID (GTID mode only) and by old-master coordinates.
    const file = Number(st.Master_Log_File?.split('.')[1] ?? 0);
    const read = Number(st.Read_Master_Log_Pos ?? 0);
    const byCoordinates = Math.max(
      0,
      ...ends.filter((e) => e.file < file || (e.file === file && e.end <= read)).map((e) => e.seq),
    );
    received[n] = Math.max(Number(/0-1-(\d+)/.exec(st.Gtid_IO_Pos ?? '')?.[1] ?? 0), applied, byCoordinates);
  }
  return { before, received };
}

/**
 * Every promise, on the servers as they are: nothing any replica received is missing on a survivor, identical
 * data, exactly one writable server, every replica replicating from the new master (a delayed one with its
 * delay, or left stopped by file), and a fresh write reaches every survivor.
 */
async function checkInvariants(
  c: Cluster,
  o: {
    names: string[];
    target: string;
    seen: Seen;
    left: Set<string>;
    partial: boolean;
    seed: number;
    delayed: ChaosScenario['delayed'];
    positioning: 'gtid' | 'file';
  },
): Promise<string[]> {
  const v: string[] = [];
  const survivors = o.names.filter((n) => !o.left.has(n));
  const maxReceived = Math.max(
    ...o.names.filter((n) => n !== o.delayed?.name || o.delayed.lift).map((n) => o.seen.received[n]!),
  );
  for (const n of survivors) {
    const keys = new Set((await c.query<{ k: string }>(n, LEDGER_KEYS)).map((x) => x.k));
    const lost = [...o.seen.before].filter((k) => !keys.has(k));
    if (lost.length)
      v.push(`${n} lacks ${lost.length} transactions another replica had, e.g. ${lost.slice(0, 5).join(' ')}`);
    const seq = await gtidSeq(c, n, 'gtid_slave_pos');
    if (seq < maxReceived - (o.partial ? 1 : 0))
      v.push(`${n} is at GTID seq ${seq}, but ${maxReceived} had been received`);
  }
  const prints = await Promise.all(survivors.map(async (n) => [n, await dataFingerprint(c, n)] as const));
  if (new Set(prints.map((p) => p[1])).size !== 1)
    v.push(`data differs: ${prints.map(([n, f]) => `${n}: ${f}`).join(' | ')}`);
  const writable = [];
  for (const n of o.names) {
    if ((await readOnly(c, n)) === 0) writable.push(n);
    if (n === o.target) continue;
    const st = await slaveStatus(c, n);
    const state = [String(st.Master_Port), st.Slave_IO_Running, st.Slave_SQL_Running].join(' ');
    const stopped = st.Slave_IO_Running === 'No' && st.Slave_SQL_Running === 'No';
    if (n === o.delayed?.name && !o.delayed.lift) {
      const want = o.positioning === 'gtid' ? `${c.port(o.target)} Yes Yes` : undefined;
      if (want ? state !== want || String(st.SQL_Delay) !== '3600' : !stopped) {
        v.push(
          `delayed ${n}: port/IO/SQL = ${state}, delay ${st.SQL_Delay}; expected ${want ? `${want}, delay 3600` : 'stopped'}`,
        );
      }
    } else if (o.left.has(n)) {
      // Never promoted: it may point at the new master (stopped after a failed catch-up), never elsewhere running.
      if (!stopped && Number(st.Master_Port) !== c.port(o.target))
        v.push(`${n} replicates from ${st.Master_Port}, not the master`);
    } else if (state !== `${c.port(o.target)} Yes Yes` || st.Last_Error) {
      v.push(`${n} replication: port/IO/SQL = ${state}, error '${st.Last_Error ?? ''}'`);
    }
  }
  if (writable.join() !== o.target) v.push(`writable servers: [${writable.join(', ')}], expected only ${o.target}`);
  await c.query(o.target, `INSERT INTO sbtest.ledger (writer, seq) VALUES (0, ${o.seed})`);
  for (const n of survivors) {
    try {
      const fresh = `SELECT 1 FROM sbtest.ledger WHERE writer = 0 AND seq = ${o.seed}`;
      await until(async () => (await c.query(n, fresh)).length === 1, 10_000, `fresh write on ${n}`);
    } catch {
      v.push(`a fresh write on ${o.target} did not reach ${n} within 10 s`);
    }
  }
  return v;
}

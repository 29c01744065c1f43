// The crash harness behind `npm run chaos`: per iteration a fresh sandbox, concurrent write load, random lag
// per replica, kill -9 of the master at a random moment, failover to a random replica, then every invariant
// a DBA cares about is checked. Decisions come from the seed (iteration i of seed S = iteration 0 of seed S+i),
// counted in master transactions, so an iteration is replayed with `--seed S+i --iterations 1`.
import { execa } from 'execa';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { dataFingerprint, mmmf, startCluster, type Cluster } from './cluster.js';
import { EVENTS_DDL, LEDGER_DDL, LEDGER_KEYS, gtidSeq, rng, startLoad, until } from './load.js';

export interface ChaosOptions {
  iterations: number;
  seed: number;
  replicas: number;
  basePort: number;
  log: (line: string) => void;
}

type LagMode = 'sync' | 'io-stop' | 'sql-pause' | 'both-stop';
interface LagPlan {
  name: string;
  mode: LagMode;
  at: number;
  ioAt?: number;
}

export interface IterationResult {
  seed: number;
  ok: boolean;
  line: string;
  violations: string[];
  /** The cluster folder, kept for inspection when an invariant broke. */
  keptAt?: string;
}

const FORMATS = ['ROW', 'STATEMENT', 'MIXED'] as const;

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
const MODES: LagMode[] = ['sync', 'io-stop', 'sql-pause', 'both-stop'];

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

async function iteration(seed: number, o: ChaosOptions): Promise<IterationResult> {
  const rand = rng(seed);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(rand() * xs.length)]!;
  const int = (lo: number, hi: number) => lo + Math.floor(rand() * (hi - lo + 1));
  const format = pick(FORMATS);
  const writers = int(2, 5);
  const names = Array.from({ length: o.replicas }, (_, k) => `test${k + 2}`);
  const lag: LagPlan[] = names.map((name) => {
    const mode = pick(MODES);
    const at = int(20, 1500);
    return { name, mode, at, ...(mode === 'both-stop' ? { ioAt: at + int(20, 400) } : {}) };
  });
  const killAt = Math.max(...lag.map((l) => l.ioAt ?? l.at)) + int(10, 1200);
  const mostLagging = rand() < 0.35;
  const targetPick = rand();
  const positioning = rand() < 0.4 ? 'file' : 'gtid';
  const violations: string[] = [];
  let c: Cluster | undefined;
  let keep = false;
  let line = `seed=${seed} ${format} ${positioning} writers=${writers} lag=[${lag.map((l) => `${l.name}:${l.mode}${l.mode === 'sync' ? '' : `@${l.at}`}${l.ioAt ? `/${l.ioAt}` : ''}`).join(' ')}] kill@${killAt}`;
  try {
    c = await startCluster({ basePort: o.basePort, replicas: o.replicas, format, positioning });
    const cl = c;
    await cl.query('test1', EVENTS_DDL);
    await cl.query('test1', LEDGER_DDL);
    const base = await gtidSeq(cl, 'test1');
    const load = await startLoad(cl, 'test1', writers, seed);
    // Fire each lag action when the master has committed that many transactions, then the kill.
    const actions = lag
      .flatMap((l) =>
        l.mode === 'sync'
          ? []
          : l.mode === 'io-stop'
            ? [{ at: l.at, n: l.name, sql: 'STOP SLAVE IO_THREAD' }]
            : l.mode === 'sql-pause'
              ? [{ at: l.at, n: l.name, sql: 'STOP SLAVE SQL_THREAD' }]
              : [
                  { at: l.at, n: l.name, sql: 'STOP SLAVE SQL_THREAD' },
                  { at: l.ioAt!, n: l.name, sql: 'STOP SLAVE IO_THREAD' },
                ],
      )
      .sort((a, b) => a.at - b.at);
    for (const a of actions) {
      await until(async () => (await gtidSeq(cl, 'test1')) - base >= a.at, 120_000, `master transaction ${a.at}`);
      await cl.query(a.n, a.sql);
    }
    await until(async () => (await gtidSeq(cl, 'test1')) - base >= killAt, 120_000, `master transaction ${killAt}`);
    await cl.sandbox('kill', 'test1');
    await load.stop();

    // What reached any replica: ledger rows applied, and GTIDs received (applied or only in a relay log).
    const before = new Set<string>();
    const received: Record<string, number> = {};
    const applied: Record<string, number> = {};
    const ends = await masterTransactionEnds(join(cl.dir, 'test1', 'data'));
    for (const n of names) {
      applied[n] = await gtidSeq(cl, n, 'gtid_slave_pos');
      for (const r of await cl.query<{ k: string }>(n, LEDGER_KEYS)) before.add(r.k);
      const [s] = await cl.query<{ Gtid_IO_Pos: string; Master_Log_File: string; Read_Master_Log_Pos: string }>(
        n,
        'SHOW SLAVE STATUS',
      );
      // Received = applied, or in the relay log: by GTID (GTID mode only) and by old-master coordinates.
      const file = Number(s?.Master_Log_File.split('.')[1] ?? 0);
      const read = Number(s?.Read_Master_Log_Pos ?? 0);
      const byCoordinates = Math.max(
        0,
        ...ends.filter((e) => e.file < file || (e.file === file && e.end <= read)).map((e) => e.seq),
      );
      received[n] = Math.max(Number(/0-1-(\d+)/.exec(s?.Gtid_IO_Pos ?? '')?.[1] ?? 0), applied[n], byCoordinates);
    }
    const maxReceived = Math.max(...Object.values(received));
    const laggard = names.reduce((a, b) => (received[b]! < received[a]! ? b : a));
    const target = mostLagging ? laggard : names[Math.floor(targetPick * names.length)]!;
    line += ` → ${target}${target === laggard ? ' (most lagging)' : ''} behind=${maxReceived - received[target]!}/${maxReceived - applied[target]!} (received/applied)`;

    const t0 = Date.now();
    const r = await mmmf(['--cfg', cl.cfg, '--failover-to', target, '--json']);
    line += ` failover=${((Date.now() - t0) / 1000).toFixed(2)}s`;
    let out: { results?: { n: number; host: string; status: string; detail: string }[]; plan?: unknown } = {};
    try {
      out = JSON.parse(r.stdout);
    } catch {
      violations.push(`mmmf printed no JSON (exit ${r.exitCode}): ${r.stdout.slice(0, 500)} ${r.stderr.slice(0, 500)}`);
    }
    if (r.exitCode !== 0) {
      violations.push(
        `mmmf exited ${r.exitCode}: ${
          r.stderr.trim() ||
          (out.results ?? [])
            .filter((s) => s.status !== 'done' && s.status !== 'skipped')
            .map((s) => `step ${s.n} ${s.host} ${s.status}: ${s.detail}`)
            .join('; ')
        }`,
      );
    }
    // A relay log may end in half a transaction the dead master never finished sending: it cannot count.
    const partial = (out.results ?? []).some((s) => /incomplete one/.test(s.detail));
    for (const n of names) {
      const keys = new Set((await cl.query<{ k: string }>(n, LEDGER_KEYS)).map((x) => x.k));
      const lost = [...before].filter((k) => !keys.has(k));
      if (lost.length)
        violations.push(
          `${n} lacks ${lost.length} transactions another replica had, e.g. ${lost.slice(0, 5).join(' ')}`,
        );
      const seq = await gtidSeq(cl, n, 'gtid_slave_pos');
      if (seq < maxReceived - (partial ? 1 : 0))
        violations.push(`${n} is at GTID seq ${seq}, but ${maxReceived} had been received`);
    }
    const prints = await Promise.all(names.map(async (n) => [n, await dataFingerprint(cl, n)] as const));
    if (new Set(prints.map((p) => p[1])).size !== 1)
      violations.push(`data differs: ${prints.map(([n, f]) => `${n}: ${f}`).join(' | ')}`);
    const writable = [];
    for (const n of names) {
      const [v] = await cl.query<{ ro: number }>(n, 'SELECT @@read_only AS ro');
      if (Number(v?.ro) === 0) writable.push(n);
      if (n === target) continue;
      const [s] = await cl.query<Record<string, string>>(n, 'SHOW SLAVE STATUS');
      const state = [String(s?.Master_Port), s?.Slave_IO_Running, s?.Slave_SQL_Running].join(' ');
      if (state !== `${cl.port(target)} Yes Yes` || s?.Last_Error)
        violations.push(`${n} replication: port/IO/SQL = ${state}, error '${s?.Last_Error ?? ''}'`);
    }
    if (writable.join() !== target)
      violations.push(`writable servers: [${writable.join(', ')}], expected only ${target}`);
    await cl.query(target, `INSERT INTO sbtest.ledger (writer, seq) VALUES (0, ${seed})`);
    for (const n of names) {
      try {
        await until(
          async () =>
            (await cl.query(n, `SELECT 1 FROM sbtest.ledger WHERE writer = 0 AND seq = ${seed}`)).length === 1,
          10_000,
          `fresh write on ${n}`,
        );
      } catch {
        violations.push(`a fresh write on ${target} did not reach ${n} within 10 s`);
      }
    }
    if (violations.length) {
      keep = true;
      violations.push(`plan: ${JSON.stringify(out.plan ?? null).slice(0, 4000)}`);
    }
  } catch (err) {
    violations.push(`harness error: ${(err as Error).stack ?? err}`);
    keep = true;
  } finally {
    if (c && !keep) await c.down();
  }
  return { seed, ok: violations.length === 0, line, violations, ...(keep && c ? { keptAt: c.dir } : {}) };
}

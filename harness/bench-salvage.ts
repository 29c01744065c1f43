// The bench's `salvage` group (issue 21): a failover that salvages 1,000 transactions (about 10 MB of binlog)
// only the dead master held, beside the same failover without them (the replicas received the same load before
// the kill). Network-namespace hosts (root): the binlog is read over SSH, mmmf runs on the client host.
import { writeFileSync } from 'node:fs';
import { type Cluster, mmmfOnClient, startCluster } from './cluster.js';
import { SALVAGE_DDL, stopReceiving, writeOnly } from './salvage-load.js';
import { basePortOf } from './ports.js';

const BASE_PORT = basePortOf('bench-salvage');
const TRANSACTIONS = 1000;
/** Bytes of text per row: 1,000 rows make about 10 MB of ROW binlog. */
const PAD = 10_000;

export interface SalvageFigures {
  /** Wall time of the failover that salvages, and of its salvage step alone. */
  withTail: number[];
  salvageStep: number[];
  /** The same failover when the replicas already hold those transactions. */
  without: number[];
}

async function oneRun(salvaged: boolean): Promise<{ ms: number; stepMs: number; took: string }> {
  const c = await startCluster({ basePort: BASE_PORT, replicas: 3, netns: true });
  try {
    for (const sql of SALVAGE_DDL) await c.query('test1', sql);
    await waitAll(c);
    // What a cron'd `check` does: mmmf has seen every host alive, and remembers where its binlog is.
    await mmmfOnClient(c, ['status', '--cfg', c.cfg]);
    if (salvaged) await stopReceiving(c, ['test2', 'test3', 'test4']);
    await writeOnly(c, 'test1', { firstId: 1, count: TRANSACTIONS, tag: 'bench', pad: PAD });
    if (!salvaged) await waitAll(c);
    await c.sandbox('kill', 'test1');
    const t = process.hrtime.bigint();
    // MMMF_BENCH_DEBUG=FILE: the salvaging run's --debug log (every statement and child, timed) kept there.
    const debugTo = salvaged ? process.env.MMMF_BENCH_DEBUG : undefined;
    const r = await mmmfOnClient(c, [
      '--cfg',
      c.cfg,
      '--failover-to',
      'test2',
      '--json',
      ...(debugTo ? ['--debug'] : []),
    ]);
    if (debugTo) writeFileSync(debugTo, r.stderr);
    const ms = Number(process.hrtime.bigint() - t) / 1e6;
    const report = JSON.parse(r.stdout) as {
      ok: boolean;
      salvage?: { transactions: number };
      plan: { steps: { n: number; phase: string }[] };
      results: { n: number; ms: number; detail: string }[];
    };
    const want = salvaged ? TRANSACTIONS : 0;
    if (r.exitCode !== 0 || !report.ok || report.salvage?.transactions !== want) {
      throw new Error(`salvage bench failover failed (exit ${r.exitCode}): ${r.stderr}\n${r.stdout.slice(-2000)}`);
    }
    const step = report.plan.steps.find((s) => s.phase === 'salvage');
    const result = report.results.find((x) => x.n === step?.n);
    // The step's own account of where its time went (SSH, read, decode, apply, read back).
    const took = /\(took: ([^)]*)\)$/.exec(result?.detail ?? '')?.[1] ?? '';
    // The other steps that took long (the catch-up of those transactions elsewhere, the verifications).
    const phaseOf = (n: number) => report.plan.steps.find((s) => s.n === n)?.phase ?? '?';
    const slow = report.results
      .filter((x) => x.n !== step?.n && x.ms >= 100)
      .map((x) => `step ${x.n} ${phaseOf(x.n)} ${Math.round(x.ms)} ms`);
    return { ms, stepMs: result?.ms ?? 0, took: slow.length ? `${took}; ${slow.join(', ')}` : took };
  } finally {
    await c.down();
  }
}

/** Every replica holds what test1's binlog holds. */
async function waitAll(c: Cluster): Promise<void> {
  const [m] = await c.query<{ g: string }>('test1', 'SELECT @@gtid_binlog_pos AS g');
  for (const n of ['test2', 'test3', 'test4']) await c.query(n, `SELECT MASTER_GTID_WAIT('${m!.g}', 60)`);
}

export async function measureSalvage(runs: number, progress: (s: string) => void): Promise<SalvageFigures> {
  const f: SalvageFigures = { withTail: [], salvageStep: [], without: [] };
  for (let i = 0; i < runs; i++) {
    const a = await oneRun(true);
    f.withTail.push(a.ms);
    f.salvageStep.push(a.stepMs);
    const b = await oneRun(false);
    f.without.push(b.ms);
    progress(
      `salvage: run ${i + 1}/${runs} ${Math.round(a.ms)} ms (step ${Math.round(a.stepMs)} ms: ${a.took}), ` +
        `without ${Math.round(b.ms)} ms${b.took ? ` (${b.took.replace(/^; /, '')})` : ''}`,
    );
  }
  return f;
}

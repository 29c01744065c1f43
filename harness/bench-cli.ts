// `npm run bench`: wall time of real failovers on a local sandbox, printed as figures (never asserted).
//   1+3 in sync:          master killed, every replica complete, fail over to test2
//   1+3, 10k behind:      test4 stopped receiving 10,000 transactions before the crash; fail over to test4
//   mmmf --help:          start-up cost of the CLI
// Usage: npm run bench [-- --runs N]
import { execa } from 'execa';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from './paths.js';

const ROOT = repoRoot();
const CLI = join(ROOT, 'dist/bin/mmmf.js');
const SANDBOX = join(ROOT, 'scripts/sandbox.sh');
const BASE_PORT = 33201;
const runsArg = process.argv.indexOf('--runs');
const RUNS = runsArg > 0 ? Number(process.argv[runsArg + 1]) : 5;

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const fmt = (ms: number) => (ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(0)} ms`);

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - t) / 1e6;
}

async function failoverRun(backlog: number): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'mmmf-bench-'));
  const sb = (...a: string[]) => execa('bash', [SANDBOX, '--dir', dir, '--base-port', String(BASE_PORT), ...a]);
  try {
    await sb('up');
    await sb('load', '200');
    const target = backlog > 0 ? 'test4' : 'test2';
    if (backlog > 0) {
      await sb('lag', 'test4');
      await sb('load', String(backlog));
    }
    // Let the in-sync replicas apply everything, so only the intended backlog remains.
    await sb('sql', 'test1', 'SELECT 1');
    await new Promise((r) => setTimeout(r, 300));
    await sb('kill', 'test1');
    let result: { exitCode?: number; stdout: string } = { stdout: '' };
    const ms = await timed(async () => {
      result = await execa('node', [CLI, '--cfg', join(dir, 'mmmf.config.ts'), '--failover-to', target], { reject: false, env: { NO_COLOR: '1' } });
    });
    if (result.exitCode !== 0) throw new Error(`failover failed (exit ${result.exitCode}):\n${result.stdout}`);
    return ms;
  } finally {
    await sb('down').catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main() {
  const rows: [string, number[]][] = [];
  const help: number[] = [];
  for (let i = 0; i < 10; i++) help.push(await timed(() => execa('node', [CLI, '--help'])));
  rows.push(['mmmf --help', help]);
  for (const [label, backlog] of [['failover 1+3, in sync', 0], ['failover 1+3, one replica 10,000 behind (target)', 10_000]] as const) {
    const xs: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      xs.push(await failoverRun(backlog));
      process.stderr.write(`  ${label}: run ${i + 1}/${RUNS} ${fmt(xs[i]!)}\n`);
    }
    rows.push([label, xs]);
  }
  console.log(`\n| measurement | median | min | max | runs |\n| --- | --- | --- | --- | --- |`);
  for (const [label, xs] of rows) console.log(`| ${label} | ${fmt(median(xs))} | ${fmt(Math.min(...xs))} | ${fmt(Math.max(...xs))} | ${xs.length} |`);
  console.log('\nWall time of the whole `mmmf` process (node start-up, probe, plan, execution, final probe), on this machine.');
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});

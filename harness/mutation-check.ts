// `npm run mutation-check [-- --only gtid|file|real] [--seed S] [--iterations N]`: do the crash tests and the
// chaos harness catch a failover that loses one transaction? Each mutant is a copy of the build (dist/) with one
// line changed so that the catch-up of lagging replicas stops one transaction short of the best replica —
// by GTID, or by file and position — while mmmf itself believes it caught up. Against each mutant the crash
// tests and a chaos run must FAIL; against the real build they must pass. Prints which tests went red.
// Starts real clusters: run it alone (one live suite at a time).
import { execa } from 'execa';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from './paths.js';
import { PORTS } from './ports.js';

const ROOT = repoRoot();
const CRASH_TESTS = [
  'failover-crash',
  'paused-replicas',
  'tree',
  'kill-and-resume',
  'file-positioning',
  'replica-states',
].map((t) => `test/integration/${t}.test.ts`);

interface Mutant {
  name: string;
  file: string;
  line: string;
  mutated: string;
  what: string;
}

const MUTANTS: Mutant[] = [
  {
    name: 'gtid',
    what: "by GTID: the equalize step's START SLAVE UNTIL master_gtid_pos and its MASTER_GTID_WAIT one sequence number short",
    // The only run-time GTID placeholders are the equalize step's UNTIL and wait.
    file: 'dist/src/executor/materialize.js',
    line: '        const v = output({ step, key });',
    mutated:
      "        const v = key === 'gtid' ? output({ step, key }).replace(/\\d+$/, (s) => String(Number(s) - 1)) : output({ step, key });",
  },
  {
    name: 'file',
    what:
      "by file: the equalize step's START SLAVE UNTIL MASTER_LOG_POS and its MASTER_POS_WAIT at the start of the best " +
      "replica's last transaction instead of its end",
    file: 'dist/src/executor/actions/equalize.js',
    line: '    const until = ctx.outputCoordinates(a.until.step);',
    mutated:
      "    const until = ctx.outputCoordinates(a.until.step); const last = until ? (await ctx.conn(a.source).query(`SHOW BINLOG EVENTS IN '${until.file}'`, 120000)).filter((e) => e.Event_type === 'Gtid').at(-1) : undefined; if (last) ctx = { ...ctx, materialize: ((m) => (sql) => m(sql).replace(/(UNTIL \\w+_LOG_FILE = '[^']*', \\w+_LOG_POS = )\\d+/, (_, p) => p + last.Pos).replace(/, \\d+, 1\\) AS r$/, `, ${last.Pos}, 1) AS r`))(ctx.materialize) };",
  },
];

const arg = (name: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const only = arg('only');
const seed = arg('seed') ?? '30002';
const iterations = arg('iterations') ?? '20';

/** A copy of the build with the mutant's one line changed (refused unless that line occurs exactly once). */
function mutantBuild(m: Mutant): string {
  const dir = mkdtempSync(join(tmpdir(), `mmmf-mutant-${m.name}-`));
  cpSync(join(ROOT, 'dist'), join(dir, 'dist'), { recursive: true });
  cpSync(join(ROOT, 'package.json'), join(dir, 'package.json'));
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
  const path = join(dir, m.file);
  const lines = readFileSync(path, 'utf8').split('\n');
  const at = lines.flatMap((l, i) => (l === m.line ? [i] : []));
  if (at.length !== 1) throw new Error(`${m.file}: the line to mutate occurs ${at.length} times: ${m.line.trim()}`);
  lines[at[0]!] = m.mutated;
  writeFileSync(path, lines.join('\n'));
  return dir;
}

interface TestOutcome {
  red: string[];
  green: string[];
  ok: boolean;
}

async function crashTests(cli: string, label: string): Promise<TestOutcome> {
  const report = join(tmpdir(), `mmmf-mutation-${label}-${process.pid}.json`);
  const r = await execa('npx', ['vitest', 'run', ...CRASH_TESTS, '--reporter=json', `--outputFile=${report}`], {
    cwd: ROOT,
    env: { MMMF_CLI: cli },
    reject: false,
    timeout: 3_600_000,
  });
  if (!existsSync(report)) throw new Error(`vitest wrote no report (exit ${r.exitCode}): ${r.stderr.slice(-2000)}`);
  const json = JSON.parse(readFileSync(report, 'utf8')) as {
    testResults: {
      name: string;
      assertionResults: { fullName: string; status: string; failureMessages: string[] }[];
    }[];
  };
  rmSync(report, { force: true });
  const red: string[] = [];
  const green: string[] = [];
  for (const f of json.testResults) {
    const file = f.name.replace(`${ROOT}/`, '');
    for (const t of f.assertionResults) {
      const first = (t.failureMessages[0] ?? '').split('\n')[0]!.slice(0, 300);
      if (t.status === 'failed') red.push(`${file} > ${t.fullName}\n        ${first}`);
      else if (t.status === 'passed') green.push(`${file} > ${t.fullName}`);
    }
  }
  return { red, green, ok: r.exitCode === 0 && red.length === 0 };
}

async function chaos(cli: string): Promise<{ ok: boolean; summary: string }> {
  const args = ['--iterations', iterations, '--seed', seed, '--base-port', String(PORTS.chaos.first)];
  const r = await execa('node', [join(ROOT, 'dist/harness/chaos-cli.js'), ...args], {
    env: { MMMF_CLI: cli },
    reject: false,
    timeout: 7_200_000,
  });
  const out = r.stdout.split('\n');
  const kept = /cluster kept for inspection in (\S+)/.exec(r.stdout)?.[1];
  // A failed iteration keeps its cluster for inspection; here only the verdict matters.
  if (kept) await execa('bash', [join(ROOT, 'scripts/sandbox.sh'), '--dir', kept, 'down'], { reject: false });
  const fail = out.findIndex((l) => l.startsWith('FAIL'));
  const detail = fail >= 0 ? out.slice(fail, fail + 8).map((l) => l.slice(0, 400)) : out.slice(-4);
  return { ok: r.exitCode === 0, summary: detail.join('\n      ') };
}

const verdicts: string[] = [];
for (const m of MUTANTS.filter((x) => !only || only === x.name)) {
  console.log(`\nmutant '${m.name}': ${m.what}`);
  const dir = mutantBuild(m);
  try {
    const cli = join(dir, 'dist/bin/mmmf.js');
    const t = await crashTests(cli, m.name);
    console.log(`  crash tests: ${t.red.length} red, ${t.green.length} green`);
    for (const x of t.red) console.log(`    RED   ${x}`);
    for (const x of t.green) console.log(`    green ${x}`);
    const c = await chaos(cli);
    console.log(
      `  chaos (${iterations} iterations from seed ${seed}): ${c.ok ? 'PASSED' : 'failed'}\n      ${c.summary}`,
    );
    const caught = !t.ok && !c.ok;
    verdicts.push(
      `mutant '${m.name}': ${caught ? 'caught' : 'NOT CAUGHT'} (crash tests ${t.red.length} red; chaos ${c.ok ? 'passed' : 'failed'})`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
if (!only || only === 'real') {
  console.log('\nthe real build');
  const cli = join(ROOT, 'dist/bin/mmmf.js');
  const t = await crashTests(cli, 'real');
  console.log(`  crash tests: ${t.red.length} red, ${t.green.length} green`);
  for (const x of t.red) console.log(`    RED   ${x}`);
  const c = await chaos(cli);
  console.log(
    `  chaos (${iterations} iterations from seed ${seed}): ${c.ok ? 'passed' : 'FAILED'}\n      ${c.summary}`,
  );
  verdicts.push(
    `real build: ${t.ok && c.ok ? 'passes' : 'FAILS'} (crash tests ${t.red.length} red; chaos ${c.ok ? 'passed' : 'failed'})`,
  );
}
console.log(`\n${verdicts.join('\n')}`);
process.exitCode = verdicts.every((v) => / caught| passes/.test(v)) ? 0 : 1;

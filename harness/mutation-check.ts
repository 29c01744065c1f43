// `npm run mutation-check [-- --only gtid|file|real] [--seed S] [--iterations N]`: do the crash tests and the
// chaos harness catch a failover that loses one transaction? Each mutant is a copy of the build (dist/) with one
// change in the shipped bundle so that the catch-up of lagging replicas stops one transaction short of the best
// replica — by GTID, or by file and position — while mmmf itself believes it caught up. Against each mutant the crash
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
  /** The shipped bundle (what the tests run), whose code esbuild minified: matched by pattern, not by line. */
  file: string;
  /** Must match exactly once. */
  find: RegExp;
  replace: string;
  what: string;
}

const BUNDLE = 'dist/bin/cli.cjs';
const MUTANTS: Mutant[] = [
  {
    name: 'gtid',
    what: "by GTID: the equalize step's START SLAVE UNTIL master_gtid_pos and its MASTER_GTID_WAIT one sequence number short",
    // The only run-time GTID placeholders are the equalize step's UNTIL and wait (materialize.ts).
    file: BUNDLE,
    find: /(\w+)=output\(\{step:(\w+),key:(\w+)\}\)/g,
    replace:
      '$1=$3==="gtid"?output({step:$2,key:$3}).replace(/\\d+$/,(s)=>String(Number(s)-1)):output({step:$2,key:$3})',
  },
  {
    name: 'file',
    what:
      "by file: the equalize step's START SLAVE UNTIL MASTER_LOG_POS and its MASTER_POS_WAIT at the start of the best " +
      "replica's last transaction instead of its end",
    // equalize.ts byFile: `const until = ctx.outputCoordinates(a.until.step)`, then the step's SQL is materialized.
    file: BUNDLE,
    find: /(\w+)=(\w+)\.outputCoordinates\((\w+)\.until\.step\),/g,
    replace:
      '$1=$2.outputCoordinates($3.until.step),mutantLast=$1?(await $2.conn($3.source).query(`SHOW BINLOG EVENTS ' +
      'IN \'${$1.file}\'`,120000)).filter((e)=>e.Event_type==="Gtid").at(-1):void 0,mutantCtx=mutantLast&&($2={...$2,' +
      "materialize:((m)=>(sql)=>m(sql).replace(/(UNTIL \\w+_LOG_FILE = '[^']*', \\w+_LOG_POS = )\\d+/,(_,p)=>p+" +
      'mutantLast.Pos).replace(/, \\d+, 1\\) AS r$/,`, ${mutantLast.Pos}, 1) AS r`))($2.materialize)}),',
  },
];

const arg = (name: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const only = arg('only');
const seed = arg('seed') ?? '30002';
const iterations = arg('iterations') ?? '20';

/** A copy of the build with the mutant's one change (refused unless its pattern matches exactly once). */
function mutantBuild(m: Mutant): string {
  const dir = mkdtempSync(join(tmpdir(), `mmmf-mutant-${m.name}-`));
  cpSync(join(ROOT, 'dist'), join(dir, 'dist'), { recursive: true });
  cpSync(join(ROOT, 'package.json'), join(dir, 'package.json'));
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
  // A checkout's package root holds harness/: without it the copy would ignore the tests' fault injection (kills
  // at a step), and the crash tests would go red for that instead of for the mutant.
  symlinkSync(join(ROOT, 'harness'), join(dir, 'harness'));
  const path = join(dir, m.file);
  const text = readFileSync(path, 'utf8');
  const found = text.match(m.find)?.length ?? 0;
  if (found !== 1) throw new Error(`${m.file}: the code to mutate (${m.find.source}) occurs ${found} times`);
  writeFileSync(path, text.replace(m.find, m.replace));
  // The bundle's source map would point into code that is no longer there.
  rmSync(`${path}.map`, { force: true });
  return dir;
}

/**
 * The environment a build runs with: a mutant gets a state folder of its own, so its compiled-code cache (kept
 * in the state folder, keyed by the real bundle's hash) never reaches the real build's runs.
 */
const envFor = (cli: string, dir?: string) => ({
  MMMF_CLI: cli,
  ...(dir ? { MMMF_STATE_DIR: join(dir, 'state') } : {}),
});

interface TestOutcome {
  red: string[];
  green: string[];
  ok: boolean;
}

async function crashTests(cli: string, label: string, dir?: string): Promise<TestOutcome> {
  const report = join(tmpdir(), `mmmf-mutation-${label}-${process.pid}.json`);
  const r = await execa('npx', ['vitest', 'run', ...CRASH_TESTS, '--reporter=json', `--outputFile=${report}`], {
    cwd: ROOT,
    env: envFor(cli, dir),
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

async function chaos(cli: string, dir?: string): Promise<{ ok: boolean; summary: string }> {
  const args = ['--iterations', iterations, '--seed', seed, '--base-port', String(PORTS.chaos.first)];
  const r = await execa('node', [join(ROOT, 'dist/harness/chaos-cli.js'), ...args], {
    env: envFor(cli, dir),
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
    const t = await crashTests(cli, m.name, dir);
    console.log(`  crash tests: ${t.red.length} red, ${t.green.length} green`);
    for (const x of t.red) console.log(`    RED   ${x}`);
    for (const x of t.green) console.log(`    green ${x}`);
    const c = await chaos(cli, dir);
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

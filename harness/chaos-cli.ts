// npm run chaos -- --iterations N --seed S [--replicas R] [--base-port P]
// One line per iteration, then what the iterations covered and "N passed, N failed". Exit 1 on any violation
// (the cluster is kept). MMMF_CLI=path/to/mmmf.js runs another build of mmmf (see scripts/mutation-check.sh).
import { runChaos, type IterationResult } from './chaos.js';
import { PORTS } from './ports.js';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const v = Number(process.argv[i + 1]);
  if (!Number.isInteger(v) || v < 0) {
    console.error(`chaos: --${name} needs a whole number`);
    process.exit(2);
  }
  return v;
}

/** How many iterations were in each state and killed mmmf in each phase: what a run really covered. */
function coverage(results: IterationResult[]): string {
  const count = new Map<string, number>();
  const add = (k: string, on: boolean) => on && count.set(k, (count.get(k) ?? 0) + 1);
  for (const { scenario: s, killed, inStep } of results) {
    add(s.positioning, true);
    add(s.format, true);
    add('pair', !!s.pair);
    add('delayed', !!s.delayed);
    add('delayed lifted', !!s.delayed?.lift);
    add('drift', !!s.drift);
    add('alias', s.alias);
    add('alive-alias', s.aliveAliasCheck);
    add('purge', !!s.purge);
    add('parallel', s.parallel.length > 0);
    add('stopped after crash', s.stopAfterCrash.length > 0);
    add('most lagging target', s.mostLagging);
    for (const l of s.lag) add(`lag ${l.mode}`, true);
    add(`mmmf killed in ${killed?.phase}`, !!killed);
    add('semi-sync', !!s.semiSync);
    add('salvage over SSH', !!s.salvage);
    add(`old master back ${s.revive}`, !!s.revive);
    add(`step ${inStep?.action === 'kill' ? 'killed' : 'failed'} half-way in ${inStep?.phase}`, !!inStep);
    add('step fault drawn, no step to fault', !!s.stepFault && !inStep);
    add('netns: power loss after status', s.net?.kind === 'power-loss');
    add('netns: minority split (refused), healed', s.net?.kind === 'split');
  }
  return [...count].map(([k, n]) => `${k}: ${n}`).join(', ');
}

const iterations = arg('iterations', 10);
const seed = arg('seed', Math.floor(Date.now() / 1000) % 100000);
const replicas = arg('replicas', 3);
const basePort = arg('base-port', PORTS.chaos.first);
console.log(
  `chaos: ${iterations} iterations, seed ${seed}, 1 master + ${replicas} replicas on ports ${basePort}..${basePort + replicas}` +
    (process.env.MMMF_CLI ? `, mmmf from ${process.env.MMMF_CLI}` : ''),
);
const started = Date.now();
const { passed, failed, results } = await runChaos({
  iterations,
  seed,
  replicas,
  basePort,
  log: (l) => console.log(l),
});
console.log(`chaos: ${((Date.now() - started) / 1000).toFixed(0)} s`);
console.log(`chaos: covered ${coverage(results)}`);
console.log(`${passed} passed, ${failed} failed`);
process.exitCode = failed ? 1 : 0;

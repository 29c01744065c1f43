// npm run chaos -- --iterations N --seed S [--replicas R] [--base-port P]
// One line per iteration, then "N passed, N failed". Exit 1 on any violation (the cluster is kept).
import { runChaos } from './chaos.js';

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

const iterations = arg('iterations', 10);
const seed = arg('seed', Math.floor(Date.now() / 1000) % 100000);
const replicas = arg('replicas', 3);
const basePort = arg('base-port', 33301);
console.log(
  `chaos: ${iterations} iterations, seed ${seed}, 1 master + ${replicas} replicas on ports ${basePort}..${basePort + replicas}`,
);
const started = Date.now();
const { passed, failed } = await runChaos({ iterations, seed, replicas, basePort, log: (l) => console.log(l) });
console.log(`chaos: ${((Date.now() - started) / 1000).toFixed(0)} s`);
console.log(`${passed} passed, ${failed} failed`);
process.exitCode = failed ? 1 : 0;

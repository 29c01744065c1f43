// `npm run bench` row "monitors": three monitor hosts share one etcd; each runs `--failover-to auto --if-dead`
// from a timer every 10 s (offset by a third of the period), as the README's units do, with lockTtlSeconds 5.
// The master is killed; the first monitor to prove it dead acts and is itself killed (-9) before its promotion
// step, and its host stays dead. Measured: from that kill to the new master being writable, which another
// monitor's timer does by resuming the journaled run. Aim: at most the lock's TTL plus the timer period.
// Ports: harness/ports.ts ('bench-monitors', ETCD_PORTS.benchMonitors).
import { execa } from 'execa';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startCluster, type Cluster } from './cluster.js';
import { startEtcd, type EtcdCluster } from './etcd.js';
import { SHIPPED_BIN } from './paths.js';
import { basePortOf, ETCD_PORTS } from './ports.js';

const CLI = SHIPPED_BIN;
export const MONITOR_TTL_S = 5;
export const MONITOR_PERIOD_S = 10;
const MONITORS = 3;

interface Run {
  monitor: number;
  started: number;
  ended: number;
  exitCode: number | undefined;
  signal: string | undefined;
  stdout: string;
  stderr: string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, Math.max(0, ms)));

function writeConfig(c: Cluster, etcd: EtcdCluster, monitor: number, cluster: string): string {
  const path = join(c.dir, `mon${monitor}.config.ts`);
  const settings = {
    cluster,
    stateDir: `state-mon${monitor}`,
    // Shorter than the default 10 s so the bench is quicker; the figure starts after the judgment anyway.
    deadConfirmSeconds: 2,
    coordination: { etcd: { endpoints: etcd.endpoints, lockTtlSeconds: MONITOR_TTL_S } },
  };
  writeFileSync(
    path,
    `import base from './mmmf.config.ts';\nexport default { ...base, ...${JSON.stringify(settings)} };\n`,
  );
  return path;
}

async function promoteStep(cfg: string): Promise<{ step: number; target: string }> {
  const r = await execa('node', [CLI, '--cfg', cfg, '--failover-to', 'auto', '--dry-run', '--json'], {
    reject: false,
  });
  const plan = (JSON.parse(r.stdout) as { plan?: { target: string; steps: { n: number; phase: string }[] } }).plan;
  const step = plan?.steps.find((s) => s.phase === 'promote')?.n;
  if (!plan || !step) throw new Error(`no plan with a promotion: ${r.stdout.slice(0, 2000)}${r.stderr}`);
  return { step, target: plan.target };
}

async function writable(c: Cluster, name: string): Promise<boolean> {
  try {
    const [r] = await c.query<{ ro: number }>(name, 'SELECT @@read_only AS ro');
    return Number(r?.ro) === 0;
  } catch {
    return false;
  }
}

/**
 * One measurement on a fresh sandbox: returns ms from the acting monitor's kill to the new master writable, and
 * what each timer run did (for the progress line).
 */
async function once(etcd: EtcdCluster, i: number): Promise<{ ms: number; story: string }> {
  const c = await startCluster({ basePort: basePortOf('bench-monitors'), replicas: 3 });
  try {
    await c.sandbox('load', '200');
    // One name for the three monitors (they share its lock and journal), a new one per run (no anti-flap).
    const cluster = `bench-${Date.now()}-${i}`;
    const cfgs = Array.from({ length: MONITORS }, (_, m) => writeConfig(c, etcd, m + 1, cluster));
    await c.sandbox('kill', 'test1');
    const { step, target } = await promoteStep(cfgs[0]!);
    const t0 = performance.now() + Math.random() * MONITOR_PERIOD_S * 1000;
    const runs: Run[] = [];
    let killedAt: number | undefined;
    let writableAt: number | undefined;
    const stopAt = performance.now() + 120_000;
    const busy = () => writableAt === undefined && performance.now() < stopAt;
    const at = (m: number, tick: number) => t0 + (m / MONITORS + tick) * MONITOR_PERIOD_S * 1000;
    const timer = async (m: number) => {
      for (let tick = 0; busy(); tick++) {
        // As systemd does: a tick that comes while the service still runs starts nothing.
        while (at(m, tick) < performance.now() - 1000) tick++;
        await sleep(at(m, tick) - performance.now());
        if (!busy()) return;
        // Until the first kill, every run carries the fault: whichever monitor acts dies before promoting.
        const env: Record<string, string> =
          killedAt === undefined ? { MMMF_TEST_FAULTS: `kill@before-step#${step}` } : {};
        const started = performance.now();
        const r = await execa('node', [CLI, '--cfg', cfgs[m]!, '--failover-to', 'auto', '--if-dead', '--json'], {
          reject: false,
          env: { NO_COLOR: '1', ...env },
        });
        const run = { monitor: m + 1, started, ended: performance.now(), ...pick(r) };
        runs.push(run);
        if (run.signal === 'SIGKILL') {
          killedAt = run.ended;
          return; // its host died with it: this timer never fires again
        }
      }
    };
    const watch = async () => {
      while (busy()) {
        if (killedAt !== undefined && (await writable(c, target))) writableAt = performance.now();
        else await sleep(25);
      }
    };
    await Promise.all([...Array.from({ length: MONITORS }, (_, m) => timer(m)), watch()]);
    const finisher = runs.find((r) => r.exitCode === 0 && /"resume"|Resuming/.test(r.stdout + r.stderr));
    if (killedAt === undefined || writableAt === undefined || !finisher) {
      const log = runs.map(
        (r) => `mon${r.monitor} exit ${r.exitCode ?? r.signal}: ${r.stdout.slice(0, 400)}${r.stderr}`,
      );
      throw new Error(`monitors bench: no failover was finished by another monitor:\n${log.join('\n')}`);
    }
    const story = runs
      .map((r) => `mon${r.monitor}@${((r.started - t0) / 1000).toFixed(1)}s:${r.signal ?? r.exitCode}`)
      .join(' ');
    return { ms: writableAt - killedAt, story: `${story}; finished by mon${finisher.monitor}` };
  } finally {
    await c.down();
  }
}

function pick(r: { exitCode?: number | undefined; signal?: string | undefined; stdout: unknown; stderr: unknown }) {
  return { exitCode: r.exitCode, signal: r.signal ?? undefined, stdout: String(r.stdout), stderr: String(r.stderr) };
}

/** `runs` measurements (ms), each on a fresh sandbox, over one etcd. */
export async function measureMonitors(runs: number, progress: (s: string) => void): Promise<number[]> {
  const etcd = await startEtcd({ basePort: ETCD_PORTS.benchMonitors });
  try {
    const xs: number[] = [];
    for (let i = 0; i < runs; i++) {
      const { ms, story } = await once(etcd, i);
      xs.push(ms);
      progress(
        `monitors: run ${i + 1}/${runs}: kill -9 of the actor → writable in ${(ms / 1000).toFixed(2)} s (${story})`,
      );
    }
    return xs;
  } finally {
    await etcd.down();
  }
}

import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, sep } from 'node:path';
import { FAULT_POINTS, type FaultPoint, type FaultRule, type Faults } from './types.js';

/**
 * Test-only fault injection behind one seam: the executor calls `at(point, step)` at named points (FAULT_POINTS
 * in types.ts) and a configured fault happens there. Configured once, by the command, from the environment:
 * - MMMF_TEST_FAULTS: `ACTION@POINT[#STEP[.K]]`, comma-separated; ACTION is kill, fail or delay=MS
 *   (`kill@after-checkpoint#12,delay=200@before-step`, `fail@statement-sent#9.1`: after step 9's first change);
 * - and the older single-purpose variables, kept working: MMMF_TEST_STEP_DELAY_MS (delay before every step),
 *   MMMF_TEST_KILL_AT_STEP=N, MMMF_TEST_FAIL_AT_STEP=N, MMMF_TEST_KILL_AFTER_CHECKPOINT=N.
 */
export class InjectedFaults implements Faults {
  constructor(readonly rules: FaultRule[]) {}

  /** Kills (like kill -9) and failures happen at once, in the caller's own frame; a delay is awaited. */
  at(point: FaultPoint, step: number, statement?: number): Promise<void> {
    let delay = 0;
    for (const r of this.rules) {
      if (r.point !== point || (r.step !== undefined && r.step !== step)) continue;
      if (r.statement !== undefined && r.statement !== statement) continue;
      if (r.action === 'kill') process.kill(process.pid, 'SIGKILL');
      else if (r.action === 'fail') throw new Error(`injected failure (${r.from})`);
      else delay += r.action.delayMs;
    }
    return delay ? new Promise((r) => setTimeout(r, delay)) : Promise.resolve();
  }

  has(point: FaultPoint): boolean {
    return this.rules.some((r) => r.point === point);
  }
}

/**
 * Fault injection exists for the project's own tests: it is honoured only when mmmf runs from a checkout of its
 * repository (its package root holds the test harness), never from an installed package, whose files leave the
 * harness out — so no environment can make an installed mmmf kill itself or fail a step on purpose.
 */
export function faultsAllowed(from: string | undefined): boolean {
  if (!from) return false;
  let dir = from;
  for (let i = 0; i < 8; i++) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg)) {
      try {
        const name = (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name;
        if (name === 'mmmf') return existsSync(join(dir, 'harness')) && !dir.split(sep).includes('node_modules');
      } catch {
        return false;
      }
    }
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  return false;
}

/**
 * The faults configured in the environment (read once by the command), or undefined when there are none. `from`
 * is where mmmf runs from: the script node was started with (the shipped bin), or a test's own folder.
 */
export function faultsFromEnv(env: NodeJS.ProcessEnv, from: string | undefined = process.argv[1]): Faults | undefined {
  if (!Object.keys(env).some((k) => k.startsWith('MMMF_TEST_')) || !faultsAllowed(from)) return undefined;
  const n = (k: string) => (env[k] && Number.isFinite(Number(env[k])) ? Number(env[k]) : undefined);
  const legacy: [string, FaultPoint, FaultRule['action'] | 'delay'][] = [
    ['MMMF_TEST_STEP_DELAY_MS', 'before-step', 'delay'],
    ['MMMF_TEST_KILL_AT_STEP', 'before-step', 'kill'],
    ['MMMF_TEST_FAIL_AT_STEP', 'step-begun', 'fail'],
    ['MMMF_TEST_KILL_AFTER_CHECKPOINT', 'after-checkpoint', 'kill'],
  ];
  const rules: FaultRule[] = legacy.flatMap(([from, point, action]): FaultRule[] => {
    const v = n(from);
    if (v === undefined) return [];
    return [action === 'delay' ? { point, action: { delayMs: v }, from } : { point, step: v, action, from }];
  });
  rules.push(...parseFaults(env.MMMF_TEST_FAULTS ?? ''));
  return rules.length ? new InjectedFaults(rules) : undefined;
}

/** MMMF_TEST_FAULTS entries; an unknown point or action is an error, so a typo cannot silently test nothing. */
export function parseFaults(spec: string): FaultRule[] {
  return spec
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean)
    .map((entry) => {
      const m = /^(kill|fail|delay=(\d+))@([\w:-]+)(?:#(\d+)(?:\.(\d+))?)?$/.exec(entry);
      const point = m?.[3];
      if (!m || !point || !(point in FAULT_POINTS)) {
        const points = Object.keys(FAULT_POINTS).join(', ');
        throw new Error(`MMMF_TEST_FAULTS: cannot read '${entry}' (ACTION@POINT[#STEP[.K]]; points: ${points})`);
      }
      const action: FaultRule['action'] = m[2] ? { delayMs: Number(m[2]) } : m[1] === 'kill' ? 'kill' : 'fail';
      return {
        point: point as FaultPoint,
        ...(m[4] ? { step: Number(m[4]) } : {}),
        ...(m[5] ? { statement: Number(m[5]) } : {}),
        action,
        from: 'MMMF_TEST_FAULTS',
      };
    });
}

import type { Step } from '../algorithm/plan-types.js';
import type { PlanRun } from '../executor/run-plan.js';
import type { StepResult } from '../executor/types.js';

/** A step as the progress display names it. Example: `4. test2: Promote to master` */
export const stepTitle = (s: Step): string => `${s.n}. ${s.host}: ${s.title}`;

/** The line a finished step leaves, in the words the live display on a terminal uses. */
export function stepLine(s: Step, r: StepResult): string {
  switch (r.status) {
    case 'done':
      return `✔ ${stepTitle(s)} — ${r.detail} (${r.ms} ms)`;
    case 'skipped':
      return `✔ ${stepTitle(s)} — nothing to do: ${r.detail}`;
    case 'not-run':
      return `↓ ${stepTitle(s)} [SKIPPED: ${r.detail}]`;
    case 'failed':
      return `✖ ${stepTitle(s)} [FAILED: ${r.detail}]`;
  }
}

interface Out {
  write(text: string): unknown;
}

/**
 * Runs the plan with a line when each phase and each step starts and one when each step ends (failures on
 * stderr): what a pipe, a log file or cron gets. A step still running when the run is killed is the last one
 * started. The live list on a terminal is listr2's (commands/run/progress.ts), loaded only there.
 */
export async function runWithLines(
  run: PlanRun,
  out: Out = process.stdout,
  err: Out = process.stderr,
): Promise<StepResult[]> {
  for (const p of run.phases()) {
    out.write(`❯ ${p.label}\n`);
    const one = async (s: Step) => {
      out.write(`❯ ${stepTitle(s)}\n`);
      const r = await run.runStep(s);
      (r.status === 'failed' ? err : out).write(`${stepLine(s, r)}\n`);
    };
    if (p.parallel) await Promise.all(p.steps.map(one));
    else for (const s of p.steps) await one(s);
  }
  return run.plan.steps.map((s) => run.results.get(s.n) as StepResult);
}

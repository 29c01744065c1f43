import type { PlanRun } from '../../executor/run-plan.js';
import type { StepResult } from '../../executor/types.js';
import { runWithLines, stepTitle } from '../../output/step-lines.js';

/** Drives the run through a listr2 list, live on a terminal; plain lines when piped, without loading listr2. */
export async function runWithProgress(run: PlanRun): Promise<StepResult[]> {
  // A terminal that reports no width (some CI pseudo-terminals) gets plain lines, not a wrapped mess.
  const tty = !!process.stdout.isTTY && process.env.TERM !== 'dumb' && (process.stdout.columns ?? 0) > 0;
  if (!tty) return runWithLines(run);
  const { Listr } = await import('listr2');
  const title = stepTitle;
  const tasks = new Listr(
    run.phases().map((p) => ({
      title: p.label,
      task: (_: unknown, phaseTask) =>
        phaseTask.newListr(
          p.steps.map((s) => ({
            title: title(s),
            task: async (_c: unknown, t) => {
              const r = await run.runStep(s);
              if (r.status === 'failed') throw new Error(`${title(s)}: ${r.detail}`);
              if (r.status === 'not-run') t.skip(`${title(s)}: ${r.detail}`);
              else if (r.status === 'skipped') t.title = `${title(s)} — nothing to do: ${r.detail}`;
              else t.title = `${title(s)} — ${r.detail} (${r.ms} ms)`;
            },
          })),
          { concurrent: p.parallel, exitOnError: false },
        ),
    })),
    {
      concurrent: false,
      exitOnError: false,
      renderer: 'default',
      fallbackRenderer: 'simple',
      rendererOptions: { collapseSubtasks: false, collapseSkips: true, showErrorMessage: true },
    } as never,
  );
  await tasks.run().catch(() => undefined);
  return run.plan.steps.map((s) => run.results.get(s.n)!);
}

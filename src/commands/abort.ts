import { buildAbortPlan } from '../algorithm/build-abort-plan.js';
import type { Plan } from '../algorithm/plan-types.js';
import { EXIT } from '../errors.js';
import { Journal } from '../executor/journal.js';
import { renderAbortPlan, renderAbortSummary } from '../output/render-summaries.js';
import type { Connector } from '../topology/connection.js';
import { loadConfig } from './load-config.js';
import { invariantViolations } from './run/invariants.js';
import { valueOrRefuse } from './run/refusal.js';
import { printReport } from './run/report.js';
import { runAndReport, showOnly } from './run/run-and-report.js';
import { heldLock, planRun, sessionFor, withSession } from './run/session.js';

export interface AbortOptions {
  cfg: string;
  dryRun?: boolean;
  json?: boolean;
  debug?: boolean;
  connector?: Connector;
}

/**
 * `mmmf --cfg F --abort`: puts the cluster back as it was before an unfinished (killed) failover, if it has
 * not promoted anyone yet (after that the way out is forward: the planner refuses, exit 3).
 */
export async function abortCommand(opts: AbortOptions): Promise<number> {
  const config = await loadConfig(opts.cfg);
  return withSession(sessionFor(config, opts, 'mmmf --abort'), async (s) => {
    const { states, dialects } = await s.probe();
    const unfinished = s.view?.unfinished;
    if (!unfinished) {
      const nothingToDo = 'no unfinished failover';
      if (s.json) printReport({ command: 'abort', dryRun: !!opts.dryRun, ok: true, exitCode: EXIT.ok, nothingToDo });
      else s.write('No unfinished failover on this cluster: nothing to abort.\n');
      return EXIT.ok;
    }
    const begun = new Set([...unfinished.results.map((r) => r.n), ...unfinished.interrupted]);
    const undo = buildAbortPlan(config, unfinished.start.plan, begun, states);
    const steps = valueOrRefuse(undo, 'refusing to abort: nothing was changed');
    const plan: Plan = { ...unfinished.start.plan, steps };
    const shown = renderAbortPlan(plan, unfinished.start.at, steps, s.c);
    if (opts.dryRun) return showOnly(s, { command: 'abort', plan, dryRun: true, text: shown });
    const run = planRun(s, plan, dialects);
    return runAndReport(s, run, {
      command: 'abort',
      shown,
      readBack: async (results) => {
        const violations = invariantViolations(plan, results, (await s.probe({ readBack: true })).states);
        return { ok: !run.failed && violations.length === 0, violations };
      },
      // The unfinished run is over, whatever the undo achieved: a later run must not resume it.
      close: async () => {
        await new Journal(heldLock(s)).end(false);
        return undefined;
      },
      json: (j) => ({ invariants: { ok: j.violations.length === 0, violations: j.violations } }),
      summary: (end, c) => renderAbortSummary(plan, end.judged, c),
    });
  });
}

import { buildAbortPlan } from '../algorithm/build-abort-plan.js';
import type { Plan } from '../algorithm/plan-types.js';
import { EXIT } from '../errors.js';
import { Journal } from '../executor/journal.js';
import { invariantViolations } from './run/invariants.js';
import type { Connector } from '../topology/connection.js';
import { loadConfig } from './load-config.js';
import { valueOrRefuse } from './run/refusal.js';
import { printReport } from './run/report.js';
import { planRun, sessionFor, withSession } from './run/session.js';

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
    const { c } = s;
    const { states, dialects } = await s.probe();
    const journal = new Journal(config);
    const unfinished = journal.unfinished();
    if (!unfinished) {
      if (s.json)
        printReport({
          command: 'abort',
          dryRun: !!opts.dryRun,
          ok: true,
          exitCode: EXIT.ok,
          nothingToDo: 'no unfinished failover',
        });
      else s.write('No unfinished failover on this cluster: nothing to abort.\n');
      return EXIT.ok;
    }
    const begun = new Set([...unfinished.results.map((r) => r.n), ...unfinished.interrupted]);
    const undo = buildAbortPlan(config, unfinished.start.plan, begun, states);
    const steps = valueOrRefuse(undo, 'refusing to abort: nothing was changed');
    const plan: Plan = { ...unfinished.start.plan, steps };
    if (!s.json) {
      s.write(c.bold(`Aborting the unfinished failover to ${plan.target} (started ${unfinished.start.at}):\n`));
      for (const st of steps) {
        s.write(`  ${String(st.n).padStart(3)}. ${c.bold(st.host)}: ${st.title}\n`);
        for (const sql of st.sql) s.write(`         ${c.dim('>')} ${sql}\n`);
      }
    }
    if (opts.dryRun) {
      if (s.json) printReport({ command: 'abort', dryRun: true, ok: true, exitCode: EXIT.ok, plan });
      return EXIT.ok;
    }
    const run = planRun(s, plan, dialects);
    const results = await run.runAll();
    journal.end(false);
    const violations = invariantViolations(plan, results, (await s.probe()).states);
    const ok = !run.failed && violations.length === 0;
    const exitCode = ok ? EXIT.ok : EXIT.failed;
    if (s.json) {
      const invariants = { ok: violations.length === 0, violations };
      printReport({ command: 'abort', dryRun: false, ok, exitCode, plan, results, invariants });
      return exitCode;
    }
    for (const v of violations) s.write(c.red.bold(`✖ SAFETY INVARIANT BROKEN: ${v}\n`));
    for (const r of results) {
      const mark = r.status === 'done' || r.status === 'skipped' ? c.green('✔') : c.red('✖');
      s.write(`  ${mark} ${r.n}. ${r.host}: ${r.detail}\n`);
    }
    const back = plan.oldMaster.name ?? plan.oldMaster.address;
    s.write(
      ok
        ? c.green(`✔ Aborted: the cluster replicates from ${back} again.\n`)
        : c.red('✖ Abort did not complete: see above; `mmmf status` shows where every host is.\n'),
    );
    return exitCode;
  });
}

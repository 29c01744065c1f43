import type { Plan } from '../../algorithm/plan-types.js';
import type { Dialect } from '../../dialect/dialect.js';
import { EXIT } from '../../errors.js';
import type { Journal } from '../../executor/journal.js';
import type { PlanRun } from '../../executor/run-plan.js';
import { hostOutcomes, renderResult } from '../../output/render-result.js';
import { recordFailover } from '../../safety/anti-flap.js';
import { hookEnv, runHook } from '../../safety/hooks.js';
import { invariantViolations } from './invariants.js';
import type { ResolvedConfig } from '../../topology/config-types.js';
import { runWithProgress } from './progress.js';
import { printReport } from './report.js';
import { rollbackIfNeeded, rollbackOutcomes, writesBlockedMs } from './rollback.js';
import type { Session } from './session.js';

/**
 * Runs the plan (with a progress list, or quietly for --json), rolls a switchover back if it failed before
 * promotion, reads every host back, checks the safety invariants, records the failover for anti-flap (only
 * when a master was promoted), ends the journal, runs the post hook and reports. Returns the exit code.
 */
export async function executePlan(
  s: Session,
  run: PlanRun,
  journal: Journal,
  dialects: Map<string, Dialect>,
): Promise<number> {
  const { config, c } = s;
  const plan = run.plan;
  const results = s.json ? await run.runAll() : await runWithProgress(run);
  for (const r of results) s.log?.line(r.host, '#', `step ${r.n} ${r.status}: ${r.detail}`);
  const rollback = await rollbackIfNeeded(s, run, dialects);
  const { states } = await s.probe();
  const outcomes = rollback ? rollbackOutcomes(plan, states) : hostOutcomes(plan, results, states);
  const violations = invariantViolations(plan, results, states);
  for (const v of violations) s.log?.line('mmmf', '!', `invariant broken: ${v}`);
  const ok = !run.failed && outcomes.every((o) => o.ok) && violations.length === 0;
  const seconds = (Date.now() - s.started) / 1000;
  const blockedMs = writesBlockedMs(plan, results, rollback);
  const promoted = results.some((r) => r.status === 'done' && plan.steps.find((x) => x.n === r.n)?.phase === 'promote');
  // Anti-flap counts failovers that moved the master; a run that promoted nobody is not one, and neither is a
  // planned switchover (a master that dies after maintenance must still be failed over, by cron too).
  if (promoted && plan.kind === 'failover') {
    recordFailover(config, { finished: new Date().toISOString(), target: plan.target, ok });
  }
  journal.end(ok);
  const hookName = ok ? 'postFailover' : 'onFailure';
  const env = hookEnv(config, plan, hookName, ok ? 'done' : 'failed');
  const hook = await runHook(config, hookName, env, { plan, ok, results, hosts: outcomes });
  if (hook) s.log?.line('mmmf', '#', `${hook.hook} hook ${hook.ok ? 'ok' : 'FAILED'}: ${hook.detail}`);
  // A failed hook after a completed failover must not look like success to cron: exit 1, said plainly.
  const exitCode = ok && (!hook || hook.ok) ? EXIT.ok : EXIT.failed;
  if (s.json) {
    printReport({
      command: plan.kind,
      dryRun: false,
      ok,
      exitCode,
      seconds,
      plan,
      results,
      hosts: outcomes,
      promoted,
      invariants: { ok: violations.length === 0, violations },
      ...(blockedMs !== undefined ? { writesBlockedMs: blockedMs } : {}),
      ...(rollback ? { rollback } : {}),
      ...(hook ? { hook } : {}),
    });
    return exitCode;
  }
  const next = promoted || rollback ? undefined : continueCommand(config, plan);
  s.write('\n' + renderResult({ plan, results, outcomes, seconds, hook, violations, promoted, next }, c) + '\n');
  if (blockedMs !== undefined) {
    const until = rollback ? 'rolled back' : 'new master writable';
    s.write(`Writes were blocked for ${blockedMs} ms (old master read-only → ${until}).\n`);
  }
  if (rollback?.refused) {
    s.write(c.red(`No rollback: ${rollback.refused.join('; ')}. See \`mmmf status\`.\n`));
  } else if (rollback) {
    s.write(
      rollback.ok
        ? c.yellow(
            `Rolled back before promotion: ${plan.oldMaster.name} is writable again and every replica replicates from it.\n`,
          )
        : c.red('Rollback did not complete: see `mmmf status`.\n'),
    );
  }
  return exitCode;
}

/** Nothing was promoted: the command that continues from here (the best replica holds everything). */
function continueCommand(config: ResolvedConfig, plan: Plan): string {
  const other = plan.best !== plan.target ? plan.best : plan.hosts.find((h) => h.role === 'replica')?.name;
  return other
    ? `mmmf --cfg ${config.source} --failover-to ${other}   (it received the most; or fix ${plan.target} first)`
    : `fix ${plan.target}, then run mmmf --cfg ${config.source} --failover-to ${plan.target} again`;
}

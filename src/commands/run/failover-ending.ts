import type { Plan } from '../../algorithm/plan-types.js';
import type { Dialect } from '../../dialect/dialect.js';
import type { Journal } from '../../executor/journal.js';
import type { PlanRun } from '../../executor/run-plan.js';
import type { StepResult } from '../../executor/types.js';
import { type HostOutcome, hostOutcomes, renderFailoverSummary } from '../../output/render-result.js';
import { salvageOutcome } from '../../output/render-salvage.js';
import type { SalvageReport } from '../../binlog/binlog-file/salvage-report.js';
import { hookEnv, runHook } from '../../safety/hooks.js';
import type { ResolvedConfig } from '../../topology/config-types.js';
import { invariantViolations } from './invariants.js';
import { type Rollback, rollbackIfNeeded, rollbackOutcomes, writesBlockedMs } from './rollback.js';
import type { Ending, Judged } from './run-and-report.js';
import type { RunReport } from './report.js';
import { errorText } from '../../errors.js';
import { heldLock, type Session } from './session.js';
import { publishMaster } from './coordination.js';

/** What a failover or switchover found once its steps ran. */
export interface FailoverJudged extends Judged {
  results: StepResult[];
  outcomes: HostOutcome[];
  promoted: boolean;
  rollback: Rollback | undefined;
  blockedMs: number | undefined;
  salvage: SalvageReport | undefined;
  /** How long the writer VIP was on no host, by the hosts' clocks (armed move from a live old master). */
  vipGapMs: number | undefined;
}

/**
 * How a failover or switchover ends: a switchover that failed before promotion is rolled back, every host is
 * read back and judged, the failover is recorded for anti-flap (only when a master was promoted), the journal
 * ends and the postFailover or onFailure hook runs.
 */
export function failoverEnding(
  s: Session,
  run: PlanRun,
  journal: Journal,
  dialects: Map<string, Dialect>,
  o: { shown: string; before?: () => Promise<void>; resumed?: RunReport['resume'] },
): Ending<FailoverJudged> {
  const { config } = s;
  const plan = run.plan;
  return {
    command: plan.kind,
    shown: o.shown,
    ...(o.before ? { before: o.before } : {}),
    readBack: (results) => readBack(s, run, dialects, results),
    close: (j) => close(s, run, journal, j),
    json: (j) => ({
      ...(o.resumed ? { resume: o.resumed } : {}),
      hosts: j.outcomes,
      promoted: j.promoted,
      invariants: { ok: j.violations.length === 0, violations: j.violations },
      ...(j.blockedMs !== undefined ? { writesBlockedMs: j.blockedMs } : {}),
      ...(j.vipGapMs !== undefined ? { vipGapMs: j.vipGapMs } : {}),
      ...(j.rollback ? { rollback: j.rollback } : {}),
      ...(j.salvage ? { salvage: j.salvage } : {}),
    }),
    summary: (end, c) => {
      const j = end.judged;
      const next = j.rollback
        ? undefined
        : j.promoted
          ? rejoinCommand(config, plan, j.results)
          : continueCommand(config, plan, j.results);
      return renderFailoverSummary({ ...end, ...j, next }, c);
    },
  };
}

/** Rolls back a switchover that failed before promotion, then reads every host back and judges the run. */
async function readBack(
  s: Session,
  run: PlanRun,
  dialects: Map<string, Dialect>,
  results: StepResult[],
): Promise<FailoverJudged> {
  const plan = run.plan;
  const rollback = await rollbackIfNeeded(s, run, dialects);
  const { states } = await s.probe({ readBack: true });
  const outcomes = rollback ? rollbackOutcomes(plan, states) : hostOutcomes(plan, results, states);
  const violations = invariantViolations(plan, results, states);
  const ok = !run.failed && outcomes.every((x) => x.ok) && violations.length === 0;
  const promoted = results.some((r) => r.status === 'done' && isPromotion(plan, r.n));
  const blockedMs = writesBlockedMs(plan, results, rollback);
  const salvage = salvageOutcome(plan, results, (n) => run.outputOf(n));
  const vipGapMs = vipGap(plan, (n) => run.outputOf(n)?.vipAt);
  if (vipGapMs !== undefined) s.log?.line('mmmf', '#', `the writer VIP was on no host for ${vipGapMs} ms`);
  return { ok, violations, results, outcomes, promoted, rollback, blockedMs, salvage, vipGapMs };
}

/** Records the failover (anti-flap, published master), ends the journal, and runs postFailover or onFailure. */
async function close(s: Session, run: PlanRun, journal: Journal, j: FailoverJudged) {
  const { config } = s;
  const plan = run.plan;
  // Anti-flap counts failovers that moved the master; a run that promoted nobody is not one, and neither is
  // a planned switchover (a master that dies after maintenance must still be failed over, by cron too).
  // A run that lost the cluster's lock writes nothing more: the run that holds it now decides.
  const closing = async () => {
    const lock = heldLock(s);
    if (j.promoted && plan.kind === 'failover') {
      await lock.recordFailover({ finished: new Date().toISOString(), target: plan.target, ok: j.ok });
    }
    if (j.promoted) await publishMaster(s, plan.target);
    await journal.end(j.ok);
  };
  if (!run.lockLost) {
    await closing().catch((err: unknown) => s.log?.line('mmmf', '!', `could not close the run: ${errorText(err)}`));
  }
  const hookName = j.ok ? 'postFailover' : 'onFailure';
  const env = hookEnv(config, plan, hookName, j.ok ? 'done' : 'failed');
  return runHook(config, hookName, env, { plan, ok: j.ok, results: j.results, hosts: j.outcomes });
}

/** From the old master's VIP removal to the new master's VIP, as each host's clock said (both armed). */
function vipGap(plan: Plan, at: (n: number) => number | undefined): number | undefined {
  const inVip = plan.steps.filter((x) => x.phase === 'vip' && !('address' in x.action && x.action.address));
  const removed = inVip.find((x) => x.action.kind === 'vip-remove');
  const added = inVip.find((x) => x.action.kind === 'vip-add');
  const [from, to] = [removed && at(removed.n), added && at(added.n)];
  return from !== undefined && to !== undefined ? Math.round((to - from) * 10) / 10 : undefined;
}

const isPromotion = (plan: Plan, n: number) => plan.steps.find((x) => x.n === n)?.action.kind === 'promote';

/**
 * Steps whose failure leaves a replica outside the new cluster, still whole: stopping it (it was then left out of
 * the comparison, seed 70042 of the chaos harness), or moving it under the new master.
 */
const REJOINABLE = new Set([
  'stop-io-thread',
  'drain-relay-log',
  'stop-replication',
  'resume-sql',
  'lift-delay',
  'repoint',
  'verify-replica',
]);

/**
 * Steps whose failure leaves a replica behind, whole up to some transaction: its catch-up. It joins by rejoin
 * too (from the new master, which holds everything) once what stopped it is fixed: a conflicting row needs a
 * person, a lost connection nobody (chaos seed 70191 named nothing and left it behind for good).
 */
const CATCH_UP = new Set(['map-position', 'equalize']);

/**
 * A master was promoted but a replica was left out — its stop, its catch-up or its move under the new master
 * failed: it joins with `rejoin`, which compares GTIDs first and refuses a replica holding what the new master
 * lacks.
 */
export function rejoinCommand(config: ResolvedConfig, plan: Plan, results: StepResult[]): string | undefined {
  const failed = new Set(results.filter((r) => r.status === 'failed').map((r) => r.n));
  const leftBy = (kinds: Set<string>) =>
    plan.steps.filter((x) => failed.has(x.n) && kinds.has(x.action.kind) && x.host !== plan.target);
  const behind = leftBy(CATCH_UP);
  const left = [...new Set([...leftBy(REJOINABLE), ...behind].map((x) => x.host))];
  if (!left.length) return undefined;
  const cfg = `--cfg ${config.source}`;
  const fix = behind.length ? `fix what stopped step ${behind.map((x) => x.n).join(', ')} first; ` : '';
  const why = `(${fix}${left.length === 1 ? 'it joins' : 'each joins'} ${plan.target} once its GTIDs show it holds nothing ${plan.target} lacks)`;
  return left.length === 1
    ? `mmmf ${cfg} rejoin ${left[0]}   ${why}`
    : `for h in ${left.join(' ')}; do mmmf ${cfg} rejoin $h; done   ${why}`;
}

/** Nothing was promoted: the command that continues from here (the best replica holds everything). */
function continueCommand(config: ResolvedConfig, plan: Plan, results: StepResult[]): string {
  const other = plan.best !== plan.target ? plan.best : plan.hosts.find((h) => h.role === 'replica')?.name;
  const keep = keepGtid(config, plan, results);
  return other
    ? `mmmf --cfg ${config.source} --failover-to ${other}${keep}   (it received the most; or fix ${plan.target} first)`
    : `fix ${plan.target}, then run mmmf --cfg ${config.source} --failover-to ${plan.target}${keep} again`;
}

/**
 * ' --positioning gtid' when this GTID run (chosen by 'auto') switched a replica to file positioning only to keep
 * its relay log and stopped before switching it back: that replica now says Using_Gtid: No, and 'auto' would plan
 * the next run by file and position — a cluster mmmf itself left half-way must be finished the way it began.
 */
function keepGtid(config: ResolvedConfig, plan: Plan, results: StepResult[]): string {
  if (plan.positioning !== 'gtid' || config.positioning !== 'auto') return '';
  const began = new Set(results.filter((r) => r.status !== 'not-run').map((r) => r.n));
  const succeeded = new Set(results.filter((r) => r.status === 'done' || r.status === 'skipped').map((r) => r.n));
  const leftByFile = plan.steps.some((x) => {
    if (x.action.kind !== 'resume-sql' || !x.action.keepRelayLog || !began.has(x.n)) return false;
    const restored = plan.steps.some(
      (y) => y.host === x.host && y.action.kind === 'stop-replication' && y.action.restoreGtid && succeeded.has(y.n),
    );
    return !restored;
  });
  return leftByFile ? ' --positioning gtid' : '';
}

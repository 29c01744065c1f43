import { buildAbortPlan } from '../../algorithm/build-abort-plan.js';
import type { Plan, Step } from '../../algorithm/plan-types.js';
import type { Dialect } from '../../dialect/dialect.js';
import { PlanRun } from '../../executor/run-plan.js';
import type { StepResult } from '../../executor/types.js';
import type { HostOutcome } from '../../output/render-result.js';
import { sourceChain } from '../../topology/identity.js';
import type { HostState } from '../../domain/server-state.js';
import type { Session } from './session.js';

export interface Rollback {
  ok: boolean;
  steps: Step[];
  results: StepResult[];
  /** Why no rollback could be planned (nothing was run for it). */
  refused?: string[];
}

/**
 * A switchover that failed before the target was promoted is rolled back at once: the old master takes
 * writes again and the replicas follow it, as if nothing had happened. (A failover has no master to go back to.)
 */
export async function rollbackIfNeeded(
  s: Session,
  run: PlanRun,
  dialects: Map<string, Dialect>,
): Promise<Rollback | undefined> {
  const plan = run.plan;
  if (plan.kind !== 'switchover' || !run.failed) return undefined;
  const promote = plan.steps.find((x) => x.action.kind === 'promote');
  const promoted = promote ? run.results.get(promote.n) : undefined;
  if (promoted && promoted.status !== 'not-run') return undefined; // past the point of no return
  const begun = new Set([...run.results.values()].filter((r) => r.status !== 'not-run').map((r) => r.n));
  const { states } = await s.probe();
  const undo = buildAbortPlan(s.config, plan, begun, states, 'follow');
  if (!undo.ok) {
    const refused = [...(undo.headline ? [undo.headline] : []), ...undo.refusals];
    for (const r of refused) s.log?.line('mmmf', '!', `no rollback: ${r}`);
    return { ok: false, steps: [], results: [], refused };
  }
  const steps = undo.value;
  const rb = new PlanRun({ ...plan, steps }, { config: s.config, conns: s.conns.open, dialects });
  const results = await rb.runAll();
  for (const r of results) s.log?.line(r.host, '#', `rollback step ${r.n} ${r.status}: ${r.detail}`);
  return { ok: !rb.failed, steps, results };
}

/**
 * After a rollback every host should be back where it was: the old master writable, replicas on it (directly,
 * or through the replica a file-positioned run had brought them up to).
 */
export function rollbackOutcomes(plan: Plan, states: HostState[]): HostOutcome[] {
  return plan.hosts.map((h) => {
    const s = states.find((x) => x.name === h.name);
    if (!s?.reachable) return { name: h.name, ok: h.role === 'unreachable', state: 'unreachable' };
    if (h.role === 'old-master') {
      const state = `master again, ${s.readOnly ? 'STILL read-only' : 'writable'}`;
      return { name: h.name, ok: !s.readOnly && !s.replica, state };
    }
    if (h.role === 'replica' || h.role === 'target') {
      const r = s.replica;
      const direct = r?.sourceAddress === plan.oldMaster.address;
      const chain = sourceChain(s, states);
      const through = !direct && !!plan.oldMaster.name && chain.includes(plan.oldMaster.name) ? chain[0] : undefined;
      const ok = !!r && (direct || !!through) && r.ioRunning === 'Yes' && r.sqlRunning;
      const state = !ok
        ? `NOT restored: IO ${r?.ioRunning ?? '-'}, SQL ${r?.sqlRunning ? 'Yes' : 'No'}`
        : through
          ? `replica of ${through} (which replicates from ${plan.oldMaster.name}), IO Yes, SQL Yes`
          : `replica of ${plan.oldMaster.name} again, IO Yes, SQL Yes`;
      return { name: h.name, ok, state };
    }
    return { name: h.name, ok: true, state: `${h.note} (untouched)` };
  });
}

/**
 * How long applications could not write: from the old master losing the VIP or going read-only, whichever
 * came first, to the new master (or, after a rollback, the old one again) being writable and holding the VIP
 * (semi-sync: writes open in their own step, once a replica acknowledges).
 */
export function writesBlockedMs(plan: Plan, results: StepResult[], rollback?: Rollback): number | undefined {
  // The writer VIP's steps only: a reader VIP placed after the promotion (phase 'readers') blocks no write.
  const done = (steps: Step[], rs: StepResult[], kinds: string[]) =>
    rs.filter((r) => {
      const s = steps.find((x) => x.n === r.n);
      return r.status === 'done' && !!s && s.phase !== 'readers' && kinds.includes(s.action.kind);
    });
  const starts = done(plan.steps, results, ['fence-read-only', 'vip-remove']);
  const ends = rollback
    ? done(rollback.steps, rollback.results, ['make-writable', 'vip-add'])
    : done(plan.steps, results, ['promote', 'open-writes', 'vip-add']);
  // Only a master that was alive and made read-only had writes to block (a dead one had none).
  const fenced = done(plan.steps, results, ['fence-read-only']).length > 0;
  return fenced && ends.length
    ? Math.max(...ends.map((r) => r.at + r.ms)) - Math.min(...starts.map((r) => r.at))
    : undefined;
}

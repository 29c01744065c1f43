import type { Plan } from '../../algorithm/plan-types.js';
import type { StepResult } from '../../executor/types.js';
import { matchSource, sourceChain } from '../../topology/identity.js';
import type { HostState } from '../../domain/server-state.js';

/**
 * The promises every run that changed anything must keep, checked on the servers as they are afterwards:
 * among the hosts mmmf can reach, at most one is writable (exactly one once a master was promoted), and every
 * replica replicates from it — directly, or through an intermediate master that does — or was left stopped
 * with a reason (a step for it failed or did not run, or the plan left it out). Returns each broken promise.
 */
export function invariantViolations(plan: Plan, results: StepResult[], states: HostState[]): string[] {
  const out: string[] = [];
  const reachable = states.filter((s) => s.reachable);
  const writable = reachable.filter((s) => s.readOnly === false);
  if (writable.length > 1) {
    out.push(`${writable.length} servers are writable: ${writable.map((s) => s.name).join(', ')} (split brain risk)`);
  }
  const promoted = results.some((r) => r.status === 'done' && isPromotion(plan, r.n));
  if (promoted && writable.length === 0) out.push('no reachable server is writable, although a master was promoted');
  const master = writable.length === 1 ? writable[0] : undefined;
  // Left out by the plan (errant transactions, filters, another branch of a tree): untouched, reported before.
  const leftOut = new Set(
    plan.hosts.filter((h) => h.role === 'excluded' || h.role === 'outside' || h.role === 'delayed').map((h) => h.name),
  );
  // A step for it failed or did not run: it must have been left stopped.
  const leftStopped = new Set(
    results.filter((r) => r.status === 'failed' || r.status === 'not-run').map((r) => r.host),
  );
  for (const s of reachable) {
    if (!s.replica || s === master) continue;
    const running = s.replica.ioRunning !== 'No' || s.replica.sqlRunning;
    const chain = sourceChain(s, states);
    if ((master && chain.includes(master.name)) || leftOut.has(s.name)) continue;
    if (!running && leftStopped.has(s.name)) continue;
    const src = matchSource(s.replica, states);
    const where = src.name ?? src.address;
    out.push(
      `${s.name} ${running ? 'replicates' : 'is stopped, pointed'} at ${where}, which is not the master` +
        `${master ? ` (${master.name})` : ''}${running ? '' : ', and no step says why'}`,
    );
  }
  return out;
}

const isPromotion = (plan: Plan, n: number) => plan.steps.find((s) => s.n === n)?.action.kind === 'promote';

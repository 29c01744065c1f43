import type { ChalkInstance } from 'chalk';
import type { Plan } from '../algorithm/plan-types.js';
import type { StepResult } from '../executor/run-plan.js';
import type { HookOutcome } from '../safety/hooks.js';
import { replicatesFromHost } from '../topology/identity.js';
import type { HostState } from '../domain/server-state.js';
import type { SalvageReport } from '../binlog/binlog-file/salvage-report.js';
import { renderSalvage } from './render-salvage.js';

/** One line per host: what it ended as, read back from the servers after the run (not assumed). */
export interface HostOutcome {
  name: string;
  ok: boolean;
  state: string;
}

/** The old master, when the plan kept its pair with the target circular (its promote step restarts replication). */
function pairPartner(plan: Plan, states: HostState[]): HostState | undefined {
  const kept = plan.steps.some((x) => x.action.kind === 'promote' && !!x.action.restart);
  return kept ? states.find((x) => x.name === plan.oldMaster.name) : undefined;
}

const running = (s: HostState) => s.replica?.ioRunning === 'Yes' && !!s.replica.sqlRunning;

/** Reads the final probe and the step results into what each host ended as. */
export function hostOutcomes(plan: Plan, results: StepResult[], finalStates: HostState[]): HostOutcome[] {
  const target = finalStates.find((s) => s.name === plan.target);
  return plan.hosts.map((h): HostOutcome => {
    const s = finalStates.find((x) => x.name === h.name);
    const failedStep = results.find((r) => r.host === h.name && r.status === 'failed');
    const why = failedStep ? ` — step ${failedStep.n} failed: ${failedStep.detail}` : '';
    if (!s?.reachable)
      return {
        name: h.name,
        ok: h.role !== 'target',
        state: `unreachable${s?.error ? ` (${s.error})` : ''}, untouched`,
      };
    const rw = s.readOnly ? 'read-only' : 'writable';
    if (h.role === 'old-master' && plan.kind === 'switchover') {
      const r = s.replica;
      const ok = !!target && replicatesFromHost(s, target, finalStates) && running(s) && !!s.readOnly;
      return {
        name: h.name,
        ok,
        state: ok
          ? `old master, now replica of ${plan.target}, IO Yes, SQL Yes, ${rw}`
          : `old master NOT demoted: ${rw}, replicates from ${r?.sourceAddress ?? 'nothing'}${why}`,
      };
    }
    if (h.role === 'old-master')
      return {
        name: h.name,
        ok: true,
        state: `old master, fenced: ${rw}, ${s.replica ? 'replicating' : 'not replicating'}${why}`,
      };
    if (h.role === 'target') {
      // A pair's switchover keeps the circular link: the new active replicates from the old one, now passive.
      const partner = pairPartner(plan, finalStates);
      const pairKept = !!partner && replicatesFromHost(s, partner, finalStates) && running(s);
      const ok = (!s.replica || pairKept) && !s.readOnly && !failedStep;
      const replicating = pairKept
        ? `, active master of the pair, replicating from ${partner.name} (passive)`
        : s.replica
          ? `, still replicating from ${s.replica.sourceAddress}`
          : '';
      return { name: h.name, ok, state: `${ok ? 'new master' : 'NOT promoted'}, ${rw}${replicating}${why}` };
    }
    if (h.role === 'replica' || (h.role === 'delayed' && plan.positioning === 'gtid')) {
      const r = s.replica;
      const fromTarget = !!target && replicatesFromHost(s, target, finalStates);
      const ok = fromTarget && running(s) && !failedStep;
      const src = r?.sourceAddress ?? 'nothing';
      return {
        name: h.name,
        ok,
        state: ok
          ? `replica of ${plan.target}, IO Yes, SQL Yes, ${rw}`
          : `NOT failed over: replicates from ${src}, IO ${r?.ioRunning ?? '-'}, ` +
            `SQL ${r?.sqlRunning ? 'Yes' : 'No'}${why}`,
      };
    }
    return { name: h.name, ok: true, state: `${h.note} (untouched)` };
  });
}

/** Everything the summary of a failover or switchover says. */
export interface RunSummary {
  plan: Plan;
  results: StepResult[];
  outcomes: HostOutcome[];
  seconds: number;
  hook?: HookOutcome | undefined;
  /** Broken safety invariants, read back from the servers (said first, in red). */
  violations?: string[];
  /** Whether the target was promoted. */
  promoted?: boolean;
  /** When nothing was promoted: the command that continues. */
  next?: string | undefined;
  /** How long writes were blocked (a master that was alive and fenced). */
  blockedMs?: number | undefined;
  /** A switchover that failed before promotion and was rolled back (or could not be). */
  rollback?: { ok: boolean; refused?: string[] } | undefined;
  /** The dead master's binlog salvage, when the plan had one. */
  salvage?: SalvageReport | undefined;
}

/** Broken safety invariants, said first and in red by every command that changed servers. */
export function violationLines(violations: string[], c: ChalkInstance): string[] {
  return violations.map((v) => c.red.bold(`✖ SAFETY INVARIANT BROKEN: ${v}`));
}

/** The summary of a failover or switchover: the result, how long writes were blocked, and any rollback. */
export function renderFailoverSummary(r: RunSummary, c: ChalkInstance): string {
  const out = ['\n' + renderResult(r, c) + '\n'];
  if (r.salvage) out.push('\n' + renderSalvage(r.salvage, c).join('\n') + '\n');
  if (r.blockedMs !== undefined) {
    const until = r.rollback ? 'rolled back' : 'new master writable';
    out.push(`Writes were blocked for ${r.blockedMs} ms (old master read-only → ${until}).\n`);
  }
  const old = r.plan.oldMaster.name;
  if (r.rollback?.refused) out.push(c.red(`No rollback: ${r.rollback.refused.join('; ')}. See \`mmmf status\`.\n`));
  else if (r.rollback?.ok) {
    out.push(
      c.yellow(`Rolled back before promotion: ${old} is writable again and every replica replicates from it.\n`),
    );
  } else if (r.rollback) out.push(c.red('Rollback did not complete: see `mmmf status`.\n'));
  return out.join('');
}

export function renderResult(r: RunSummary, c: ChalkInstance): string {
  const { plan, results, outcomes, seconds, hook } = r;
  const violations = r.violations ?? [];
  // A step that only warns (a VIP on a host that cannot be reached, a reader VIP) does not undo a completed run:
  // it is said in yellow, and the run counts as done (as its exit code does).
  const warnOnly = (n: number) => plan.steps.find((x) => x.n === n)?.onFailure === 'warn';
  const failedAll = results.filter((x) => x.status === 'failed');
  const failed = failedAll.filter((x) => !warnOnly(x.n));
  const warned = failedAll.filter((x) => warnOnly(x.n));
  const allOk =
    !failed.length && outcomes.every((o) => o.ok) && !results.some((x) => x.status === 'not-run') && !violations.length;
  const L: string[] = [];
  L.push(...violationLines(violations, c));
  const what = plan.kind === 'switchover' ? 'Switchover' : 'Failover';
  const withWarnings = warned.length ? `, with ${warned.length} warning${warned.length === 1 ? '' : 's'}` : '';
  L.push(
    allOk
      ? (warned.length ? c.yellow.bold : c.green.bold)(
          `✔ ${what} to ${plan.target} done in ${seconds.toFixed(1)} s${withWarnings}`,
        )
      : c.red.bold(`✖ ${what} to ${plan.target} did not complete (${seconds.toFixed(1)} s)`),
  );
  for (const f of warned) L.push(c.yellow(`  ! step ${f.n} (${f.host}): ${f.detail}`));
  if (r.promoted === false) {
    L.push(
      c.red(
        `  Nothing was promoted: no replica was pointed at ${plan.target}. Replicas that were stopped or brought up ` +
          `to ${plan.best} are stopped at known coordinates.`,
      ),
    );
  }
  for (const f of failed) L.push(c.red(`  step ${f.n} (${f.host}) failed: ${f.detail}`));
  L.push('', c.bold('Where every host ended'));
  const w = Math.max(...outcomes.map((o) => o.name.length));
  for (const o of outcomes) L.push(`  ${o.ok ? c.green('✔') : c.red('✖')} ${o.name.padEnd(w)}  ${o.state}`);
  if (hook) {
    const completed = allOk ? ' (the failover itself completed; exit 1 so this is not missed)' : '';
    L.push(
      '',
      hook.ok
        ? `${c.green('✔')} ${hook.hook} hook: ${hook.detail}`
        : c.red(`✖ ${hook.hook} hook FAILED: ${hook.detail}${completed}`),
    );
  }
  if (r.next) L.push('', `Next: ${r.next}`);
  else if (!allOk) {
    L.push(
      '',
      'Next: fix what failed (above); `mmmf status` shows the topology as it is now. Hosts marked ✖ were left ' +
        'exactly as described.',
    );
  }
  return L.join('\n');
}

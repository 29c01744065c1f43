import type { ChalkInstance } from 'chalk';
import type { Plan, Step } from '../algorithm/plan-types.js';
import { violationLines } from './render-result.js';

// What --abort, rejoin and roles show a person (a failover's and a switchover's summary is render-result.ts).

/** --abort's plan: the undo steps of the unfinished run, with their SQL. */
export function renderAbortPlan(plan: Plan, startedAt: string, steps: Step[], c: ChalkInstance): string {
  const L = [c.bold(`Aborting the unfinished failover to ${plan.target} (started ${startedAt}):`)];
  for (const st of steps) {
    L.push(`  ${String(st.n).padStart(3)}. ${c.bold(st.host)}: ${st.title}`);
    for (const sql of st.sql) L.push(`         ${c.dim('>')} ${sql}`);
  }
  return L.join('\n') + '\n';
}

export function renderAbortSummary(plan: Plan, j: { ok: boolean; violations: string[] }, c: ChalkInstance): string {
  const back = plan.oldMaster.name ?? plan.oldMaster.address;
  const last = j.ok
    ? c.green(`✔ Aborted: the cluster replicates from ${back} again.`)
    : c.red('✖ Abort did not complete: see above; `mmmf status` shows where every host is.');
  return ['', ...violationLines(j.violations, c), last].join('\n') + '\n';
}

export function renderRejoinSummary(plan: Plan, j: { ok: boolean; violations: string[] }, c: ChalkInstance): string {
  const master = plan.oldMaster.name ?? plan.oldMaster.address;
  const pair = plan.steps.some((x) => x.phase === 'pair');
  const last = j.ok
    ? c.green(
        `✔ ${plan.target} rejoined: a read-only replica of ${master}` +
          `${pair ? `, and ${master} replicates from it again (the pair is circular)` : ''}.`,
      )
    : c.red('✖ Rejoin did not complete: see above; `mmmf status` shows where every host is.');
  return ['', ...violationLines(j.violations, c), last].join('\n') + '\n';
}

/** The hosts kept out of reader roles, when there are any. */
export function offlineLine(offline: string[], c: ChalkInstance): string {
  return offline.length ? `\n${c.dim(`Offline (kept out of reader roles): ${offline.join(', ')}`)}\n` : '';
}

/** Where every reader VIP is after `roles` (offline, online) ran. */
export function renderRolesSummary(
  j: { ok: boolean; placed: [string, string[]][]; offline: string[] },
  c: ChalkInstance,
): string {
  const L = ['\n' + c.bold('Reader VIPs now') + '\n'];
  for (const [vip, hs] of j.placed) {
    const mark = hs.length === 1 ? c.green('✔') : c.red('✖');
    L.push(`  ${mark} ${vip}  ${hs.length ? hs.join(', ') : 'on no host'}\n`);
  }
  L.push(offlineLine(j.offline, c), j.ok ? '' : c.red('✖ Not every reader VIP is on exactly one host: see above.\n'));
  return L.join('');
}

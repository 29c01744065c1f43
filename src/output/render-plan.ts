import type { ChalkInstance } from 'chalk';
import { PHASES, type Plan } from '../algorithm/plan-types.js';

const ROLE_LABEL: Record<string, string> = {
  'old-master': 'old master',
  delayed: 'delayed',
  target: 'new master',
  replica: 'replica',
  excluded: 'left out',
  unreachable: 'unreachable',
  outside: 'not involved',
};

/** The plan as a numbered runbook: what, where, the exact SQL, and why. */
export function renderPlan(plan: Plan, c: ChalkInstance, opts: { dryRun: boolean }): string {
  const L: string[] = [];
  const old = plan.oldMaster;
  L.push(
    c.bold(
      `${plan.kind === 'switchover' ? 'Switchover' : 'Failover'} plan${opts.dryRun ? ' (dry run: nothing will be changed)' : ''}`,
    ),
  );
  L.push(
    `  old master  ${old.name ?? '?'} ${c.dim(old.address)} ${old.reachable ? c.yellow('alive') : c.red('unreachable')}`,
  );
  for (const e of plan.deathEvidence ?? []) L.push(`              ${c.dim(`dead: ${e}`)}`);
  L.push(`  new master  ${c.bold(plan.target)}${plan.targetWhy ? ` ${c.dim(`(${plan.targetWhy})`)}` : ''}`);
  if (plan.nothingToDo) {
    L.push('', c.green(plan.nothingToDo));
    return L.join('\n');
  }
  L.push(`  best        ${plan.best} ${c.dim('(received the most from the old master)')}`);
  L.push(
    `  positioning ${plan.positioning === 'gtid' ? 'GTID' : 'file and position'} ${c.dim(`(${plan.positioningWhy})`)}`,
  );
  L.push('', c.bold('Hosts'));
  const w = Math.max(...plan.hosts.map((h) => h.name.length));
  for (const h of plan.hosts) {
    L.push(`  ${h.name.padEnd(w)}  ${(ROLE_LABEL[h.role] ?? h.role).padEnd(12)} ${c.dim(h.note)}`);
  }
  if (plan.warnings.length) {
    L.push('', c.bold('Warnings'));
    for (const x of plan.warnings) L.push(`  ${c.yellow('!')} ${x}`);
  }
  L.push('', c.bold('Steps'));
  for (const p of PHASES) {
    const steps = plan.steps.filter((s) => s.phase === p.id);
    if (!steps.length) continue;
    L.push(`  ${c.cyan(p.label)}${p.parallel && steps.length > 1 ? c.dim(' (in parallel)') : ''}`);
    for (const s of steps) {
      const after = s.after.length
        ? c.dim(`  (after ${s.after.length > 1 ? 'steps' : 'step'} ${s.after.join(', ')})`)
        : '';
      L.push(`  ${String(s.n).padStart(3)}. ${c.bold(s.host)}: ${s.title}${after}`);
      for (const sql of s.sql) L.push(`         ${c.dim('>')} ${sql}`);
      for (const cmd of s.command ?? []) L.push(`         ${c.dim('$')} ${cmd}`);
      L.push(`         ${c.dim(`why: ${s.why}`)}`);
    }
  }
  return L.join('\n');
}

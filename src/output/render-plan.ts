import type { ChalkInstance } from 'chalk';
import { PHASES, phaseLabel, type Plan } from '../algorithm/plan-types.js';

const ROLE_LABEL: Record<string, string> = {
  'old-master': 'old master',
  delayed: 'delayed',
  target: 'new master',
  replica: 'replica',
  excluded: 'left out',
  unreachable: 'unreachable',
  outside: 'not involved',
};

const REJOIN_LABEL: Record<string, string> = { target: 'rejoining', 'old-master': 'master' };
const ROLES_LABEL: Record<string, string> = { 'old-master': 'master', replica: 'reader', outside: '-' };

/** The plan as a numbered runbook: what, where, the exact SQL, and why. */
export function renderPlan(plan: Plan, c: ChalkInstance, opts: { dryRun: boolean }): string {
  const L = heading(plan, c, opts.dryRun);
  if (plan.nothingToDo && plan.kind !== 'roles') {
    L.push('', c.green(plan.nothingToDo));
    return L.join('\n');
  }
  if (plan.kind === 'failover' || plan.kind === 'switchover') {
    L.push(`  best        ${plan.best} ${c.dim('(received the most from the old master)')}`);
  }
  if (plan.kind !== 'roles') {
    const how = plan.positioning === 'gtid' ? 'GTID' : 'file and position';
    L.push(`  positioning ${how} ${c.dim(`(${plan.positioningWhy})`)}`);
  }
  if (plan.semiSync) L.push(`  semi-sync   ${plan.semiSync}`);
  L.push('', c.bold('Hosts'));
  const w = Math.max(...plan.hosts.map((h) => h.name.length));
  for (const h of plan.hosts) {
    const special = plan.kind === 'rejoin' ? REJOIN_LABEL : plan.kind === 'roles' ? ROLES_LABEL : {};
    const label = special[h.role] ?? ROLE_LABEL[h.role] ?? h.role;
    L.push(`  ${h.name.padEnd(w)}  ${label.padEnd(12)} ${c.dim(h.note)}`);
  }
  if (plan.warnings.length) {
    L.push('', c.bold('Warnings'));
    for (const x of plan.warnings) L.push(`  ${c.yellow('!')} ${x}`);
  }
  if (plan.nothingToDo) L.push('', c.green(plan.nothingToDo));
  else L.push('', c.bold('Steps'), ...stepLines(plan, c));
  return L.join('\n');
}

/** What the plan is for: the masters (old, new), or the host rejoining, or the writer the readers follow. */
function heading(plan: Plan, c: ChalkInstance, dryRun: boolean): string[] {
  const dry = dryRun ? ' (dry run: nothing will be changed)' : '';
  if (plan.kind === 'roles') {
    return [
      c.bold(`Reader VIP plan${dry}`),
      `  master      ${plan.target} ${c.dim('(the writer; replication is not touched)')}`,
    ];
  }
  if (plan.kind === 'rejoin') {
    return [
      c.bold(`Rejoin plan${dry}`),
      `  rejoining   ${c.bold(plan.target)} ${c.dim(`(${plan.targetWhy ?? 'a former master'})`)}`,
      `  master      ${plan.oldMaster.name ?? plan.oldMaster.address} ${c.dim(plan.oldMaster.address)}`,
    ];
  }
  const old = plan.oldMaster;
  const alive = old.reachable ? c.yellow('alive') : c.red('unreachable');
  return [
    c.bold(`${plan.kind === 'switchover' ? 'Switchover' : 'Failover'} plan${dry}`),
    `  old master  ${old.name ?? '?'} ${c.dim(old.address)} ${alive}`,
    ...(plan.deathEvidence ?? []).map((e) => `              ${c.dim(`dead: ${e}`)}`),
    `  new master  ${c.bold(plan.target)}${plan.targetWhy ? ` ${c.dim(`(${plan.targetWhy})`)}` : ''}`,
  ];
}

/** Each phase with its steps: number, host, title, what it waits for, the SQL and commands, and why. */
function stepLines(plan: Plan, c: ChalkInstance): string[] {
  const L: string[] = [];
  for (const p of PHASES) {
    const steps = plan.steps.filter((s) => s.phase === p.id);
    if (!steps.length) continue;
    L.push(`  ${c.cyan(phaseLabel(plan.kind, p.id))}${p.parallel && steps.length > 1 ? c.dim(' (in parallel)') : ''}`);
    for (const s of steps) {
      const after = s.after.length
        ? c.dim(`  (after ${s.after.length > 1 ? 'steps' : 'step'} ${s.after.join(', ')})`)
        : '';
      L.push(`  ${String(s.n).padStart(3)}. ${c.bold(s.host)}: ${s.title}${after}`);
      for (const sql of s.sql) L.push(`         ${c.dim('>')} ${sql}`);
      // A remote script's own lines are indented under it (leading blanks change nothing a shell does).
      for (const cmd of s.command ?? []) L.push(`         ${c.dim('$')} ${cmd.replace(/\n/g, '\n           ')}`);
      L.push(`         ${c.dim(`why: ${s.why}`)}`);
    }
  }
  return L;
}

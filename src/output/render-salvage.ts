import type { ChalkInstance } from 'chalk';
import type { Plan } from '../algorithm/plan-types.js';
import type { SalvageReport } from '../binlog/binlog-file/salvage-report.js';
import type { StepOutput, StepResult } from '../executor/types.js';

/**
 * The salvage's account for the report (--json `salvage`, and the summary), when the plan had a salvage step:
 * what its output says, or why it has none (it failed, or did not run).
 */
export function salvageOutcome(
  plan: Plan,
  results: StepResult[],
  outputOf: (n: number) => StepOutput | undefined,
): SalvageReport | undefined {
  const step = plan.steps.find((s) => s.action.kind === 'salvage');
  if (!step || step.action.kind !== 'salvage') return undefined;
  const report = outputOf(step.n)?.salvage;
  if (report) return report;
  const r = results.find((x) => x.n === step.n);
  const outcome = r?.status === 'failed' ? ('failed' as const) : ('not-run' as const);
  const none = { transactions: 0, gtids: [], positions: [], tornTailBytes: 0, bytesRead: 0 };
  const hosts = { oldMaster: step.action.oldMaster, appliedTo: step.host };
  return { outcome, ...hosts, ...none, refusals: r?.detail ? [r.detail] : [] };
}

/** The summary's lines about the salvage: what was salvaged (GTIDs, positions), what was dropped, what refused. */
export function renderSalvage(r: SalvageReport, c: ChalkInstance): string[] {
  const L = [c.bold(`Salvage of ${r.oldMaster}'s binlog (over SSH)`)];
  const what = [...r.gtids, ...r.positions].join(', ');
  if (r.outcome === 'applied') {
    const resumed = r.alreadyApplied ? ` (${r.alreadyApplied} by the run this one resumed)` : '';
    L.push(`  ${c.green('✔')} ${r.transactions} transactions applied to ${r.appliedTo}${resumed}: ${what}`);
  } else if (r.outcome === 'nothing') {
    L.push(`  ${c.green('✔')} nothing to salvage: ${r.appliedTo} had everything ${r.oldMaster}'s binlog holds`);
  } else if (r.outcome === 'refused') {
    L.push(c.yellow(`  ! nothing salvaged; the failover went on without it`));
  } else if (r.outcome === 'failed') {
    L.push(c.red(`  ✖ the salvage failed: nothing was promoted`));
  } else L.push(c.dim('  - not run'));
  if (r.tornTailBytes) {
    L.push(
      c.yellow(
        `  ! torn tail of ${r.tornTailBytes} bytes dropped (a transaction ${r.oldMaster} never finished writing)`,
      ),
    );
  }
  const ns = r.notSalvaged;
  if (ns) {
    const after = ns.filesAfter.length ? ` and ${ns.filesAfter.join(', ')}` : '';
    L.push(c.yellow(`  ! NOT salvaged: ${r.oldMaster}'s binlog from ${ns.at} on${after} (${ns.reason}: ${ns.detail})`));
  }
  for (const x of r.refusals) L.push(c.yellow(`  ! ${x}`));
  return L;
}

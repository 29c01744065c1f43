import type { Plan, Step } from '../../algorithm/plan-types.js';
import type { StepResult } from '../../executor/types.js';
import type { HostOutcome } from '../../output/render-result.js';
import type { HookOutcome } from '../../safety/hooks.js';
import type { SalvageReport } from '../../binlog/binlog-file/salvage-report.js';

/**
 * What `--json` prints for every outcome of a failover, switchover or abort: the plan, what each step did,
 * where every host ended, the safety invariants, or why it was refused. One shape, so a machine reads one
 * thing whatever happened.
 *
 * @example { command: 'failover', dryRun: false, ok: true, exitCode: 0, plan: {...}, results: [...], hosts: [...] }
 */
export interface RunReport {
  command: 'failover' | 'switchover' | 'abort' | 'rejoin' | 'roles' | 'offline' | 'online';
  dryRun: boolean;
  ok: boolean;
  exitCode: number;
  seconds?: number;
  plan?: Plan;
  /** Refused before any change (exit 3): every reason. */
  refusals?: string[];
  nothingToDo?: string;
  /** `--if-dead`: what the signals said about the old master (alive: nothing to do; dead: the plan also says). */
  masterCheck?: { verdict: 'alive' | 'dead'; evidence: string[] };
  /** A run that continued an unfinished one: when that one started and which steps it had done. */
  resume?: { startedAt: string; done: number[] };
  results?: StepResult[];
  hosts?: HostOutcome[];
  /** Whether the target was promoted (a run that promoted nobody does not arm anti-flap). */
  promoted?: boolean;
  invariants?: { ok: boolean; violations: string[] };
  writesBlockedMs?: number;
  rollback?: { ok: boolean; steps: Step[]; results: StepResult[] };
  hook?: HookOutcome;
  /** roles, offline, online: the hosts kept out of reader roles. */
  offline?: string[];
  /** A failover that salvaged (or tried to salvage) the dead master's binlog: what, how much, what not, why. */
  salvage?: SalvageReport;
}

export function printReport(report: RunReport): void {
  process.stdout.write(JSON.stringify(report, null, 2) + '\n');
}

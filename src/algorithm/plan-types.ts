/**
 * A plan is plain data: what a run will do, in order, on which host, with the exact SQL and why.
 * `--dry-run` prints it; a real run prints the same plan and executes exactly it.
 */

/** Phases run in this order. 'each-host' phases hold at most one step per host and run those in parallel. */
export const PHASES = [
  { id: 'fence', label: 'Fence the old master', parallel: false },
  { id: 'catch-up', label: "Let every replica receive the old master's last transactions", parallel: true },
  { id: 'start-sql', label: 'Resume paused SQL threads', parallel: true },
  { id: 'stop-io', label: 'Stop receiving from the old master', parallel: true },
  { id: 'drain', label: 'Apply every received transaction', parallel: true },
  { id: 'stop', label: 'Stop replication', parallel: true },
  { id: 'confirm', label: 'Confirm the best replica', parallel: false },
  { id: 'map', label: "Map lagging replicas' positions into the best replica's binlog", parallel: true },
  { id: 'equalize', label: 'Bring lagging replicas up to the best one', parallel: true },
  { id: 'promote', label: 'Promote the new master', parallel: false },
  { id: 'vip', label: 'Move the writer VIP to the new master', parallel: false },
  { id: 'repoint', label: 'Repoint replicas to the new master', parallel: true },
  { id: 'demote', label: 'Make the old master a replica of the new one', parallel: false },
  { id: 'verify', label: 'Verify replication from the new master', parallel: true },
] as const;

export type Phase = (typeof PHASES)[number]['id'];

/**
 * A value a step produces at run time and a later step consumes: the best replica's final GTID position, or
 * binlog coordinates (file and pos) such as a mapped position or the new master's binlog end.
 */
export interface StepRef {
  step: number;
  key: 'gtid' | 'file' | 'pos';
}

export type StepAction =
  | { kind: 'fence-read-only' }
  | { kind: 'kill-clients' }
  | { kind: 'record-master-end' }
  | { kind: 'catch-up'; masterEnd: StepRef }
  | { kind: 'resume-sql'; relayLog?: { file: string; position: number } }
  | { kind: 'stop-io-thread' }
  | { kind: 'drain-relay-log'; trustCoordinates: boolean }
  | { kind: 'stop-replication' }
  | { kind: 'confirm-best'; candidates: string[]; masterEnd?: StepRef; byFile?: boolean }
  | { kind: 'map-position'; best: string; bestEnd: StepRef }
  | { kind: 'equalize'; source: string; until: StepRef; from?: StepRef }
  | { kind: 'promote'; recordEnd?: boolean }
  | { kind: 'repoint'; source: string; formerMaster?: boolean; at?: StepRef }
  | { kind: 'verify-replica'; source: string; formerMaster?: boolean; byFile?: boolean }
  | { kind: 'vip-remove' }
  | { kind: 'vip-add' }
  | { kind: 'vip-verify'; holder: string }
  | { kind: 'fence-hook' };

/**
 * What a failed step means for the rest of the run:
 * - 'stop-run': nothing after it may run (e.g. the target could not be promoted);
 * - 'drop-host': this host is left as it is, the others carry on;
 * - 'continue': noted, nothing else depends on it (the run still counts as failed);
 * - 'warn': reported loudly, but the run does not fail for it (the old master's VIP when that host is down).
 */
export type OnFailure = 'stop-run' | 'drop-host' | 'continue' | 'warn';

/** Example: `{ n: 7, phase: 'stop-io', host: 'test3', title: 'Stop the IO thread', sql: ['STOP SLAVE IO_THREAD'], why: '...' }` */
export interface Step {
  n: number;
  phase: Phase;
  host: string;
  title: string;
  action: StepAction;
  /** Exactly what will be sent, secrets redacted, run-time values shown as <...from step N>. */
  sql: string[];
  /** Commands run on the host over SSH (or locally, for a hook), shown as a person would type them. */
  command?: string[];
  why: string;
  onFailure: OnFailure;
}

export type HostRole = 'old-master' | 'target' | 'replica' | 'excluded' | 'unreachable' | 'outside';

/** How the planner sees each configured host, with the reason when it is left out. */
export interface HostPlan {
  name: string;
  address: string;
  role: HostRole;
  note: string;
}

export interface Plan {
  /** failover: the master is gone or misbehaving; switchover: a planned change with the master alive. */
  kind: 'failover' | 'switchover';
  target: string;
  oldMaster: { address: string; name?: string; reachable: boolean };
  /** The replica that received the most from the old master; every other one is brought up to it. */
  best: string;
  /** GTID positions, or binlog file and position mapped through the best replica's relay log. */
  positioning: 'gtid' | 'file';
  /** Why that positioning was chosen (config, --positioning, or what 'auto' found). */
  positioningWhy: string;
  hosts: HostPlan[];
  warnings: string[];
  steps: Step[];
  /** Set when there is nothing to do (the target already is the master of every reachable replica). */
  nothingToDo?: string;
}

// The executor's shared vocabulary, in a leaf module: every executor file imports from here, and this file
// imports no executor file (the layering test checks it).
import type { ActionKind, ActionOf, Step, StepRef } from '../algorithm/plan-types.js';
import type { Coordinates } from '../domain/coordinates.js';
import type { ServerLogs } from '../binlog/log-reader.js';
import type { SalvageReport } from '../binlog/binlog-file/salvage-report.js';
import type { Dialect } from '../dialect/dialect.js';
import type { ResolvedConfig } from '../topology/config-types.js';
import type { SqlConnection } from '../topology/connection.js';

/**
 * - done: the step did what it says;  - skipped: it found its work already done (idempotent);
 * - failed: it tried and failed;      - not-run: a step it depends on did not succeed.
 */
export type StepStatus = 'done' | 'skipped' | 'failed' | 'not-run';

/** Example: `{ n: 12, host: 'test3', status: 'done', detail: 'applied 3000 transactions from test2', ms: 840 }` */
export interface StepResult {
  n: number;
  host: string;
  status: StepStatus;
  detail: string;
  /** When it started (epoch ms) and how long it took. */
  at: number;
  ms: number;
}

/** What a step handed to later steps, kept so a resumed run can feed them. Example: `{ gtid: '0-1-2004' }` */
export interface StepOutput {
  gtid?: string;
  coordinates?: Coordinates;
  /** A salvage's account, for the report. */
  salvage?: SalvageReport;
  /** A salvage about to apply: journaled first, so a resumed run counts what was applied after it. */
  salvageStart?: SalvageStart;
  /** A VIP step run from an armed command: the host's clock (epoch ms) when the address went or came. */
  vipAt?: number;
}

/**
 * Where the best replica stood when a salvage began to apply, and what it was to apply. Example:
 * `{ binlogEnd: { file: 'mysql-bin.000003', position: 1880 }, slavePos: '0-1-1500', transactions: 27,
 * first: '0-1-1501', last: '0-1-1527', endsAt: { file: 'mysql-bin.000012', position: 9120 } }`
 */
export interface SalvageStart {
  binlogEnd: Coordinates;
  /** Its GTID position then (MariaDB gtid_slave_pos, MySQL gtid_executed); '' without GTIDs. */
  slavePos: string;
  transactions: number;
  first?: string;
  last?: string;
  endsAt?: Coordinates;
}

/** What a step produced for later steps and a one-line account for the operator. */
export interface ActionOutcome {
  detail: string;
  output?: StepOutput;
  /** The step found nothing to do (it is idempotent): reported as skipped, not failed. */
  alreadyDone?: boolean;
}

/**
 * The named points where a test may inject a fault (see faults.ts), each with where it is. Adding a point is one
 * line here and one call where it happens (`await ctx.fault('promote:after-reset')` inside a step).
 */
export const FAULT_POINTS = {
  'before-step': 'before a step is journaled as begun: killed here, the step never began',
  'step-begun': 'right after a step is journaled as begun, before it sends anything: failed here, the step failed',
  'after-checkpoint': 'right after a step journaled a value it must not lose: killed here, a resume must keep it',
  'statement-sent':
    'right after a step sent its k-th statement that changes something (`#STEP.K`): a step that fails or dies half-way',
  'salvage:read':
    "a salvage read and decoded the dead master's binlog; its host is checked again next, then it applies",
  'salvage:applying': 'a salvage started applying one file: killed here, the apply client dies with mmmf mid-stream',
  'salvage:file-applied': 'a salvage applied one file (of several, across a rotation): killed here, part is applied',
} as const;

export type FaultPoint = keyof typeof FAULT_POINTS;

/**
 * One injected fault: at `point` of step `step` (of every step when absent), die like kill -9, fail the step, or
 * wait. `from` names where it was configured, for the failure's message.
 *
 * @example { point: 'step-begun', step: 9, action: 'fail', from: 'MMMF_TEST_FAIL_AT_STEP' }
 */
export interface FaultRule {
  point: FaultPoint;
  step?: number;
  /** For 'statement-sent': after which changing statement of the step (1 = the first); every one when absent. */
  statement?: number;
  action: 'kill' | 'fail' | { delayMs: number };
  from: string;
}

/** Test-only fault injection: the executor calls `at` at every named point (see faults.ts). */
export interface Faults {
  /** `statement` numbers the step's changing statements, for 'statement-sent'. */
  at(point: FaultPoint, step: number, statement?: number): Promise<void>;
  /** Whether any fault waits at this point (the executor then counts a step's statements). */
  has(point: FaultPoint): boolean;
}

/** What an action handler may use: its host's connection and dialect, other hosts', and earlier steps' outputs. */
export interface ActionContext {
  config: ResolvedConfig;
  conn(host: string): SqlConnection;
  dialect(host: string): Dialect;
  /** A run-time value an earlier step produced (throws when it produced none). */
  output(ref: StepRef): string;
  outputCoordinates(step: number): Coordinates | undefined;
  /** Whether an earlier step succeeded (done or skipped) in this run or the run it resumes. */
  succeeded(step: number): boolean;
  /** A fresh connection to a host (given up after the connect timeout); the caller closes it. */
  connect(host: string): Promise<SqlConnection>;
  /** What this step recorded before a killed run died inside it (a resumed run must keep it). */
  checkpointed(): StepOutput | undefined;
  /** Records a value in the journal before the step goes on, so a run killed inside the step keeps it. */
  checkpoint(output: StepOutput): Promise<void>;
  /** One server's binlog and relay log, read lazily and shared by every step of the run. */
  logs(host: string): ServerLogs;
  /**
   * A read that every step of this phase needs alike (the new master's position each replica's verify waits
   * for): sent once per phase, not once per step, where 20 steps would queue 20 round trips on one connection.
   */
  shared<T>(key: string, read: () => Promise<T>): Promise<T>;
  /** A statement as printed in the plan, made executable (password and run-time values filled in). */
  materialize(sql: string): string;
  /** Test-only: a fault injected at this named point of this step, if one is configured (else nothing). */
  fault(point: FaultPoint): Promise<void>;
}

/** Runs one kind of action. Throws with an operator-readable message when the step fails. */
export type Handler<K extends ActionKind> = (
  step: Step & { action: ActionOf<K> },
  ctx: ActionContext,
) => Promise<ActionOutcome>;

/** One handler per action kind; the compiler checks that none is missing. */
export type HandlerTable = { [K in ActionKind]: Handler<K> };

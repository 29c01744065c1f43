// The executor's shared vocabulary, in a leaf module: every executor file imports from here, and this file
// imports no executor file (the layering test checks it).
import type { ActionKind, ActionOf, Step, StepRef } from '../algorithm/plan-types.js';
import type { Coordinates } from '../domain/coordinates.js';
import type { ServerLogs } from '../binlog/log-reader.js';
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
}

/** What a step produced for later steps and a one-line account for the operator. */
export interface ActionOutcome {
  detail: string;
  output?: StepOutput;
  /** The step found nothing to do (it is idempotent): reported as skipped, not failed. */
  alreadyDone?: boolean;
}

/** Test-only fault injection, read once by the command from MMMF_TEST_* and handed down. */
export interface Faults {
  /** Slow every step down, so tests can race a second run or kill this one mid-plan. */
  stepDelayMs?: number;
  /** Die (like kill -9) right before this step. */
  killAtStep?: number;
  /** Make this step fail. */
  failAtStep?: number;
  /** Die right after this step's checkpoint. */
  killAfterCheckpoint?: number;
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
  /** What this step recorded before a killed run died inside it (a resumed run must keep it). */
  checkpointed(): StepOutput | undefined;
  /** Records a value in the journal before the step goes on, so a run killed inside the step keeps it. */
  checkpoint(output: StepOutput): void;
  /** One server's binlog and relay log, read lazily and shared by every step of the run. */
  logs(host: string): ServerLogs;
  /** A statement as printed in the plan, made executable (password and run-time values filled in). */
  materialize(sql: string): string;
}

/** Runs one kind of action. Throws with an operator-readable message when the step fails. */
export type Handler<K extends ActionKind> = (
  step: Step & { action: ActionOf<K> },
  ctx: ActionContext,
) => Promise<ActionOutcome>;

/** One handler per action kind; the compiler checks that none is missing. */
export type HandlerTable = { [K in ActionKind]: Handler<K> };

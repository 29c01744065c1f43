import { PHASES, type Phase, type Plan, type Step, type StepRef } from '../algorithm/plan-types.js';
import type { Journal, StepOutput } from './journal.js';
import type { Dialect } from '../dialect/dialect.js';
import type { ResolvedConfig } from '../topology/config-types.js';
import type { SqlConnection } from '../topology/connection.js';
import { errorText } from '../errors.js';
import { ServerLogs } from '../binlog/log-reader.js';
import { REMOTE_ACTIONS, runAction, type ActionContext } from './step-actions.js';

/**
 * - done: the step did what it says;  - skipped: it found its work already done (idempotent);
 * - failed: it tried and failed;      - not-run: an earlier failure made it unsafe or pointless.
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

export interface RunDeps {
  config: ResolvedConfig;
  conns: Map<string, SqlConnection>;
  dialects: Map<string, Dialect>;
  /** Where every step is recorded before and after it runs, so a killed run can be resumed. */
  journal?: Journal;
}

/**
 * Executes a plan step by step and records a result for every step; it never throws halfway, so a partial
 * failover is reported exactly. Failure semantics come from each step's `onFailure`.
 */
export class PlanRun {
  readonly results = new Map<number, StepResult>();
  private readonly outputs = new Map<number, StepOutput>();
  /** Steps completed by an earlier, killed run of this plan (resume): not run again. */
  private readonly previous = new Map<number, StepResult>();
  private readonly dropped = new Map<string, string>();
  private stoppedBy?: string;
  /** Binlog and relay-log reads, shared by the steps that map positions through the same server. */
  private readonly logs = new Map<string, ServerLogs>();

  constructor(
    readonly plan: Plan,
    private readonly deps: RunDeps,
  ) {}

  /**
   * Takes over what a killed run of the same plan recorded: completed steps are kept (with their outputs),
   * failures keep their consequences (dropped hosts, a stopped run). Steps that never finished run again;
   * every step is idempotent, so re-running the one that was interrupted is safe.
   */
  restore(results: StepResult[], outputs: Map<number, StepOutput>): void {
    for (const [n, o] of outputs) this.outputs.set(n, o);
    for (const r of results.sort((a, b) => a.n - b.n)) {
      const step = this.plan.steps.find((s) => s.n === r.n);
      if (!step) continue;
      if (r.status === 'done' || r.status === 'skipped') this.previous.set(r.n, r);
      else if (r.status === 'failed') {
        this.results.set(r.n, r);
        this.fail(step, () => r, r.detail);
      }
    }
  }

  /** The plan's steps grouped by phase, in execution order, with whether a phase's steps may run in parallel. */
  phases(): { phase: Phase; label: string; parallel: boolean; steps: Step[] }[] {
    return PHASES.map((p) => ({
      phase: p.id,
      label: p.label,
      parallel: p.parallel,
      steps: this.plan.steps.filter((s) => s.phase === p.id),
    })).filter((p) => p.steps.length > 0);
  }

  /** Runs every phase in order (parallel phases concurrently), without a progress display. */
  async runAll(onResult?: (step: Step, r: StepResult) => void): Promise<StepResult[]> {
    for (const p of this.phases()) {
      const run = async (s: Step) => {
        const r = await this.runStep(s); // not inside `onResult?.(...)`: that would skip the step when no callback is given
        onResult?.(s, r);
      };
      if (p.parallel) await Promise.all(p.steps.map(run));
      else for (const s of p.steps) await run(s);
    }
    return this.plan.steps.map((s) => this.results.get(s.n)!);
  }

  get failed(): boolean {
    const warnOnly = new Set(this.plan.steps.filter((s) => s.onFailure === 'warn').map((s) => s.n));
    return [...this.results.values()].some(
      (r) => (r.status === 'failed' && !warnOnly.has(r.n)) || r.status === 'not-run',
    );
  }

  async runStep(step: Step): Promise<StepResult> {
    const started = Date.now();
    const finish = (status: StepStatus, detail: string) => {
      const r: StepResult = { n: step.n, host: step.host, status, detail, at: started, ms: Date.now() - started };
      this.results.set(step.n, r);
      return r;
    };
    const earlier = this.previous.get(step.n);
    if (earlier) {
      const r = { ...earlier, detail: `${earlier.detail} (before the resume)` };
      this.results.set(step.n, r);
      return r;
    }
    if (this.results.get(step.n)?.status === 'failed') return this.results.get(step.n)!;
    if (this.stoppedBy) return finish('not-run', `not run: ${this.stoppedBy}`);
    const droppedWhy = this.dropped.get(step.host);
    if (droppedWhy) return finish('not-run', `not run: ${step.host} was left as it was after ${droppedWhy}`);
    // VIP and fence-hook steps work over SSH or locally: the host's database may well be down.
    if (!REMOTE_ACTIONS.has(step.action.kind) && !this.deps.conns.get(step.host))
      return this.fail(step, finish, `no connection to ${step.host}`);
    // Test-only: slow every step down so tests can race a second run or kill this one mid-plan.
    const delay = Number(process.env.MMMF_TEST_STEP_DELAY_MS ?? 0);
    if (delay > 0) await new Promise((r) => setTimeout(r, delay));
    // Test-only: die (like kill -9) right before step K, to prove a resumed run converges.
    if (Number(process.env.MMMF_TEST_KILL_AT_STEP) === step.n) process.kill(process.pid, 'SIGKILL');
    this.deps.journal?.begin(step.n);
    let r: StepResult;
    let output: StepOutput | undefined;
    try {
      // Test-only: make step K fail, to prove what a failure at that point leaves behind.
      if (Number(process.env.MMMF_TEST_FAIL_AT_STEP) === step.n)
        throw new Error('injected failure (MMMF_TEST_FAIL_AT_STEP)');
      const outcome = await runAction(step, this.context(step));
      output = outcome.output;
      if (output) this.outputs.set(step.n, output);
      r = finish(outcome.alreadyDone ? 'skipped' : 'done', outcome.detail);
    } catch (err) {
      r = this.fail(step, finish, errorText(err));
    }
    this.deps.journal?.result(r, output);
    return r;
  }

  private fail(step: Step, finish: (s: StepStatus, d: string) => StepResult, detail: string): StepResult {
    if (step.onFailure === 'stop-run' && !this.stoppedBy)
      this.stoppedBy = `step ${step.n} (${step.host}: ${step.title}) failed`;
    if (step.onFailure === 'drop-host') this.dropped.set(step.host, `step ${step.n} failed`);
    return finish('failed', detail);
  }

  private context(step: Step): ActionContext {
    const { config, conns, dialects, journal } = this.deps;
    const conn = (h: string) => {
      const c = conns.get(h);
      if (!c) throw new Error(`no connection to ${h}`);
      return c;
    };
    return {
      config,
      conn,
      dialect: (h) => dialects.get(h)!,
      output: (ref: StepRef) => {
        const o = this.outputs.get(ref.step);
        const v =
          ref.key === 'gtid'
            ? o?.gtid
            : ref.key === 'file'
              ? o?.coordinates?.file
              : o?.coordinates?.position?.toString();
        if (v === undefined) throw new Error(`step ${ref.step} produced no ${ref.key}`);
        return v;
      },
      outputCoordinates: (n) => this.outputs.get(n)?.coordinates,
      checkpointed: () => this.outputs.get(step.n),
      checkpoint: (output) => {
        this.outputs.set(step.n, output);
        journal?.checkpoint(step.n, output);
        // Test-only: die (like kill -9) inside step K, right after its checkpoint.
        if (Number(process.env.MMMF_TEST_KILL_AFTER_CHECKPOINT) === step.n) process.kill(process.pid, 'SIGKILL');
      },
      isLive: (h) => !this.dropped.has(h),
      logs: (h) => {
        let l = this.logs.get(h);
        if (!l) this.logs.set(h, (l = new ServerLogs(conn(h), dialects.get(h)!)));
        return l;
      },
    };
  }
}

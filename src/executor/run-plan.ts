import { PHASES, type Phase, phaseLabel, type Plan, type Step, type StepRef } from '../algorithm/plan-types.js';
import { ServerLogs } from '../binlog/log-reader.js';
import type { Dialect } from '../dialect/dialect.js';
import { errorText } from '../errors.js';
import type { ResolvedConfig } from '../topology/config-types.js';
import type { SqlConnection } from '../topology/connection.js';
import { REMOTE_ACTIONS, runAction } from './actions/index.js';
import { armVipMove } from './actions/vip.js';
import type { Journal } from './journal.js';
import { materialize } from './materialize.js';
import { mark } from '../process/timeline.js';
import type { ActionContext, FaultPoint, Faults, StepOutput, StepResult, StepStatus } from './types.js';

export type { StepResult, StepStatus } from './types.js';

export interface RunDeps {
  config: ResolvedConfig;
  conns: Map<string, SqlConnection>;
  dialects: Map<string, Dialect>;
  /** Where every step is recorded before and after it runs, so a killed run can be resumed. */
  journal?: Journal;
  /** Opens a fresh connection to a host (a step that must look at a host again, not trust the session's). */
  connect?: (host: string) => Promise<SqlConnection>;
  faults?: Faults;
}

/**
 * How long the lock must stay this run's when a step starts: long enough to send its statements. Steps that wait
 * (draining, catching up) write their result through the lock too, so a lock lost meanwhile stops the run there.
 */
const STEP_LOCK_BUDGET_MS = 2000;

/** How long an armed VIP command waits for its word (the promotion's steps take far less): then it is ended. */
const ARM_HOLD_S = 120;

const succeeded = (r: StepResult | undefined) => r?.status === 'done' || r?.status === 'skipped';

/**
 * Executes a plan step by step and records a result for every step; it never throws halfway, so a partial
 * failover is reported exactly. A step runs only when every step in its `after` succeeded: when the target
 * cannot be promoted, nothing is pointed at it.
 */
export class PlanRun {
  readonly results = new Map<number, StepResult>();
  private readonly outputs = new Map<number, StepOutput>();
  /** Steps completed by an earlier, killed run of this plan (resume): not run again. */
  private readonly previous = new Map<number, StepResult>();
  /** Binlog and relay-log reads, shared by the steps that map positions through the same server. */
  private readonly logs = new Map<string, ServerLogs>();
  /** Reads shared by the steps of one phase (ActionContext.shared), by phase and key. */
  private readonly sharedReads = new Map<string, Promise<unknown>>();

  constructor(
    readonly plan: Plan,
    private readonly deps: RunDeps,
  ) {}

  /**
   * Takes over what a killed run of the same plan recorded: completed steps are kept (with their outputs). A step
   * that failed or never finished runs again — every step is idempotent, and it runs only when what it depends on
   * holds (its `after`), so a catch-up that failed on a conflict someone has fixed since is simply tried again.
   */
  restore(results: StepResult[], outputs: Map<number, StepOutput>): void {
    for (const [n, o] of outputs) this.outputs.set(n, o);
    for (const r of results) {
      if (this.plan.steps.some((s) => s.n === r.n) && succeeded(r)) this.previous.set(r.n, r);
    }
  }

  /** The plan's steps grouped by phase, in execution order, with whether a phase's steps may run in parallel. */
  phases(): { phase: Phase; label: string; parallel: boolean; steps: Step[] }[] {
    return PHASES.map((p) => ({
      phase: p.id,
      label: phaseLabel(this.plan.kind, p.id),
      parallel: p.parallel,
      steps: this.plan.steps.filter((s) => s.phase === p.id),
    })).filter((p) => p.steps.length > 0);
  }

  /** Runs every phase in order (parallel phases concurrently), without a progress display. */
  async runAll(onResult?: (step: Step, r: StepResult) => void): Promise<StepResult[]> {
    for (const p of this.phases()) {
      const run = async (s: Step) => {
        const r = await this.runStep(s);
        onResult?.(s, r);
      };
      if (p.parallel) await Promise.all(p.steps.map(run));
      else for (const s of p.steps) await run(s);
      mark(`phase ${p.phase}`);
    }
    return this.plan.steps.map((s) => this.results.get(s.n)!);
  }

  get failed(): boolean {
    const warnOnly = new Set(this.plan.steps.filter((s) => s.onFailure === 'warn').map((s) => s.n));
    return [...this.results.values()].some(
      (r) => (r.status === 'failed' && !warnOnly.has(r.n)) || r.status === 'not-run',
    );
  }

  /** What a step handed on (in this run, or in the run it resumes), for the report. */
  outputOf(n: number): StepOutput | undefined {
    return this.outputs.get(n);
  }

  /** Whether a step of this plan succeeded (in this run, or in the run it resumes). */
  succeeded(n: number): boolean {
    return succeeded(this.results.get(n)) || succeeded(this.previous.get(n));
  }

  /** Steps started and not finished: a step of the same parallel phase that depends on one waits for it. */
  private readonly running = new Map<number, Promise<StepResult>>();

  /** Whether the writer VIP's move has been armed (as the promotion begins). */
  private vipArmed = false;

  runStep(step: Step): Promise<StepResult> {
    if (step.phase === 'promote' && !this.vipArmed) {
      // Ready before it is needed: the VIP then moves in milliseconds once the new master is writable.
      this.vipArmed = true;
      const left = this.plan.steps.filter((s) => !this.succeeded(s.n));
      armVipMove(left, this.deps.config, this.deps.config.timeouts.connect + ARM_HOLD_S);
    }
    const p = (async () => {
      const pending = step.after.flatMap((n) => this.running.get(n) ?? []);
      await Promise.all(pending);
      return this.execute(step);
    })();
    this.running.set(step.n, p);
    return p.finally(() => this.running.delete(step.n));
  }

  private async execute(step: Step): Promise<StepResult> {
    const started = Date.now();
    const finish = (status: StepStatus, detail: string) => {
      const r: StepResult = { n: step.n, host: step.host, status, detail, at: started, ms: Date.now() - started };
      this.results.set(step.n, r);
      return r;
    };
    const earlier = this.previous.get(step.n);
    if (earlier) return finish(earlier.status, `${earlier.detail} (before the resume)`);
    const blocked = this.blockedBy(step);
    if (blocked) return finish('not-run', `not run: ${blocked}`);
    // VIP and fence-hook steps work over SSH or locally: the host's database may well be down.
    if (!REMOTE_ACTIONS.has(step.action.kind) && !this.deps.conns.get(step.host)) {
      return finish('failed', `no connection to ${step.host}`);
    }
    if (this.lockLost) return finish('not-run', `not run: ${this.lockLost}`);
    await this.fault('before-step', step.n);
    try {
      // The cluster's lock must still be this run's (another monitor may have taken over after our lease ran out).
      await this.deps.journal?.check(STEP_LOCK_BUDGET_MS);
      await this.deps.journal?.begin(step.n);
    } catch (err) {
      this.lockLost = `this run lost the cluster's lock (${errorText(err)}): it stops here, its journal stays`;
      return finish('not-run', `not run: ${this.lockLost}`);
    }
    let r: StepResult;
    let output: StepOutput | undefined;
    try {
      await this.fault('step-begun', step.n);
      const outcome = await runAction(step, this.context(step));
      output = outcome.output;
      if (output) this.outputs.set(step.n, output);
      r = finish(outcome.alreadyDone ? 'skipped' : 'done', outcome.detail);
    } catch (err) {
      r = finish('failed', errorText(err));
    }
    try {
      await this.deps.journal?.result(r, output);
    } catch (err) {
      this.lockLost = `this run lost the cluster's lock (${errorText(err)}): it stops here, its journal stays`;
    }
    return r;
  }

  /** Set once the cluster's lock is lost: every later step is not run. */
  lockLost: string | undefined;

  /** Why a step may not run: the first step it depends on that did not succeed. */
  private blockedBy(step: Step): string | undefined {
    for (const n of step.after) {
      if (this.succeeded(n)) continue;
      const dep = this.plan.steps.find((s) => s.n === n);
      const how = this.results.get(n)?.status === 'failed' ? 'failed' : 'did not run';
      return `it needs step ${n} (${dep?.host}: ${dep?.title}), which ${how}`;
    }
    return undefined;
  }

  private context(step: Step): ActionContext {
    const { config, conns, dialects, journal } = this.deps;
    const counted = this.deps.faults?.has('statement-sent') ? countChanges(step.n, this.deps.faults) : undefined;
    const conn = (h: string) => {
      const c = conns.get(h);
      if (!c) throw new Error(`no connection to ${h}`);
      return counted ? counted(c) : c;
    };
    const dialect = (h: string) => {
      const d = dialects.get(h);
      if (!d) throw new Error(`${h} was not probed`);
      return d;
    };
    const output = (ref: StepRef) => {
      const o = this.outputs.get(ref.step);
      const v =
        ref.key === 'gtid' ? o?.gtid : ref.key === 'file' ? o?.coordinates?.file : o?.coordinates?.position?.toString();
      if (v === undefined) throw new Error(`step ${ref.step} produced no ${ref.key}`);
      return v;
    };
    return {
      config,
      conn,
      dialect,
      output,
      outputCoordinates: (n) => this.outputs.get(n)?.coordinates,
      succeeded: (n) => this.succeeded(n),
      connect: (h) => {
        if (!this.deps.connect) return Promise.reject(new Error('no connector in this run'));
        return this.deps.connect(h);
      },
      checkpointed: () => this.outputs.get(step.n),
      checkpoint: async (o) => {
        this.outputs.set(step.n, o);
        await journal?.checkpoint(step.n, o);
        await this.fault('after-checkpoint', step.n);
      },
      logs: (h) => {
        let l = this.logs.get(h);
        if (!l) this.logs.set(h, (l = new ServerLogs(conn(h), dialect(h))));
        return l;
      },
      shared: <T>(key: string, read: () => Promise<T>) => {
        const k = `${step.phase}:${key}`;
        let p = this.sharedReads.get(k) as Promise<T> | undefined;
        if (!p) {
          p = read();
          this.sharedReads.set(k, p);
          // A failed read is not shared: the next step reads again.
          p.catch(() => this.sharedReads.delete(k));
        }
        return p;
      },
      materialize: (sql) => materialize(sql, config.replication.password, output),
      fault: (point) => this.fault(point, step.n),
    };
  }

  /** The one seam for test-only faults (faults.ts): nothing happens unless one is configured for this point. */
  private fault(point: FaultPoint, n: number): Promise<void> {
    return this.deps.faults?.at(point, n) ?? Promise.resolve();
  }
}

/** A statement that only reads (its fault point is after statements that change something). */
const READS = /^\s*(SELECT|SHOW|DO\s+SLEEP)\b/i;

/**
 * Test-only: the step's connections, each changing statement counted (across its hosts) and followed by the
 * 'statement-sent' fault point — so a test can fail or kill a step half-way, between two of its statements.
 */
function countChanges(step: number, faults: Faults): (c: SqlConnection) => SqlConnection {
  let sent = 0;
  return (c) => ({
    name: c.name,
    close: () => c.close(),
    async query(sql, timeoutMs) {
      const rows = await c.query(sql, timeoutMs);
      if (!READS.test(sql)) await faults.at('statement-sent', step, ++sent);
      return rows;
    },
  });
}

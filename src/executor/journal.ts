import { hostname } from 'node:os';
import type { Plan } from '../algorithm/plan-types.js';
import type { JournalLine, StoreLock } from '../state/cluster-store.js';
import type { StepOutput, StepResult } from './types.js';

export type { StepOutput } from './types.js';

/** One line of the journal, appended before and after every step (and when a step checkpoints). */
export type JournalRecord =
  | { type: 'start'; at: string; pid: number; host: string; target: string; plan: Plan }
  | { type: 'begin'; at: string; n: number }
  | { type: 'result'; at: string; result: StepResult; output?: StepOutput }
  /** What a step found half-way, written before it goes on (see `checkpoint`). */
  | { type: 'checkpoint'; at: string; n: number; output: StepOutput }
  | { type: 'end'; at: string; ok: boolean };

/** An unfinished run read back from its journal. */
export interface UnfinishedRun {
  start: Extract<JournalRecord, { type: 'start' }>;
  results: StepResult[];
  outputs: Map<number, StepOutput>;
  /** Steps that began but never recorded a result: the run died inside them. */
  interrupted: number[];
  /** When its journal was last written (ISO time): how stale it is. */
  lastAt: string;
}

/**
 * The journal of the run that holds the cluster's lock, kept by the cluster store (files in the private state
 * folder, or etcd): every write goes through the lock, so a run that lost its lock writes nothing. A journal
 * without its `end` is an unfinished run that the next run resumes (or --abort undoes).
 */
export class Journal {
  constructor(private readonly lock: StoreLock) {}

  private write(rec: JournalRecord): Promise<void> {
    return this.lock.append(rec);
  }

  start(plan: Plan): Promise<void> {
    const at = new Date().toISOString();
    return this.write({ type: 'start', at, pid: process.pid, host: hostname(), target: plan.target, plan });
  }
  async begin(n: number): Promise<void> {
    await this.write({ type: 'begin', at: new Date().toISOString(), n });
    await this.lock.setStep(n);
  }
  /**
   * A value a step must not lose if the run dies inside it: the new master's binlog position recorded before
   * writes open. A resumed step that re-read it after writes had opened would start every replica after them.
   */
  checkpoint(n: number, output: StepOutput): Promise<void> {
    return this.write({ type: 'checkpoint', at: new Date().toISOString(), n, output });
  }
  result(result: StepResult, output?: StepOutput): Promise<void> {
    return this.write({ type: 'result', at: new Date().toISOString(), result, ...(output ? { output } : {}) });
  }
  /** Ends the run: its journal goes to the history, and nothing resumes it any more. */
  end(ok: boolean): Promise<void> {
    return this.lock.finish({ type: 'end', at: new Date().toISOString(), ok });
  }
  /** Before a step: the lock must still be this run's for at least `budgetMs` (etcd: by the lease's own clock). */
  check(budgetMs: number): Promise<void> {
    return this.lock.check(budgetMs);
  }
}

/** Reads an unfinished run back from its journal's lines (a torn last line was dropped by the store). */
export function readUnfinished(lines: JournalLine[]): UnfinishedRun | undefined {
  const records = lines as unknown as JournalRecord[];
  const start = records.find((r): r is Extract<JournalRecord, { type: 'start' }> => r.type === 'start');
  if (!start || records.some((r) => r.type === 'end')) return undefined;
  const results = new Map<number, StepResult>();
  const outputs = new Map<number, StepOutput>();
  const begun = new Set<number>();
  for (const r of records) {
    if (r.type === 'begin') begun.add(r.n);
    if (r.type === 'checkpoint') outputs.set(r.n, r.output);
    if (r.type === 'result') {
      results.set(r.result.n, r.result);
      if (r.output) outputs.set(r.result.n, r.output);
    }
  }
  const lastAt = records.reduce((t, r) => ('at' in r && r.at > t ? r.at : t), start.at);
  return {
    start,
    results: [...results.values()],
    outputs,
    interrupted: [...begun].filter((n) => !results.has(n)),
    lastAt,
  };
}

import { appendFileSync, existsSync, readFileSync, renameSync } from 'node:fs';
import { ensurePrivateDir, PRIVATE_FILE } from '../state/state-files.js';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { Plan } from '../algorithm/plan-types.js';
import { clusterId } from '../safety/run-lock.js';
import type { ResolvedConfig } from '../topology/config-types.js';
import type { StepOutput, StepResult } from './types.js';

export type { StepOutput } from './types.js';

/** One line of the journal (JSON Lines, appended synchronously before and after every step). */
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
}

/**
 * The failover journal of one cluster. While a run is unfinished its file sits at `<cluster>.journal.jsonl`;
 * when the run ends it is renamed with a timestamp, so its presence alone means "a run died here".
 */
export class Journal {
  readonly file: string;
  constructor(private readonly config: ResolvedConfig) {
    this.file = join(config.stateDir, `${clusterId(config)}.journal.jsonl`);
  }

  private write(rec: JournalRecord): void {
    ensurePrivateDir(this.config.stateDir);
    appendFileSync(this.file, JSON.stringify(rec) + '\n', { mode: PRIVATE_FILE });
  }

  start(plan: Plan): void {
    this.write({
      type: 'start',
      at: new Date().toISOString(),
      pid: process.pid,
      host: hostname(),
      target: plan.target,
      plan,
    });
  }
  begin(n: number): void {
    this.write({ type: 'begin', at: new Date().toISOString(), n });
  }
  /**
   * A value a step must not lose if the run dies inside it: the new master's binlog position recorded before
   * writes open. A resumed step that re-read it after writes had opened would start every replica after them.
   */
  checkpoint(n: number, output: StepOutput): void {
    this.write({ type: 'checkpoint', at: new Date().toISOString(), n, output });
  }
  result(result: StepResult, output?: StepOutput): void {
    this.write({ type: 'result', at: new Date().toISOString(), result, ...(output ? { output } : {}) });
  }
  /** Ends the run and moves the journal aside (kept for the record). */
  end(ok: boolean): string {
    this.write({ type: 'end', at: new Date().toISOString(), ok });
    const kept = this.file.replace(/\.jsonl$/, `.${new Date().toISOString().replace(/[:.]/g, '-')}.jsonl`);
    renameSync(this.file, kept);
    return kept;
  }

  /** The unfinished run, if one died; a torn last line (killed mid-write) is ignored. */
  unfinished(): UnfinishedRun | undefined {
    if (!existsSync(this.file)) return undefined;
    const records: JournalRecord[] = [];
    for (const line of readFileSync(this.file, 'utf8').split('\n')) {
      if (!line.trim()) continue;
      try {
        records.push(JSON.parse(line) as JournalRecord);
      } catch {
        // the process died while writing this line
      }
    }
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
    return { start, results: [...results.values()], outputs, interrupted: [...begun].filter((n) => !results.has(n)) };
  }
}

// mmmf's failover journal as the harness reads it from the state folder (JSON Lines: start with the plan, then
// begin/result per step, end): while a run is unfinished it sits at clusters/<cluster>/run.jsonl; an ended run's
// moves to clusters/<cluster>/history/<epoch>.jsonl. The harness uses it to prove where a killed run died, not
// to decide anything else.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

interface PlanStep {
  n: number;
  phase: string;
  after: number[];
}
export type JournalRecord =
  | { type: 'start'; target: string; plan: { steps: PlanStep[] } }
  | { type: 'begin'; n: number }
  | { type: 'result'; result: { n: number; status: string } }
  | { type: 'checkpoint'; n: number }
  | { type: 'end'; ok: boolean };

export interface Journals {
  /** The unfinished run's records, if a run died. */
  open?: JournalRecord[];
  /** Ended runs, oldest first. */
  closed: JournalRecord[][];
}

const parse = (text: string): JournalRecord[] =>
  text
    .split('\n')
    .filter((l) => l.trim())
    .flatMap((l) => {
      try {
        return [JSON.parse(l) as JournalRecord];
      } catch {
        return []; // a line torn by a kill
      }
    });

export function readJournals(stateDir: string): Journals {
  const clusters = join(stateDir, 'clusters');
  const dirs = existsSync(clusters) ? readdirSync(clusters).map((d) => join(clusters, d)) : [];
  const open = dirs.map((d) => join(d, 'run.jsonl')).filter((f) => existsSync(f));
  // history/<epoch>.jsonl, the epoch starting with the run's start time in ms: by time, across cluster folders
  // (configs naming hosts differently may still share one folder: the store finds it by server identity).
  const closed = dirs
    .flatMap((d) =>
      existsSync(join(d, 'history')) ? readdirSync(join(d, 'history')).map((f) => join(d, 'history', f)) : [],
    )
    .filter((f) => f.endsWith('.jsonl'))
    .sort((x, y) => Number(/(\d+)-[^/]*$/.exec(x)?.[1]) - Number(/(\d+)-[^/]*$/.exec(y)?.[1]));
  const read = (f: string) => parse(readFileSync(f, 'utf8'));
  return { ...(open[0] ? { open: read(open[0]) } : {}), closed: closed.map(read) };
}

/**
 * Why the journal does not show a run killed right before step `k` (empty when it does): the run is
 * unfinished, step k never began, and every step of an earlier phase finished (or could not run because a
 * step it needs failed) — so the kill came at k, not before and not later.
 */
export function killedBeforeStep(j: Journals, k: number): string[] {
  if (!j.open) return [`no unfinished journal: the run was not killed (${j.closed.length} ended runs)`];
  const start = j.open.find((r) => r.type === 'start');
  if (!start) return ['the unfinished journal has no start record'];
  const steps = start.plan.steps;
  const step = steps.find((s) => s.n === k);
  if (!step) return [`the journaled plan has ${steps.length} steps, no step ${k}`];
  const out: string[] = [];
  if (j.open.some((r) => r.type === 'end')) out.push('the journal has an end record');
  if (j.open.some((r) => r.type === 'begin' && r.n === k)) out.push(`step ${k} began: the kill came later`);
  const status = new Map<number, string>();
  for (const r of j.open) if (r.type === 'result') status.set(r.result.n, r.result.status);
  const phases = [...new Set(steps.map((s) => s.phase))];
  const earlier = steps.filter((s) => phases.indexOf(s.phase) < phases.indexOf(step.phase));
  const excused = (s: PlanStep, seen = new Set<number>()): boolean =>
    s.after.some((d) => {
      if (status.get(d) === 'failed') return true;
      const dep = steps.find((x) => x.n === d);
      return !!dep && !status.has(d) && !seen.has(d) && excused(dep, seen.add(d));
    });
  const unfinished = earlier.filter((s) => !status.has(s.n) && !excused(s)).map((s) => s.n);
  if (unfinished.length)
    out.push(`steps ${unfinished.join(', ')} of earlier phases never finished: killed before ${k}`);
  return out;
}

/**
 * Why the journals do not show every run ended, the last one successfully (empty when they do). `lastMayFail`:
 * the last run's failure is the outcome expected of it (a partial failure the servers proved), so only "ended"
 * counts.
 */
export function allRunsEnded(j: Journals, o: { lastMayFail?: boolean } = {}): string[] {
  if (j.open) return ['a journal is still open: a run did not finish'];
  const last = j.closed.at(-1);
  const end = last?.find((r) => r.type === 'end');
  if (!end) return ['no ended run in the state folder'];
  return (end.type === 'end' && end.ok) || o.lastMayFail ? [] : ['the last run ended with ok=false'];
}

/**
 * Why the journal does not show a run killed inside step `k` (empty when it does): the run is unfinished, step k
 * began and has no result.
 */
export function killedInStep(j: Journals, k: number): string[] {
  if (!j.open) return [`no unfinished journal: the run was not killed (${j.closed.length} ended runs)`];
  const out: string[] = [];
  if (j.open.some((r) => r.type === 'end')) out.push('the journal has an end record');
  if (!j.open.some((r) => r.type === 'begin' && r.n === k)) out.push(`step ${k} never began: killed before it`);
  if (j.open.some((r) => r.type === 'result' && r.result.n === k)) out.push(`step ${k} has a result: killed after it`);
  return out;
}

/** Step `k`'s result in the last run (unfinished or ended), or undefined when it has none. */
export function stepStatus(j: Journals, k: number): string | undefined {
  const run = j.open ?? j.closed.at(-1) ?? [];
  for (const r of run) if (r.type === 'result' && r.result.n === k) return r.result.status;
  return undefined;
}

import type { ChalkInstance } from 'chalk';
import type { Plan } from '../../algorithm/plan-types.js';
import { EXIT } from '../../errors.js';
import type { PlanRun } from '../../executor/run-plan.js';
import type { StepResult } from '../../executor/types.js';
import type { HookOutcome } from '../../safety/hooks.js';
import { runWithProgress } from './progress.js';
import { mark, spans } from '../../process/timeline.js';
import { printReport, type RunReport } from './report.js';
import type { Session } from './session.js';

/** What reading the cluster back after the steps found. */
export interface Judged {
  /** The command reached what it set out to do: every step and every host where it belongs. */
  ok: boolean;
  /** Broken safety invariants, read back from the servers. */
  violations: string[];
}

/** Everything the summary of a run may say. */
export interface RunEnd<J extends Judged> {
  plan: Plan;
  results: StepResult[];
  judged: J;
  hook: HookOutcome | undefined;
  seconds: number;
  exitCode: number;
}

/**
 * What the commands that run a plan (failover and switchover, --abort, rejoin, roles) differ in. Everything else
 * is done once, the same way, by runAndReport.
 */
export interface Ending<J extends Judged> {
  command: RunReport['command'];
  /** The plan as a person sees it before anything runs (never with --json). */
  shown: string;
  /** After the plan is shown, before the first step (the preFailover hook, the journal's start). */
  before?(): Promise<void>;
  /** Once the steps ran: undo what must be undone, read the cluster back and judge it. */
  readBack(results: StepResult[]): Promise<J>;
  /** Once the judgement is known: the journal's end, anti-flap, the hook that follows a run. */
  close?(judged: J): Promise<HookOutcome | undefined>;
  /** What --json adds for this command. */
  json?(judged: J): Partial<RunReport>;
  /** The summary a person reads, rendered by src/output. */
  summary(end: RunEnd<J>, c: ChalkInstance): string;
}

/**
 * The one way a command runs a plan and ends: the plan shown once, the steps run (a progress list, or quietly
 * for --json), every host read back and judged, the run closed, the exit code decided (0 only when everything
 * is where it belongs and the closing hook did not fail), and one report: JSON, or the summary.
 */
export async function runAndReport<J extends Judged>(s: Session, run: PlanRun, ending: Ending<J>): Promise<number> {
  const plan = run.plan;
  if (!s.json) s.write(ending.shown);
  await ending.before?.();
  const results = s.json ? await run.runAll() : await runWithProgress(run);
  for (const r of results) s.log?.line(r.host, '#', `step ${r.n} ${r.status}: ${r.detail}`);
  const judged = await ending.readBack(results);
  mark('read back');
  for (const v of judged.violations) s.log?.line('mmmf', '!', `invariant broken: ${v}`);
  const hook = await ending.close?.(judged);
  mark('close');
  if (hook) s.log?.line('mmmf', '#', `${hook.hook} hook ${hook.ok ? 'ok' : 'FAILED'}: ${hook.detail}`);
  // A failed hook after a completed run must not look like success to cron: exit 1, said plainly.
  const exitCode = judged.ok && (!hook || hook.ok) ? EXIT.ok : EXIT.failed;
  const seconds = (Date.now() - s.started) / 1000;
  if (s.json) {
    printReport({
      command: ending.command,
      dryRun: false,
      ok: judged.ok,
      exitCode,
      seconds,
      plan,
      results,
      ...ending.json?.(judged),
      ...(hook ? { hook } : {}),
      timings: spans(),
    });
  } else s.write(ending.summary({ plan, results, judged, hook, seconds, exitCode }, s.c));
  return exitCode;
}

/** A plan that is only shown: a dry run, or nothing to do. Exit 0. */
export function showOnly(
  s: Session,
  o: { command: RunReport['command']; plan: Plan; dryRun: boolean; text: string; json?: Partial<RunReport> },
): number {
  if (s.json) {
    const nothing = o.plan.nothingToDo ? { nothingToDo: o.plan.nothingToDo } : {};
    printReport({
      command: o.command,
      dryRun: o.dryRun,
      ok: true,
      exitCode: EXIT.ok,
      plan: o.plan,
      ...o.json,
      ...nothing,
    });
  } else s.write(o.text);
  return EXIT.ok;
}

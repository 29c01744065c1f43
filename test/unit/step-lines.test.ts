// What a run prints when its output is a pipe, a file or cron (no listr2 there): a line when each phase and step
// starts, one when each step ends, failures on stderr, and a parallel phase's steps started together.
import { describe, expect, it } from 'vitest';
import type { Step } from '../../src/algorithm/plan-types.js';
import type { PlanRun } from '../../src/executor/run-plan.js';
import type { StepResult, StepStatus } from '../../src/executor/types.js';
import { runWithLines } from '../../src/output/step-lines.js';

const step = (n: number, host: string, title: string) => ({ n, host, title }) as Step;

/** A run of two phases whose steps end as scripted, each after `ms`. */
function scriptedRun(outcomes: Record<number, [StepStatus, string]>, ms = 5) {
  const phases = [
    {
      phase: 'stop',
      label: 'Stop replication',
      parallel: true,
      steps: [step(1, 'db2', 'Stop'), step(2, 'db3', 'Stop')],
    },
    {
      phase: 'promote',
      label: 'Promote',
      parallel: false,
      steps: [step(3, 'db2', 'Promote'), step(4, 'db3', 'Repoint')],
    },
  ];
  const results = new Map<number, StepResult>();
  const run = {
    plan: { steps: phases.flatMap((p) => p.steps) },
    results,
    phases: () => phases,
    async runStep(s: Step): Promise<StepResult> {
      await new Promise((r) => setTimeout(r, ms));
      const [status, detail] = outcomes[s.n]!;
      const r = { n: s.n, host: s.host, status, detail, at: 0, ms };
      results.set(s.n, r);
      return r;
    },
  };
  return run as unknown as PlanRun;
}

function capture() {
  const lines: string[] = [];
  return { lines, write: (t: string) => lines.push(...t.split('\n').filter(Boolean)) };
}

describe('runWithLines', () => {
  it('prints each phase and step as it starts and each step as it ends; failures go to stderr', async () => {
    const out = capture();
    const err = capture();
    const results = await runWithLines(
      scriptedRun({
        1: ['done', 'stopped'],
        2: ['skipped', 'already stopped'],
        3: ['failed', 'read_only could not be cleared'],
        4: ['not-run', 'step 3 did not succeed'],
      }),
      out,
      err,
    );
    expect(out.lines).toEqual([
      '❯ Stop replication',
      '❯ 1. db2: Stop',
      '❯ 2. db3: Stop',
      '✔ 1. db2: Stop — stopped (5 ms)',
      '✔ 2. db3: Stop — nothing to do: already stopped',
      '❯ Promote',
      '❯ 3. db2: Promote',
      '❯ 4. db3: Repoint',
      '↓ 4. db3: Repoint [SKIPPED: step 3 did not succeed]',
    ]);
    expect(err.lines).toEqual(['✖ 3. db2: Promote [FAILED: read_only could not be cleared]']);
    expect(results.map((r) => [r.n, r.status])).toEqual([
      [1, 'done'],
      [2, 'skipped'],
      [3, 'failed'],
      [4, 'not-run'],
    ]);
  });
});

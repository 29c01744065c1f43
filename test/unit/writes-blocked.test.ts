// How long writes were blocked in a switchover: the writer VIP's move ends it, a reader VIP placed afterwards
// does not (a pair switchover measured 250 ms where its writer VIP had arrived 85 ms after the fence).
import { describe, expect, it } from 'vitest';
import type { Plan, Step } from '../../src/algorithm/plan-types.js';
import { writesBlockedMs } from '../../src/commands/run/rollback.js';
import type { StepResult } from '../../src/executor/types.js';
import { step } from './fixture-executor.js';

const steps: Step[] = [
  step(1, 'db1', { kind: 'fence-read-only', setReadOnly: [] }, [], 'fence'),
  step(2, 'db2', { kind: 'promote', stop: 'STOP SLAVE', reset: 'RESET SLAVE ALL', setWritable: [] }, [1], 'promote'),
  step(3, 'db1', { kind: 'vip-remove' }, [2], 'vip'),
  step(4, 'db2', { kind: 'vip-add' }, [3], 'vip'),
  step(5, 'db2', { kind: 'vip-remove', address: '10.0.0.101/24' }, [4], 'readers'),
  step(6, 'db1', { kind: 'vip-add', address: '10.0.0.101/24' }, [5], 'readers'),
];
const plan = { kind: 'switchover', steps } as unknown as Plan;
const done = (n: number, at: number, ms: number): StepResult => ({ n, host: 'x', status: 'done', detail: '', at, ms });

describe('writes blocked in a switchover', () => {
  it('ends when the writer VIP arrives, not when a reader VIP is placed', () => {
    const results = [done(1, 1000, 5), done(2, 1040, 13), done(3, 1054, 8), done(4, 1062, 23), done(5, 1090, 40)];
    expect(writesBlockedMs(plan, [...results, done(6, 1130, 48)])).toBe(85);
  });

  it('without a writer VIP, ends at the promotion', () => {
    const noVip = { ...plan, steps: steps.filter((s) => s.phase !== 'vip') };
    expect(writesBlockedMs(noVip, [done(1, 1000, 5), done(2, 1040, 13), done(6, 1130, 48)])).toBe(53);
  });
});

// After a promotion, the summary's Next names `rejoin` for every replica left outside the new cluster whole — its
// stop, its catch-up or its move under the new master failed — a failed catch-up with what to fix first.
import { describe, expect, it } from 'vitest';
import type { Plan, Step } from '../../src/algorithm/plan-types.js';
import { rejoinCommand } from '../../src/commands/run/failover-ending.js';
import type { StepResult } from '../../src/executor/types.js';
import { unitConfig } from './fixture-config.js';

const step = (n: number, host: string, kind: string) => ({ n, host, action: { kind } }) as unknown as Step;
const plan = {
  target: 'db3',
  steps: [
    step(1, 'db2', 'stop-io-thread'),
    step(2, 'db4', 'stop-io-thread'),
    step(3, 'db4', 'equalize'),
    step(4, 'db3', 'promote'),
    step(5, 'db2', 'repoint'),
    step(6, 'db5', 'repoint'),
    step(7, 'db5', 'verify-replica'),
  ],
} as unknown as Plan;
const result = (n: number, status: StepResult['status']): StepResult => ({
  n,
  host: '',
  status,
  detail: '',
  at: 0,
  ms: 0,
});
const config = unitConfig(5);

describe('the next command after a promotion', () => {
  it('names rejoin for a replica whose stop failed (its later steps never ran)', () => {
    const next = rejoinCommand(config, plan, [result(1, 'failed'), result(4, 'done'), result(5, 'not-run')]);
    expect(next).toMatch(
      /^mmmf --cfg \S+ rejoin db2 {3}\(it joins db3 once its GTIDs show it holds nothing db3 lacks\)$/,
    );
  });

  it('names each replica whose move or catch-up failed, the catch-up with what to fix first', () => {
    const next = rejoinCommand(config, plan, [result(4, 'done'), result(7, 'failed')]);
    expect(next).toMatch(/^mmmf --cfg \S+ rejoin db5 {3}\(it joins db3 /);
    expect(rejoinCommand(config, plan, [result(3, 'failed'), result(4, 'done')])).toMatch(
      /^mmmf --cfg \S+ rejoin db4 {3}\(fix what stopped step 3 first; it joins db3 once its GTIDs show/,
    );
    expect(rejoinCommand(config, plan, [result(4, 'done'), result(5, 'done')])).toBeUndefined();
    const both = rejoinCommand(config, plan, [result(1, 'failed'), result(6, 'failed')]);
    expect(both).toMatch(/^for h in db2 db5; do mmmf --cfg \S+ rejoin \$h; done/);
  });
});

// What the executor's pure tests run plans with: connections that record every statement and answer from a script,
// and steps with only what the executor reads.
import type { Step, StepAction } from '../../src/algorithm/plan-types.js';
import type { Row } from '../../src/domain/row.js';
import type { SqlConnection } from '../../src/topology/connection.js';

/** A connection that records every statement, fails the ones matching `failOn`, and answers with `answers`. */
export function fakeConn(name: string, failOn?: RegExp, answers: (sql: string) => Row[] = () => []) {
  const sent: string[] = [];
  const conn: SqlConnection = {
    name,
    async query(sql) {
      sent.push(sql);
      if (failOn?.test(sql)) throw new Error(`refused by ${name}: ${sql}`);
      return answers(sql);
    },
    async close() {},
  };
  return { conn, sent };
}

export const step = (
  n: number,
  host: string,
  action: StepAction,
  after: number[],
  phase: Step['phase'] = 'stop',
): Step => ({
  n,
  phase,
  host,
  title: `step ${n}`,
  action,
  sql: [],
  why: 'test',
  after,
  onFailure: 'fail',
});

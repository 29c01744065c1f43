// The harness reads mmmf's journal only to prove where a killed run died and that every run ended: these readings
// must be right, or the chaos harness would pass a kill that came elsewhere.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { allRunsEnded, killedBeforeStep, killedInStep, readJournals } from '../../harness/journal-view.js';

let dir: string | undefined;
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

const plan = {
  steps: [
    { n: 1, phase: 'stop', after: [] },
    { n: 2, phase: 'stop', after: [] },
    { n: 3, phase: 'promote', after: [1, 2] },
  ],
};
const lines = (records: object[]) => `${records.map((r) => JSON.stringify(r)).join('\n')}\n`;

/** A state folder with ended runs (history) and, when given, an unfinished one (run.jsonl). */
function state(o: { closed?: object[][]; open?: object[] }): string {
  dir = mkdtempSync(join(tmpdir(), 'mmmf-journal-view-'));
  const cluster = join(dir, 'clusters', 'c1');
  mkdirSync(join(cluster, 'history'), { recursive: true });
  (o.closed ?? []).forEach((r, i) => writeFileSync(join(cluster, 'history', `${1000 + i}-x.jsonl`), lines(r)));
  if (o.open) writeFileSync(join(cluster, 'run.jsonl'), lines(o.open));
  return dir;
}

const start = { type: 'start', target: 'test2', plan };
const result = (n: number, status = 'done') => ({ type: 'result', result: { n, status } });

describe('journal view', () => {
  it('every run ended, the last one ok — or a last failure the caller expects', () => {
    const failedLast = state({
      closed: [
        [start, { type: 'end', ok: true }],
        [start, { type: 'end', ok: false }],
      ],
    });
    expect(allRunsEnded(readJournals(failedLast))).toEqual(['the last run ended with ok=false']);
    expect(allRunsEnded(readJournals(failedLast), { lastMayFail: true })).toEqual([]);
    const open = state({ open: [start, { type: 'begin', n: 1 }] });
    expect(allRunsEnded(readJournals(open), { lastMayFail: true })).toEqual([
      'a journal is still open: a run did not finish',
    ]);
  });

  it('a kill before step 3: every earlier-phase step finished, step 3 never began', () => {
    const j = readJournals(
      state({ open: [start, { type: 'begin', n: 1 }, result(1), { type: 'begin', n: 2 }, result(2)] }),
    );
    expect(killedBeforeStep(j, 3)).toEqual([]);
    expect(killedInStep(j, 3)).toEqual(['step 3 never began: killed before it']);
  });

  it('a kill inside step 2: it began and has no result', () => {
    const j = readJournals(state({ open: [start, { type: 'begin', n: 1 }, result(1), { type: 'begin', n: 2 }] }));
    expect(killedInStep(j, 2)).toEqual([]);
    expect(killedInStep(j, 1)).toEqual(['step 1 has a result: killed after it']);
    expect(killedBeforeStep(j, 2)).toEqual(['step 2 began: the kill came later']);
  });
});

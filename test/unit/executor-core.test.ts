// The executor's core with a scripted SqlConnection: dependencies, failure handling, resume, the journal and
// materialize. No server: what each fake connection received is the evidence.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Plan, Step } from '../../src/algorithm/plan-types.js';
import { dialectFor } from '../../src/dialect/dialect.js';
import { faultsFromEnv, parseFaults } from '../../src/executor/faults.js';
import { Journal, readUnfinished } from '../../src/executor/journal.js';
import { identityOf } from '../../src/state/cluster-identity.js';
import { FileStore } from '../../src/state/file-store.js';
import { materialize } from '../../src/executor/materialize.js';
import { PlanRun } from '../../src/executor/run-plan.js';
import type { ResolvedConfig } from '../../src/topology/config-types.js';
import type { SqlConnection } from '../../src/topology/connection.js';
import { fakeConn, step } from './fixture-executor.js';

const version = { flavor: 'mariadb' as const, major: 10, minor: 11, patch: 19, text: '10.11.19-MariaDB' };
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A journal kept by the local-files store in the config's state folder, with this run holding the lock. */
async function journalIn(cfg: ResolvedConfig) {
  const store = FileStore.open(cfg.stateDir, identityOf(undefined, ['a:3306#1']));
  const holder = { runId: 'r', host: hostname(), pid: process.pid, command: 'test', started: '' };
  const r = await store.register(holder, await store.read());
  if (!r.ok) throw new Error(r.why);
  return { journal: new Journal(r.lock), store };
}

function config(): ResolvedConfig {
  const stateDir = mkdtempSync(join(tmpdir(), 'mmmf-unit-'));
  dirs.push(stateDir);
  return {
    replication: { user: 'repl', password: "p'w" },
    hosts: ['a', 'b', 'c'].map((name, i) => ({
      name,
      host: `10.0.0.${i + 1}`,
      port: 3306,
      user: 'root',
      password: '',
      ssh: { host: `10.0.0.${i + 1}`, user: 'root', port: 22, options: [] },
    })),
    timeouts: { connect: 1, drain: 1, equalize: 1, verify: 1, hook: 1 },
    positioning: 'gtid',
    stateDir,
    antiFlapMinutes: 0,
    deadConfirmSeconds: 10,
    journalMaxAgeMinutes: 60,
    sshConfigured: false,
    hooks: {},
    switchover: { maxLagSeconds: 10, maxTransactionSeconds: 5 },
    candidates: [],
    neverPromote: [],
    source: 'unit',
  };
}

function plan(steps: Step[]): Plan {
  return {
    kind: 'failover',
    target: 'b',
    oldMaster: { address: '10.0.0.9:3306', reachable: false },
    best: 'b',
    positioning: 'gtid',
    positioningWhy: 'test',
    hosts: [],
    warnings: [],
    steps,
  };
}

const d = dialectFor(version);
const promoteB = (after: number[]) =>
  step(
    2,
    'b',
    { kind: 'promote', stop: 'STOP SLAVE', reset: 'RESET SLAVE ALL', setWritable: ['SET GLOBAL read_only = OFF'] },
    after,
    'promote',
  );
const repointC = (after: number[]) =>
  step(
    3,
    'c',
    {
      kind: 'repoint',
      source: 'b',
      stop: 'STOP SLAVE',
      change: d.changeSourceGtid({ host: '10.0.0.2', port: 3306, user: 'repl', password: '' }, true),
      setReadOnly: ['SET GLOBAL read_only = ON'],
      start: 'START SLAVE',
    },
    after,
    'repoint',
  );

describe('executor core (fake connections)', () => {
  it('in a parallel phase, a step waits for the step of that phase it depends on', async () => {
    const order: string[] = [];
    const slow = (name: string) => {
      const conn: SqlConnection = {
        name,
        async query(sql) {
          if (name === 'a') await new Promise((r) => setTimeout(r, 50));
          order.push(`${name}: ${sql}`);
          return [];
        },
        async close() {},
      };
      return conn;
    };
    const stop = (n: number, host: string, after: number[]) =>
      step(n, host, { kind: 'stop-replication', stop: 'STOP SLAVE' }, after, 'stop');
    const p = plan([stop(1, 'a', []), stop(2, 'b', [1]), stop(3, 'c', [])]);
    const run = new PlanRun(p, {
      config: config(),
      conns: new Map(['a', 'b', 'c'].map((n) => [n, slow(n)])),
      dialects: new Map(['a', 'b', 'c'].map((n) => [n, d])),
    });
    const results = await run.runAll();
    expect(results.map((r) => r.status)).toEqual(['done', 'done', 'done']);
    expect(order).toEqual(['c: STOP SLAVE', 'a: STOP SLAVE', 'b: STOP SLAVE']); // c did not wait, b waited for a
  });

  it('never runs a step whose dependency failed: no replica is pointed at a target that was not promoted', async () => {
    const a = fakeConn('a');
    const b = fakeConn('b', /RESET SLAVE ALL/);
    const c = fakeConn('c');
    const p = plan([step(1, 'a', { kind: 'stop-replication', stop: 'STOP SLAVE' }, []), promoteB([1]), repointC([2])]);
    const run = new PlanRun(p, {
      config: config(),
      conns: new Map([a, b, c].map((x) => [x.conn.name, x.conn])),
      dialects: new Map(['a', 'b', 'c'].map((n) => [n, d])),
    });
    const results = await run.runAll();
    expect(results.map((r) => r.status)).toEqual(['done', 'failed', 'not-run']);
    expect(results[2]!.detail).toBe('not run: it needs step 2 (b: step 2), which failed');
    expect(c.sent).toEqual([]); // nothing was sent to c at all
    expect(b.sent).toEqual(['STOP SLAVE', 'RESET SLAVE ALL']); // writes never opened
    expect(run.failed).toBe(true);
  });

  it('runs what does not depend on a failure, and fills in the password and run-time values only when sending', async () => {
    const b = fakeConn('b');
    const c = fakeConn('c', /^STOP SLAVE$/);
    const p = plan([
      step(1, 'c', { kind: 'stop-replication', stop: 'STOP SLAVE' }, []),
      promoteB([]),
      repointC([1, 2]),
    ]);
    const run = new PlanRun(p, {
      config: config(),
      conns: new Map([b, c].map((x) => [x.conn.name, x.conn])),
      dialects: new Map(['b', 'c'].map((n) => [n, d])),
    });
    const results = await run.runAll();
    expect(results.map((r) => r.status)).toEqual(['failed', 'done', 'not-run']);
    expect(b.sent.at(-1)).toBe('SET GLOBAL read_only = OFF');
  });

  it('resumes from the journal: completed steps are kept, a torn last line is ignored, the rest runs', async () => {
    const cfg = config();
    const p = plan([step(1, 'a', { kind: 'stop-replication', stop: 'STOP SLAVE' }, []), promoteB([1]), repointC([2])]);
    const { journal, store } = await journalIn(cfg);
    await journal.start(p);
    await journal.begin(1);
    await journal.result({ n: 1, host: 'a', status: 'done', detail: 'ok', at: 0, ms: 1 });
    await journal.begin(2);
    // Killed while writing the next line: half a JSON object at the end of the file.
    const file = join(store.where, 'run.jsonl');
    writeFileSync(file, readFileSync(file, 'utf8') + '{"type":"result","at":"2026', { flag: 'w' });
    const unfinished = readUnfinished((await store.read()).run?.lines ?? [])!;
    expect(unfinished.results.map((r) => r.n)).toEqual([1]);
    expect(unfinished.interrupted).toEqual([2]);

    const a = fakeConn('a');
    const b = fakeConn('b');
    const c = fakeConn('c');
    const run = new PlanRun(p, {
      config: cfg,
      conns: new Map([a, b, c].map((x) => [x.conn.name, x.conn])),
      dialects: new Map(['a', 'b', 'c'].map((n) => [n, d])),
      journal,
    });
    run.restore(unfinished.results, unfinished.outputs);
    const results = await run.runAll();
    expect(results.map((r) => r.status)).toEqual(['done', 'done', 'done']);
    expect(results[0]!.detail).toBe('ok (before the resume)');
    expect(a.sent).toEqual([]); // step 1 was not run again
    expect(c.sent[1]).toContain("MASTER_PASSWORD = 'p\\'w'");
  });

  it('materialize fills in run-time values, and refuses one that does not look like what it claims to be', () => {
    const out = (v: string) => () => v;
    expect(materialize("START SLAVE UNTIL master_gtid_pos = '<gtid from step 7>'", 'x', out('0-1-20'))).toBe(
      "START SLAVE UNTIL master_gtid_pos = '0-1-20'",
    );
    expect(
      materialize("MASTER_LOG_FILE = '<file from step 3>', MASTER_LOG_POS = <pos from step 3>", 'x', (ref) =>
        ref.key === 'file' ? 'mysql-bin.000002' : '4471',
      ),
    ).toBe("MASTER_LOG_FILE = 'mysql-bin.000002', MASTER_LOG_POS = 4471");
    expect(() => materialize('MASTER_LOG_POS = <pos from step 3>', 'x', out('4471; DROP TABLE t'))).toThrow(
      /unexpected pos value from step 3/,
    );
    expect(() => materialize("MASTER_LOG_FILE = '<file from step 3>'", 'x', out("a' OR '1"))).toThrow(
      /unexpected file/,
    );
    expect(materialize("MASTER_PASSWORD = '<redacted>'", "s3'cret", out(''))).toBe("MASTER_PASSWORD = 's3\\'cret'");
  });

  it('injects a configured failure through the fault seam: the step is journaled as begun, fails, sends nothing', async () => {
    const cfg = config();
    const a = fakeConn('a');
    const b = fakeConn('b');
    const c = fakeConn('c');
    const p = plan([step(1, 'a', { kind: 'stop-replication', stop: 'STOP SLAVE' }, []), promoteB([1]), repointC([2])]);
    const { journal, store } = await journalIn(cfg);
    await journal.start(p);
    const run = new PlanRun(p, {
      config: cfg,
      conns: new Map([a, b, c].map((x) => [x.conn.name, x.conn])),
      dialects: new Map(['a', 'b', 'c'].map((n) => [n, d])),
      journal,
      faults: faultsFromEnv({ MMMF_TEST_FAIL_AT_STEP: '2' }, import.meta.dirname),
    });
    const results = await run.runAll();
    expect(results.map((r) => `${r.status}: ${r.detail}`)).toEqual([
      'done: ok',
      'failed: injected failure (MMMF_TEST_FAIL_AT_STEP)',
      'not-run: not run: it needs step 2 (b: step 2), which failed',
    ]);
    expect(b.sent).toEqual([]);
    expect(readUnfinished((await store.read()).run?.lines ?? [])?.results.map((r) => r.n)).toEqual([1, 2]);
  });

  it('fails a step half-way: right after its k-th changing statement reached the server (statement-sent)', async () => {
    const cfg = config();
    const [a, b, c] = ['a', 'b', 'c'].map((n) => fakeConn(n));
    const p = plan([step(1, 'a', { kind: 'stop-replication', stop: 'STOP SLAVE' }, []), promoteB([1]), repointC([2])]);
    const run = new PlanRun(p, {
      config: cfg,
      conns: new Map([a!, b!, c!].map((x) => [x.conn.name, x.conn])),
      dialects: new Map(['a', 'b', 'c'].map((n) => [n, d])),
      faults: faultsFromEnv({ MMMF_TEST_FAULTS: 'fail@statement-sent#2.2' }, import.meta.dirname),
    });
    const results = await run.runAll();
    expect(results.map((r) => r.status)).toEqual(['done', 'failed', 'not-run']);
    // The promotion's STOP SLAVE and RESET SLAVE ALL reached b; the rest of it did not.
    expect(b!.sent.filter((x) => !/^\s*(SELECT|SHOW)/i.test(x))).toEqual(['STOP SLAVE', 'RESET SLAVE ALL']);
    expect(parseFaults('fail@statement-sent#9.1')).toEqual([
      { point: 'statement-sent', step: 9, statement: 1, action: 'fail', from: 'MMMF_TEST_FAULTS' },
    ]);
  });

  it('reads fault points from MMMF_TEST_FAULTS, and refuses one it does not know', () => {
    expect(parseFaults('kill@after-checkpoint#12, delay=50@before-step')).toEqual([
      { point: 'after-checkpoint', step: 12, action: 'kill', from: 'MMMF_TEST_FAULTS' },
      { point: 'before-step', action: { delayMs: 50 }, from: 'MMMF_TEST_FAULTS' },
    ]);
    expect(() => parseFaults('kill@after-chekpoint#3')).toThrow(
      /cannot read 'kill@after-chekpoint#3'.*points: before-step/,
    );
    expect(faultsFromEnv({}, import.meta.dirname)).toBeUndefined();
  });
});

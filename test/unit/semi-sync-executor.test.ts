// The executor's semi-sync steps with scripted connections: the master side before writes, the replica side
// before START, writes opened only once a replica acknowledges (never when none was repointed), a plugin
// installed only when it is not active (a resumed run sends it once), and the writes-blocked window ending there.
import { describe, expect, it } from 'vitest';
import type { Plan, Step } from '../../src/algorithm/plan-types.js';
import { writesBlockedMs } from '../../src/commands/run/rollback.js';
import { dialectFor } from '../../src/dialect/dialect.js';
import { PlanRun } from '../../src/executor/run-plan.js';
import { fakeConn, step } from './fixture-executor.js';
import { unitConfig } from './fixture-config.js';

const d = dialectFor({ flavor: 'mariadb', major: 10, minor: 11, patch: 19, text: '10.11.19-MariaDB' });
const config = unitConfig(3, { timeouts: { connect: 1, drain: 1, equalize: 1, verify: 2, hook: 1 } });
const CLIENTS = "SHOW GLOBAL STATUS LIKE 'Rpl_semi_sync_master_clients'";
const CHECK = d.semiSync.pluginActiveSql('master');

const steps = (install?: boolean): Step[] => [
  step(
    1,
    'db2',
    {
      kind: 'promote',
      stop: 'STOP SLAVE',
      reset: 'RESET SLAVE ALL',
      semiSync: {
        ...(install ? { install: { check: CHECK, install: "INSTALL PLUGIN x SONAME 'x.so'" } } : {}),
        set: ['SET GLOBAL rpl_semi_sync_master_enabled = ON'],
      },
      setWritable: [],
    },
    [],
    'promote',
  ),
  step(
    2,
    'db3',
    {
      kind: 'repoint',
      source: 'db2',
      stop: 'STOP SLAVE',
      change: 'CHANGE MASTER TO MASTER_HOST = ...',
      setReadOnly: ['SET GLOBAL read_only = ON'],
      semiSync: { set: ['SET GLOBAL rpl_semi_sync_slave_enabled = ON'] },
      start: 'START SLAVE',
    },
    [1],
    'repoint',
  ),
  step(
    3,
    'db2',
    {
      kind: 'open-writes',
      clientsSql: CLIENTS,
      needed: 1,
      followers: [2],
      setWritable: ['SET GLOBAL read_only = OFF'],
    },
    [1],
    'open-writes',
  ),
];

const plan = (s: Step[]): Plan => ({
  kind: 'switchover',
  target: 'db2',
  oldMaster: { address: '10.0.0.1:3306', name: 'db1', reachable: true },
  best: 'db2',
  positioning: 'gtid',
  positioningWhy: 'test',
  hosts: [],
  warnings: [],
  steps: s,
});

function run(s: Step[], db2: ReturnType<typeof fakeConn>, db3: ReturnType<typeof fakeConn>) {
  return new PlanRun(plan(s), {
    config,
    conns: new Map([
      ['db2', db2.conn],
      ['db3', db3.conn],
    ]),
    dialects: new Map([
      ['db2', d],
      ['db3', d],
    ]),
  });
}

describe('semi-sync steps (scripted connections)', () => {
  it('master side on at promotion, replica side before START, writes open once a replica is connected', async () => {
    let looks = 0;
    const db2 = fakeConn('db2', undefined, (sql) =>
      sql === CLIENTS ? [{ Variable_name: 'x', Value: looks++ < 2 ? '0' : '1' }] : [],
    );
    const db3 = fakeConn('db3');
    const results = await run(steps(), db2, db3).runAll();
    expect(results.map((r) => r.status)).toEqual(['done', 'done', 'done']);
    expect(db2.sent).toEqual([
      'STOP SLAVE',
      'RESET SLAVE ALL',
      'SET GLOBAL rpl_semi_sync_master_enabled = ON',
      CLIENTS,
      CLIENTS,
      CLIENTS,
      'SET GLOBAL read_only = OFF',
    ]);
    expect(db3.sent.slice(2)).toEqual([
      'SET GLOBAL read_only = ON',
      'SET GLOBAL rpl_semi_sync_slave_enabled = ON',
      'START SLAVE',
    ]);
    expect(results[2]?.detail).toMatch(/^writable: 1 replica acknowledges \(waited \d+ ms\)$/);
    // The writes-blocked window ends when writes opened, not at the promotion.
    const fenced = { n: 0, host: 'db1', status: 'done' as const, detail: '', at: results[0]!.at - 5, ms: 1 };
    const p = plan([step(0, 'db1', { kind: 'fence-read-only', setReadOnly: [] }, [], 'fence'), ...steps()]);
    const end = results[2]!.at + results[2]!.ms;
    expect(writesBlockedMs(p, [fenced, ...results])).toBe(end - fenced.at);
  });

  it('no replica repointed: writes stay closed at once, and the error says how to open them by hand', async () => {
    const db2 = fakeConn('db2', undefined, () => [{ Value: '0' }]);
    const db3 = fakeConn('db3', /^CHANGE/);
    const results = await run(steps(), db2, db3).runAll();
    expect(results.map((r) => r.status)).toEqual(['done', 'failed', 'failed']);
    expect(results[2]?.detail).toMatch(
      /no replica that acknowledges was repointed to db2: writes stay closed \(to open them without an acknowledgement: SET GLOBAL read_only = OFF on db2\)/,
    );
    expect(db2.sent).not.toContain('SET GLOBAL read_only = OFF');
    expect(db2.sent).not.toContain(CLIENTS);
  });

  it('every replica that would acknowledge failed to get ready: nothing is promoted, nothing sent to the target', async () => {
    // Chaos seed 70167: the only acknowledging replica's stop failed; promoting would leave the new master closed.
    const db2 = fakeConn('db2', undefined, () => [{ Value: '0' }]);
    const db3 = fakeConn('db3', /^CHANGE/);
    const ready = step(0, 'db3', { ...steps()[1]!.action }, [], 'stop');
    const promote = steps()[0]!;
    const gated = { ...promote, action: { ...promote.action, ackers: [{ host: 'db3', ready: 0 }] } } as Step;
    const results = await run([ready, gated, ...steps().slice(1)], db2, db3).runAll();
    expect(results.map((r) => r.status)).toEqual(['failed', 'failed', 'not-run', 'not-run']);
    expect(results[1]?.detail).toMatch(
      /^not promoted: no replica that would acknowledge db2 is ready — db3 \(step 0 did not succeed\); writes would stay closed/,
    );
    expect(db2.sent).toEqual([]);
    // One of them ready is enough: the promotion goes ahead.
    const ok = run([ready, gated, ...steps().slice(1)], db2, fakeConn('db3'));
    expect((await ok.runAll())[1]?.status).toBe('done');
  });

  it('a replica that never connects: writes stay closed once the verify timeout passes', async () => {
    const db2 = fakeConn('db2', undefined, () => [{ Value: '0' }]);
    const results = await run(steps(), db2, fakeConn('db3')).runAll();
    expect(results[2]).toMatchObject({ status: 'failed' });
    expect(results[2]?.detail).toMatch(/1 acknowledging replica on db2 .* not reached within 2 s \(0 connected/);
    expect(db2.sent).not.toContain('SET GLOBAL read_only = OFF');
  });

  it('a replica already replicating from the new master by file (a pair passive) is restarted around the replica side', async () => {
    const byFile = steps().map((s) =>
      s.action.kind === 'repoint' ? { ...s, action: { ...s.action, at: { step: 1, key: 'file' as const } } } : s,
    );
    const db2 = fakeConn('db2', undefined, (sql) => (sql === CLIENTS ? [{ Value: '1' }] : []));
    // Its IO thread runs, connected to db2 (10.0.0.2:3306) before the run: the replica side set now reads OFF until
    // the IO thread connects again.
    const status = { Master_Host: '10.0.0.2', Master_Port: 3306, Slave_IO_Running: 'Yes', Slave_SQL_Running: 'Yes' };
    const db3 = fakeConn('db3', undefined, (sql) => (/SLAVE STATUS/.test(sql) ? [status] : []));
    const results = await run(byFile, db2, db3).runAll();
    expect(results[1]?.detail).toMatch(/already pointed at db2/);
    expect(db3.sent.slice(1)).toEqual([
      'SET GLOBAL read_only = ON',
      'STOP SLAVE',
      'SET GLOBAL rpl_semi_sync_slave_enabled = ON',
      'START SLAVE',
    ]);
    expect(db3.sent).not.toContain('CHANGE MASTER TO MASTER_HOST = ...');
  });

  it('INSTALL PLUGIN only when the plugin is not active yet', async () => {
    const fresh = fakeConn('db2', undefined, (sql) => (sql === CLIENTS ? [{ Value: '1' }] : []));
    await run(steps(true), fresh, fakeConn('db3')).runAll();
    expect(fresh.sent.slice(2, 5)).toEqual([
      CHECK,
      "INSTALL PLUGIN x SONAME 'x.so'",
      'SET GLOBAL rpl_semi_sync_master_enabled = ON',
    ]);
    const again = fakeConn('db2', undefined, (sql) =>
      sql === CLIENTS ? [{ Value: '1' }] : sql === CHECK ? [{ name: 'x' }] : [],
    );
    await run(steps(true), again, fakeConn('db3')).runAll();
    expect(again.sent).not.toContain("INSTALL PLUGIN x SONAME 'x.so'");
  });
});

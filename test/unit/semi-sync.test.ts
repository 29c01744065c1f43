// Semi-synchronous replication, pure parts: how each version's answers are read, whether a run carries it, the
// order of a plan's statements (master side before writes open, replica side before START, writes only once a
// replica acknowledges), refusals before any change, and what check and status say.
import { Chalk } from 'chalk';
import { describe, expect, it } from 'vitest';
import { buildFailoverPlan, type FailoverOptions } from '../../src/algorithm/build-failover-plan.js';
import { buildRejoinPlan } from '../../src/algorithm/build-rejoin-plan.js';
import { PHASES, type Plan, type Step } from '../../src/algorithm/plan-types.js';
import { semiSyncFindings } from '../../src/algorithm/semi-sync-checks.js';
import { semiSyncIntent } from '../../src/algorithm/semi-sync-intent.js';
import { SemiSyncDialect } from '../../src/dialect/semi-sync.js';
import type { SemiSyncState } from '../../src/domain/semi-sync.js';
import type { HostState, ServerVersion } from '../../src/domain/server-state.js';
import { semiSyncLine } from '../../src/output/semi-sync-text.js';
import type { ResolvedConfig, ResolvedSemiSync } from '../../src/topology/config-types.js';
import { validateConfig } from '../../src/topology/validate-config.js';
import { unitConfig } from './fixture-config.js';

const v = (text: string): ServerVersion => {
  const [major, minor, patch] = text.split(/[.-]/).map(Number) as [number, number, number];
  return { flavor: /mariadb/i.test(text) ? 'mariadb' : 'mysql', major, minor, patch, text };
};
const MARIADB = v('10.11.19-MariaDB');
const OLD_MARIADB = v('10.2.44-MariaDB'); // semi-sync still a plugin there
const rows = (o: Record<string, string>) =>
  Object.entries(o).map(([Variable_name, Value]) => ({ Variable_name, Value }));

const semi = (o: { master?: Partial<NonNullable<SemiSyncState['master']>>; replica?: boolean; builtIn?: boolean }) =>
  ({
    builtIn: o.builtIn ?? true,
    ...(o.master ? { master: { names: 'master', enabled: false, status: false, clients: 0, ...o.master } } : {}),
    ...(o.replica !== undefined ? { replica: { names: 'slave', enabled: o.replica, status: o.replica } } : {}),
  }) as SemiSyncState;

const MASTER_ON = {
  enabled: true,
  status: true,
  clients: 2,
  timeoutMs: 3000,
  waitPoint: 'AFTER_SYNC',
  waitNoReplica: true,
};

function host(i: number, o: { version?: ServerVersion; semiSync?: SemiSyncState; replica?: boolean; live?: boolean }) {
  const version = o.version ?? MARIADB;
  const base: HostState = {
    name: `db${i}`,
    address: `10.0.0.${i}:3306`,
    reachable: true,
    version,
    serverId: i,
    readOnly: o.replica !== false,
    logBin: true,
    logReplicaUpdates: true,
    binlogFormat: 'ROW',
    gtidBinlog: '0-1-100',
    gtidApplied: '0-1-100',
    gtidCurrent: '0-1-100',
    gtidBinlogState: '0-1-100',
    binlog: { file: 'mysql-bin.000001', position: 4 },
    ...(o.semiSync ? { semiSync: o.semiSync } : {}),
  };
  if (o.replica === false) return base;
  const pos = { file: 'mysql-bin.000003', position: 200 };
  return {
    ...base,
    replica: {
      sourceHost: '10.0.0.1',
      sourcePort: 3306,
      sourceAddress: '10.0.0.1:3306',
      sourceServerId: 1,
      sourceUuid: '',
      sqlDelay: 0,
      untilCondition: 'None',
      ioRunning: o.live ? 'Yes' : 'Connecting',
      sqlRunning: true,
      ioState: '',
      sqlState: '',
      received: pos,
      executed: pos,
      relayLog: { file: 'relay-bin.000002', position: 4 },
      secondsBehind: o.live ? 0 : null,
      gtidMode: 'Slave_Pos',
      gtidReceived: '0-1-100',
      lastIoError: o.live ? '' : 'error reconnecting to master',
      lastSqlError: '',
      filters: [],
    },
  };
}
const dead: HostState = { name: 'db1', address: '10.0.0.1:3306', reachable: false, error: 'ECONNREFUSED' };

const withSemiSync = (s: Partial<ResolvedSemiSync>): ResolvedConfig =>
  unitConfig(4, { semiSync: { enabled: 'auto', waitForAck: true, installPlugins: false, ...s } });
const SWITCHOVER: FailoverOptions['switchover'] = { maxLagSeconds: 10, maxTransactionSeconds: 5 };

function plan(config: ResolvedConfig, states: HostState[], opts: FailoverOptions): Plan {
  const o = buildFailoverPlan(config, states, opts);
  if (!o.ok) throw new Error(`refused: ${o.refusals.join('; ')}`);
  return o.value;
}
const refusal = (config: ResolvedConfig, states: HostState[], opts: FailoverOptions): string => {
  const o = buildFailoverPlan(config, states, opts);
  if (o.ok) throw new Error('expected a refusal');
  return o.refusals.join('\n');
};
const stepOf = (p: Plan, phase: Step['phase'], hostName?: string) =>
  p.steps.find((s) => s.phase === phase && (!hostName || s.host === hostName));
/** The phases in the order they run (PHASES), each step once: what the executor does. */
const runOrder = (p: Plan) => PHASES.flatMap((ph) => p.steps.filter((s) => s.phase === ph.id));

describe('semi-sync dialect', () => {
  it('reads MariaDB (built in) and MySQL 8.0.26+ source/replica plugins into one shape; no plugin: no side', () => {
    const maria = new SemiSyncDialect(MARIADB).parse(
      rows({
        rpl_semi_sync_master_enabled: 'ON',
        rpl_semi_sync_master_timeout: '3000',
        rpl_semi_sync_master_wait_point: 'AFTER_SYNC',
        rpl_semi_sync_master_wait_no_slave: 'ON',
        rpl_semi_sync_slave_enabled: 'OFF',
      }),
      rows({ Rpl_semi_sync_master_status: 'ON', Rpl_semi_sync_master_clients: '2', Rpl_semi_sync_slave_status: 'OFF' }),
    );
    expect(maria).toEqual({
      builtIn: true,
      master: {
        names: 'master',
        enabled: true,
        timeoutMs: 3000,
        waitPoint: 'AFTER_SYNC',
        waitNoReplica: true,
        status: true,
        clients: 2,
      },
      replica: { names: 'slave', enabled: false, status: false },
    });
    const my = new SemiSyncDialect(v('8.0.40')).parse(
      rows({ rpl_semi_sync_source_enabled: 'OFF', rpl_semi_sync_source_wait_for_replica_count: '2' }),
      rows({ Rpl_semi_sync_source_status: 'OFF', Rpl_semi_sync_source_clients: '0' }),
    );
    expect(my.master).toMatchObject({ names: 'source', enabled: false, waitForCount: 2 });
    expect(my.replica).toBeUndefined();
    expect(new SemiSyncDialect(v('9.1.0')).parse([], [])).toEqual({ builtIn: false });
  });

  it('installs the plugin each version ships under its newest name, and spells the settings per plugin', () => {
    const install = (text: string, side: 'master' | 'replica') => {
      const d = new SemiSyncDialect(v(text));
      return d.installPlugin(d.pluginFor(side));
    };
    expect(install('5.7.44', 'master')).toBe("INSTALL PLUGIN rpl_semi_sync_master SONAME 'semisync_master.so'");
    expect(install('8.0.25', 'replica')).toBe("INSTALL PLUGIN rpl_semi_sync_slave SONAME 'semisync_slave.so'");
    expect(install('8.0.26', 'master')).toBe("INSTALL PLUGIN rpl_semi_sync_source SONAME 'semisync_source.so'");
    expect(install('9.1.0', 'replica')).toBe("INSTALL PLUGIN rpl_semi_sync_replica SONAME 'semisync_replica.so'");
    const my = new SemiSyncDialect(v('8.4.3'));
    expect(
      my.masterOn('source', { timeoutMs: 5000, waitPoint: 'AFTER_SYNC', waitNoReplica: true, waitForCount: 2 }),
    ).toEqual([
      'SET GLOBAL rpl_semi_sync_source_timeout = 5000',
      'SET GLOBAL rpl_semi_sync_source_wait_point = AFTER_SYNC',
      'SET GLOBAL rpl_semi_sync_source_wait_no_replica = ON',
      'SET GLOBAL rpl_semi_sync_source_wait_for_replica_count = 2',
      'SET GLOBAL rpl_semi_sync_source_enabled = ON',
    ]);
    // 8.4 with the old plugin still loaded: the names of what is loaded, not of the version.
    expect(my.masterOn('master', { waitForCount: 1 })).toEqual([
      'SET GLOBAL rpl_semi_sync_master_wait_for_slave_count = 1',
      'SET GLOBAL rpl_semi_sync_master_enabled = ON',
    ]);
    // MariaDB always waits for one replica: no count to set.
    expect(new SemiSyncDialect(MARIADB).masterOn('master', { waitForCount: 2 })).toEqual([
      'SET GLOBAL rpl_semi_sync_master_enabled = ON',
    ]);
  });
});

describe('whether a run carries semi-sync', () => {
  const replicas = [host(2, { semiSync: semi({ replica: true }) }), host(3, { semiSync: semi({ replica: false }) })];
  it('as the old master runs it, with its settings; config values win; semiSync: false touches nothing', () => {
    const old = host(1, { replica: false, semiSync: semi({ master: MASTER_ON }) });
    expect(semiSyncIntent(unitConfig(4), old, replicas)).toMatchObject({
      why: 'db1 runs it (rpl_semi_sync_master_enabled = ON)',
      settings: { timeoutMs: 3000, waitPoint: 'AFTER_SYNC', waitNoReplica: true },
      settingsWhy: "db1's",
    });
    expect(semiSyncIntent(withSemiSync({ timeoutMs: 20000 }), old, replicas)?.settings.timeoutMs).toBe(20000);
    expect(semiSyncIntent(withSemiSync({ enabled: false }), old, replicas)).toBeUndefined();
    const off = host(1, { replica: false, semiSync: semi({ master: {} }) });
    expect(semiSyncIntent(unitConfig(4), off, replicas)).toBeUndefined();
    expect(semiSyncIntent(withSemiSync({ enabled: true }), off, replicas)?.why).toBe('semiSync: true in the config');
  });

  it('a dead old master: as its replicas say, with the new master keeping its own settings', () => {
    const i = semiSyncIntent(unitConfig(4), dead, replicas);
    expect(i?.why).toBe('db1 does not answer, and db2 has the replica side on');
    expect(i?.settings).toEqual({});
    expect(i?.settingsWhy).toMatch(/the new master's own/);
    expect(semiSyncIntent(unitConfig(4), dead, [host(3, { semiSync: semi({ replica: false }) })])).toBeUndefined();
  });
});

describe('semi-sync plans', () => {
  const live = (i: number, o: { master?: object; replica?: boolean } = {}) =>
    host(i, { live: true, semiSync: semi({ master: o.master ?? {}, replica: o.replica ?? true }) });
  const cluster = () => [
    host(1, { replica: false, semiSync: semi({ master: MASTER_ON, replica: false }) }),
    live(2),
    live(3),
    live(4),
  ];

  it('switchover: master side on at promotion, replica side before START, writes open once a replica acknowledges', () => {
    const p = plan(unitConfig(4), cluster(), { target: 'db3', switchover: SWITCHOVER });
    expect(p.semiSync).toMatch(
      /^db1 runs it .*; db3: timeout 3000 ms, wait point AFTER_SYNC.*writes open once a replica/,
    );
    const promote = stepOf(p, 'promote', 'db3')!;
    expect(promote.action).toMatchObject({ kind: 'promote', setWritable: [] });
    expect(promote.sql).toEqual([
      'STOP SLAVE',
      'RESET SLAVE ALL',
      'SET GLOBAL rpl_semi_sync_master_timeout = 3000',
      'SET GLOBAL rpl_semi_sync_master_wait_point = AFTER_SYNC',
      'SET GLOBAL rpl_semi_sync_master_wait_no_slave = ON',
      'SET GLOBAL rpl_semi_sync_master_enabled = ON',
    ]);
    const repoint = stepOf(p, 'repoint', 'db2')!;
    expect(repoint.sql.slice(2)).toEqual([
      'SET GLOBAL read_only = ON',
      'SET GLOBAL rpl_semi_sync_slave_enabled = ON',
      'START SLAVE',
    ]);
    // The old master stops waiting for acknowledgements of its own and acknowledges instead.
    const demote = stepOf(p, 'demote', 'db1')!;
    expect(demote.sql.slice(2)).toEqual([
      'SET GLOBAL read_only = ON',
      'SET GLOBAL rpl_semi_sync_master_enabled = OFF',
      'SET GLOBAL rpl_semi_sync_slave_enabled = ON',
      'START SLAVE',
    ]);
    const open = stepOf(p, 'open-writes', 'db3')!;
    expect(open.action).toEqual({
      kind: 'open-writes',
      clientsSql: "SHOW GLOBAL STATUS LIKE 'Rpl_semi_sync_master_clients'",
      needed: 1,
      followers: [stepOf(p, 'repoint', 'db2')!.n, stepOf(p, 'repoint', 'db4')!.n, demote.n],
      setWritable: ['SET GLOBAL read_only = OFF'],
    });
    // Run order: the master side (promotion) → replicas started with theirs → writes open → verification.
    const order = runOrder(p).map((s) => `${s.phase}`);
    const at = (ph: string) => order.indexOf(ph);
    expect(at('promote')).toBeLessThan(at('repoint'));
    expect(order.lastIndexOf('demote')).toBeLessThan(at('open-writes'));
    expect(at('open-writes')).toBeLessThan(at('verify'));
    expect(p.steps.filter((s) => s.phase === 'verify').map((s) => s.action)).toContainEqual(
      expect.objectContaining({ semiSyncStatus: "SHOW GLOBAL STATUS LIKE 'Rpl_semi_sync_slave_status'" }),
    );
  });

  it('failover: the promotion waits for one acknowledging replica to be ready (its stop done), or promotes nobody', () => {
    const lost = (i: number) => host(i, { semiSync: semi({ master: {}, replica: true }) });
    const states = [dead, lost(2), lost(3), lost(4)];
    const p = plan(unitConfig(4), states, { target: 'db3' });
    const promote = stepOf(p, 'promote', 'db3')!;
    const readyOf = (h: string) => Math.max(...p.steps.filter((s) => s.host === h && s.n < promote.n).map((s) => s.n));
    expect(promote.action).toMatchObject({
      ackers: [
        { host: 'db2', ready: readyOf('db2') },
        { host: 'db4', ready: readyOf('db4') },
      ],
    });
    expect(promote.sql[0]).toBe('-- only when db2 or db4 is ready to acknowledge');
  });

  it('failover: a replica an earlier run left stopped under the target turns its replica side on before START', () => {
    const lost = (i: number) => host(i, { semiSync: semi({ master: {}, replica: true }) });
    const under = lost(2);
    under.replica = {
      ...under.replica!,
      sourceHost: '10.0.0.3',
      sourceAddress: '10.0.0.3:3306',
      sourceServerId: 3,
      untilCondition: 'Master',
      ioRunning: 'No',
      sqlRunning: false,
      lastIoError: '',
      gtidMode: 'No',
    };
    // By file: the failed run's catch-up left db2 stopped at a place in db3's binlog (see build-failover-plan).
    const p = plan(unitConfig(4, { positioning: 'file' }), [dead, under, lost(3), lost(4)], { target: 'db3' });
    const restart = p.steps.find((s) => s.action.kind === 'restart-replication')!;
    expect(restart.host).toBe('db2');
    expect(restart.sql).toEqual(['SET GLOBAL rpl_semi_sync_slave_enabled = ON', 'START SLAVE']);
    const verify = p.steps.find((s) => s.phase === 'verify' && s.host === 'db2')!;
    expect(verify.action).toMatchObject({ semiSyncStatus: "SHOW GLOBAL STATUS LIKE 'Rpl_semi_sync_slave_status'" });
  });

  it('waitForAck: false: the promotion opens writes itself; a cluster without semi-sync plans as before', () => {
    const p = plan(withSemiSync({ waitForAck: false }), cluster(), { target: 'db3', switchover: SWITCHOVER });
    expect(stepOf(p, 'promote', 'db3')!.sql.at(-1)).toBe('SET GLOBAL read_only = OFF');
    expect(stepOf(p, 'open-writes')).toBeUndefined();
    const plain = cluster().map((s) => ({ ...s, semiSync: semi({ master: {}, replica: false }) }));
    const q = plan(unitConfig(4), plain, { target: 'db3', switchover: SWITCHOVER });
    expect(q.semiSync).toBeUndefined();
    expect(JSON.stringify(q.steps)).not.toMatch(/semi_sync|open-writes/);
    expect(stepOf(q, 'promote', 'db3')!.sql.at(-1)).toBe('SET GLOBAL read_only = OFF');
  });

  it('refuses before any change: a new master without its plugin (naming the fix), or nobody to acknowledge', () => {
    const states = [
      dead,
      host(2, { version: OLD_MARIADB, semiSync: semi({ builtIn: false, replica: true }) }),
      host(3, { version: OLD_MARIADB, semiSync: semi({ builtIn: false, replica: true }) }),
    ];
    expect(refusal(unitConfig(3), states, { target: 'db3' })).toMatch(
      /db3 has no semi-sync master plugin: run INSTALL PLUGIN rpl_semi_sync_master SONAME 'semisync_master\.so' on db3.*semiSync\.installPlugins: true/,
    );
    const allowed = plan(withSemiSync({ installPlugins: true }), states, { target: 'db3' });
    expect(stepOf(allowed, 'promote', 'db3')!.action).toMatchObject({
      semiSync: {
        install: {
          check: expect.stringContaining("PLUGIN_NAME IN ('rpl_semi_sync_source', 'rpl_semi_sync_master')"),
          install: "INSTALL PLUGIN rpl_semi_sync_master SONAME 'semisync_master.so'",
        },
        set: ['SET GLOBAL rpl_semi_sync_master_enabled = ON'],
      },
    });
    // The new master has its plugin, but its only follower has no replica plugin: writes could never open.
    const plugins = (o: { master?: object; replica?: boolean }) => semi({ builtIn: false, ...o });
    const noAck = [
      dead,
      host(2, { version: OLD_MARIADB, semiSync: plugins({ master: {} }) }),
      host(3, { version: OLD_MARIADB, semiSync: plugins({ master: {} }) }),
    ];
    expect(refusal(withSemiSync({ enabled: true }), noAck, { target: 'db3' })).toMatch(
      /writes open on db3 only once a replica acknowledges, but no replica of it could.*semiSync\.waitForAck: false/,
    );
    const warned = plan(withSemiSync({ enabled: true, waitForAck: false }), noAck, { target: 'db3' });
    expect(warned.warnings).toContainEqual(
      expect.stringMatching(/^db2 has no semi-sync replica plugin: it replicates from db3 asynchronously/),
    );
  });

  it('rejoin: the returning former master stops waiting as a master and acknowledges as a replica', () => {
    const master = host(2, { replica: false, semiSync: semi({ master: MASTER_ON }) });
    master.gtidBinlogState = '0-1-100,0-2-50';
    const back = host(1, { replica: false, semiSync: semi({ master: MASTER_ON, replica: false }) });
    const r3 = { ...host(3, { live: true, semiSync: semi({ replica: true }) }) };
    r3.replica = { ...r3.replica!, sourceHost: '10.0.0.2', sourceAddress: '10.0.0.2:3306', sourceServerId: 2 };
    const o = buildRejoinPlan(unitConfig(3), [back, master, r3], 'db1');
    if (!o.ok) throw new Error(o.refusals.join('; '));
    const repoint = stepOf(o.value, 'repoint', 'db1')!;
    expect(repoint.sql.slice(-4)).toEqual([
      'SET GLOBAL read_only = ON',
      'SET GLOBAL rpl_semi_sync_master_enabled = OFF',
      'SET GLOBAL rpl_semi_sync_slave_enabled = ON',
      'START SLAVE',
    ]);
    expect(stepOf(o.value, 'verify', 'db1')!.action).toMatchObject({
      semiSyncStatus: expect.stringContaining('slave_status'),
    });
    expect(o.value.semiSync).toMatch(/db1 rejoins with its replica side on, its master side off/);
  });
});

describe('check and status', () => {
  it('warns: too few acknowledging replicas, a short timeout, asynchronous now, a candidate without plugin or with other settings', () => {
    const master = host(1, {
      replica: false,
      semiSync: semi({ master: { ...MASTER_ON, timeoutMs: 500, status: false, waitForCount: 2 } }),
    });
    const replicas = [
      host(2, { semiSync: semi({ master: { timeoutMs: 10000, waitPoint: 'AFTER_COMMIT' }, replica: true }) }),
      host(3, { version: OLD_MARIADB, semiSync: semi({ builtIn: false }) }),
    ];
    const f = semiSyncFindings(unitConfig(3), master, replicas, ['db2', 'db3']);
    const text = f.map((x) => `${x.host}: ${x.message} | ${x.fix}`);
    expect(text).toEqual([
      expect.stringMatching(
        /^db1: semi-sync: db1 waits for 2 acknowledging replicas per commit, but 1 of its replicas has the replica side on.*\| on db3: INSTALL PLUGIN rpl_semi_sync_slave SONAME 'semisync_slave.so'; SET GLOBAL rpl_semi_sync_slave_enabled = ON; STOP SLAVE IO_THREAD; START SLAVE IO_THREAD/,
      ),
      expect.stringMatching(/^db1: rpl_semi_sync_master_timeout = 500 ms/),
      expect.stringMatching(/^db1: Rpl_semi_sync_master_status is OFF/),
      expect.stringMatching(
        /^db2: promoted while db1 is down, it would run semi-sync with its own timeout 10000 ms, wait point AFTER_COMMIT \(db1: timeout 500 ms, wait point AFTER_SYNC\)/,
      ),
      expect.stringMatching(
        /^db3: no semi-sync master plugin: a failover to it is refused.*\| INSTALL PLUGIN rpl_semi_sync_master SONAME 'semisync_master.so'/,
      ),
    ]);
    expect(semiSyncFindings(withSemiSync({ enabled: false }), master, replicas, ['db2'])).toEqual([]);
  });

  it('status shows each side that is on and whether it really is', () => {
    const c = new Chalk({ level: 0 });
    const m = host(1, { replica: false, semiSync: semi({ master: MASTER_ON }) });
    expect(semiSyncLine(m, c)).toBe('semi-sync master ON, status ON, 2 clients, timeout 3000 ms, AFTER_SYNC');
    expect(semiSyncLine(host(2, { semiSync: semi({ replica: true }) }), c)).toBe('semi-sync slave ON, acknowledging');
    expect(semiSyncLine(host(3, { semiSync: semi({ master: {}, replica: false }) }), c)).toBeUndefined();
  });

  it('config: semiSync validated with every other problem, defaults applied', () => {
    const base = {
      replication: { user: 'r', password: 'p' },
      defaults: { user: 'u' },
      hosts: { a: { host: 'x' }, b: { host: 'y' } },
    };
    const bad = validateConfig(
      { ...base, semiSync: { timeoutMs: -1, waitPoint: 'after_sync', extra: 1, waitForAck: 'no' } },
      '/x/c.json',
    );
    expect(bad.problems).toEqual([
      'semiSync.extra: unknown key (allowed: enabled, timeoutMs, waitPoint, waitForAck, installPlugins)',
      'semiSync.waitForAck: must be true or false, got "no"',
      'semiSync.timeoutMs: must be a whole number of milliseconds from 1 to 4294967295, got -1',
      `semiSync.waitPoint: must be 'AFTER_SYNC' or 'AFTER_COMMIT', got "after_sync"`,
    ]);
    expect(validateConfig({ ...base, semiSync: true }, '/x/c.json').config?.semiSync).toEqual({
      enabled: true,
      waitForAck: true,
      installPlugins: false,
    });
    expect(validateConfig(base, '/x/c.json').config?.semiSync).toEqual({
      enabled: 'auto',
      waitForAck: true,
      installPlugins: false,
    });
  });
});

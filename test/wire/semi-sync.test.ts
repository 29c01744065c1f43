// Semi-synchronous replication on every plugin generation, over the real wire protocol: fake servers per version
// (fake-semi-sync.ts: plugins, variables and counters as each manual documents them). A switchover carries the
// old master's side and settings to the new master, the replica side to every repointed server (before START),
// and opens writes only once a replica acknowledges; a failover to a server without its master plugin is refused
// before any change, naming the plugin, unless the config lets mmmf install it.
// The expected spellings come from the MySQL and MariaDB manuals, written independently of src/dialect.
import { describe, expect, it } from 'vitest';
import type { HostState } from '../../src/domain/server-state.js';
import type { FakeReplica, FakeServer, FakeState } from './fake-server.js';
import { clusterLogs, gtidAfter } from './log-fixtures.js';
import { VERSIONS, type VersionProfile } from './versions.js';
import { useWireRun, uuid } from './wire-run.js';

/** Each version and the plugins a production server of it loads (8.4 keeps the deprecated ones here). */
const CASES = [
  { label: 'MySQL 5.7', master: 'master', replica: 'slave' },
  { label: 'MySQL 8.0.26+', master: 'source', replica: 'replica' },
  { label: 'MySQL 8.4 LTS', master: 'master', replica: 'slave' },
  { label: 'MySQL 9.x', master: 'source', replica: 'replica' },
  { label: 'MariaDB 10.11', master: 'master', replica: 'slave' },
] as const;

const wire = useWireRun();
const run = (ports: Record<string, number>, args: string[], semiSync?: object) =>
  wire.run(ports, args, semiSync ? { semiSync } : {});

const changes = (s: FakeServer) =>
  s.statements.filter((x) => /^(START|STOP|RESET|CHANGE|SET GLOBAL|KILL|INSTALL)\b/.test(x));
const semiVars = (s: FakeServer) => s.state.semiSync?.vars ?? {};

function replicaOf(
  port: number,
  at: { file: string; position: number },
  gtid: string,
  p: VersionProfile,
  live: boolean,
) {
  const r: FakeReplica = {
    sourceHost: '127.0.0.1',
    sourcePort: port,
    io: live ? 'Yes' : 'Connecting',
    sql: true,
    received: at,
    executed: at,
    relay: { file: 'relay.000002', position: 4 },
    autoPosition: p.flavor === 'mysql',
    useGtid: 'Slave_Pos',
    retrieved: gtid,
    lastIoError: live ? '' : 'error reconnecting to master \'repl@127.0.0.1\' (111 "Connection refused")',
    authenticated: true,
    semiSyncAck: live,
  };
  return r;
}

describe.each(CASES)('$label semi-sync', (c) => {
  const p = VERSIONS.find((x) => x.label === c.label)!;
  const my = p.flavor === 'mysql';
  const R = my && !p.version.startsWith('5.') ? 'REPLICA' : 'SLAVE'; // MySQL 8.0.22+ says REPLICA
  const plugins = p.semiSync.builtIn ? [] : [`rpl_semi_sync_${c.master}`, `rpl_semi_sync_${c.replica}`];
  const m = c.master;
  const r = c.replica;
  const noReplica = m === 'source' ? 'wait_no_replica' : 'wait_no_slave';
  const count = m === 'source' ? 'wait_for_replica_count' : 'wait_for_slave_count';
  const readOnlyOff = my
    ? ['SET GLOBAL super_read_only = OFF', 'SET GLOBAL read_only = OFF']
    : ['SET GLOBAL read_only = OFF'];
  const readOnlyOn = my ? ['SET GLOBAL super_read_only = ON'] : ['SET GLOBAL read_only = ON'];

  it('switchover: the new master runs the old one’s side and settings, every follower acknowledges, then writes open', async () => {
    const logs = clusterLogs(p.flavor, 20, 20, true);
    const g = gtidAfter(p.flavor, 20);
    const cluster = wire.fakes();
    const base = { superReadOnly: my, gtidMode: true, gtid: g, clients: [] };
    const old = await cluster.start(p, {
      ...base,
      serverId: 1,
      serverUuid: uuid(1),
      readOnly: false,
      superReadOnly: false,
      binlog: [logs.master],
      relay: [],
      semiSync: {
        plugins: [...plugins],
        vars: {
          [`rpl_semi_sync_${m}_enabled`]: 'ON',
          [`rpl_semi_sync_${m}_timeout`]: '5000',
          [`rpl_semi_sync_${m}_wait_point`]: 'AFTER_SYNC',
          ...(my ? { [`rpl_semi_sync_${m}_${count}`]: '1' } : {}),
        },
      },
    });
    const live = (id: number): FakeState => ({
      ...base,
      readOnly: true,
      serverId: id,
      serverUuid: uuid(id),
      binlog: [id === 3 ? logs.bestBinlog : logs.laggingBinlog],
      relay: id === 3 ? [logs.bestRelay] : [],
      replica: replicaOf(old.port, logs.masterAfter(20), g, p, true),
      semiSync: { plugins: [...plugins], vars: { [`rpl_semi_sync_${r}_enabled`]: 'ON' } },
    });
    const b = await cluster.start(p, live(2));
    const t = await cluster.start(p, live(3));
    const ports = { test1: old.port, test2: b.port, test3: t.port };

    const st = await run(ports, ['status', '--json']);
    const hosts = (JSON.parse(st.stdout) as { hosts: HostState[] }).hosts;
    expect(hosts.find((h) => h.name === 'test1')?.semiSync?.master).toMatchObject({
      names: m,
      enabled: true,
      timeoutMs: 5000,
      waitPoint: 'AFTER_SYNC',
      status: true,
      clients: 2,
    });
    expect(hosts.find((h) => h.name === 'test2')?.semiSync?.replica).toEqual({ names: r, enabled: true, status: true });

    const res = await run(ports, ['--switchover-to', 'test3']);
    expect(res.exitCode, res.stdout + res.stderr).toBe(0);
    expect(res.stdout).toMatch(
      new RegExp(
        `semi-sync +test1 runs it \\(rpl_semi_sync_${m}_enabled = ON\\); test3: timeout 5000 ms, wait point AFTER_SYNC`,
      ),
    );
    const masterOn = [
      `SET GLOBAL rpl_semi_sync_${m}_timeout = 5000`,
      `SET GLOBAL rpl_semi_sync_${m}_wait_point = AFTER_SYNC`,
      `SET GLOBAL rpl_semi_sync_${m}_${noReplica} = ON`,
      ...(my ? [`SET GLOBAL rpl_semi_sync_${m}_${count} = 1`] : []),
      `SET GLOBAL rpl_semi_sync_${m}_enabled = ON`,
    ];
    // Promotion: the master side on, writes still closed; they open after the followers acknowledge.
    const tc = changes(t);
    expect(tc.slice(tc.indexOf(`RESET ${R} ALL`) + 1)).toEqual([...masterOn, ...readOnlyOff]);
    const clientsRead = `SHOW GLOBAL STATUS LIKE 'Rpl_semi_sync_${m}_clients'`;
    const opened = t.statements.indexOf(readOnlyOff[0]!);
    expect(t.statements.slice(0, opened)).toContain(clientsRead);
    // Followers: the replica side before START (the old master also stops waiting as a master).
    const ob = changes(b);
    expect(ob.slice(ob.lastIndexOf(readOnlyOn[0]!))).toEqual([
      ...readOnlyOn,
      `SET GLOBAL rpl_semi_sync_${r}_enabled = ON`,
      `START ${R}`,
    ]);
    const oo = changes(old);
    expect(oo.slice(oo.lastIndexOf(readOnlyOn[0]!))).toEqual([
      ...readOnlyOn,
      `SET GLOBAL rpl_semi_sync_${m}_enabled = OFF`,
      `SET GLOBAL rpl_semi_sync_${r}_enabled = ON`,
      `START ${R}`,
    ]);
    expect(semiVars(t)).toMatchObject({ [`rpl_semi_sync_${m}_enabled`]: 'ON', [`rpl_semi_sync_${m}_timeout`]: '5000' });
    expect(semiVars(old)).toMatchObject({
      [`rpl_semi_sync_${m}_enabled`]: 'OFF',
      [`rpl_semi_sync_${r}_enabled`]: 'ON',
    });
    expect([old.state.replica?.semiSyncAck, b.state.replica?.semiSyncAck, t.state.readOnly]).toEqual([
      true,
      true,
      false,
    ]);
    const after = (JSON.parse((await run(ports, ['status', '--json'])).stdout) as { hosts: HostState[] }).hosts;
    expect(after.find((h) => h.name === 'test3')?.semiSync?.master).toMatchObject({ enabled: true, clients: 2 });
  });

  it('failover: a new master without its plugin is refused before any change; installPlugins installs it', async () => {
    if (p.semiSync.builtIn) return; // nothing to install: MariaDB has both sides built in
    const logs = clusterLogs(p.flavor, 20, 20, true);
    const g = gtidAfter(p.flavor, 20);
    const cluster = wire.fakes();
    const dead = await wire.deadPort();
    const state = (id: number, loaded: string[]): FakeState => ({
      serverId: id,
      serverUuid: uuid(id),
      readOnly: true,
      superReadOnly: true,
      gtidMode: true,
      gtid: g,
      binlog: [logs.bestBinlog],
      relay: [logs.bestRelay],
      clients: [],
      replica: replicaOf(dead, logs.masterAfter(20), g, p, false),
      semiSync: { plugins: loaded, vars: { [`rpl_semi_sync_${r}_enabled`]: 'ON' } },
    });
    const b = await cluster.start(p, state(2, [`rpl_semi_sync_${r}`]));
    const t = await cluster.start(p, state(3, [`rpl_semi_sync_${r}`]));
    const ports = { test1: dead, test2: b.port, test3: t.port };
    // A version installs its newest plugin: source on 8.0.26+, master before.
    const want = my && !p.version.startsWith('5.') ? 'source' : 'master';
    const install = `INSTALL PLUGIN rpl_semi_sync_${want} SONAME 'semisync_${want}.so'`;

    const refused = await run(ports, ['--failover-to', 'test3']);
    expect(refused.exitCode, refused.stdout + refused.stderr).toBe(3);
    expect(refused.stderr).toContain(
      `test1 does not answer, and test2, test3 have the replica side on), but test3 has no semi-sync master plugin: run ${install} on test3`,
    );
    expect([...changes(b), ...changes(t)]).toEqual([]);

    const ok = await run(ports, ['--failover-to', 'test3'], { installPlugins: true, timeoutMs: 7000 });
    expect(ok.exitCode, ok.stdout + ok.stderr).toBe(0);
    expect(t.statements).toContain(install);
    const tc = changes(t);
    expect(tc.slice(tc.indexOf(install))).toEqual([
      install,
      `SET GLOBAL rpl_semi_sync_${want}_timeout = 7000`,
      `SET GLOBAL rpl_semi_sync_${want}_enabled = ON`,
      ...readOnlyOff,
    ]);
    expect(t.state.semiSync?.plugins).toContain(`rpl_semi_sync_${want}`);
    expect(b.state.replica).toMatchObject({ sourcePort: t.port, io: 'Yes', semiSyncAck: true });
  });
});

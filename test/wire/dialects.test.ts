// Every supported server version, over the real wire protocol: a fake server per version (fake-server.ts)
// accepts only that version's grammar and answers with its column names. mmmf runs real failovers and a
// switchover through them, by GTID and by file, and this asserts the exact statements each server received.
// The expected spellings below come from the vendors' manuals, written independently of src/dialect.
import { describe, expect, it } from 'vitest';
import { binlogEnd, type FakeReplica, type FakeServer, type FakeState } from './fake-server.js';
import { clusterLogs, gtidAfter } from './log-fixtures.js';
import { VERSIONS, type VersionProfile } from './versions.js';
import { useWireRun, uuid } from './wire-run.js';
import type { HostState } from '../../src/domain/server-state.js';
import mysqlClient from 'mysql2/promise';
import { SESSION_SETTINGS } from '../../src/topology/connection.js';

interface At {
  file: string;
  position: number;
}

/** How each version spells what mmmf sends, per the vendors' documentation. */
function spelling(p: VersionProfile) {
  const [maj, min, pat] = p.version.split(/[.-]/).map(Number) as [number, number, number];
  const v = maj * 10000 + min * 100 + pat;
  const my = p.flavor === 'mysql';
  const replica = my && v >= 80022; // SHOW/START/STOP/RESET REPLICA
  const source = my && v >= 80023; // CHANGE REPLICATION SOURCE TO, SOURCE_* options
  const R = replica ? 'REPLICA' : 'SLAVE';
  const W = source ? 'SOURCE' : 'MASTER';
  // MySQL 8.0+ channels without TLS fetch the source's public key (caching_sha2_password replication users).
  const publicKey = my && maj >= 8 ? `, GET_${W}_PUBLIC_KEY = 1` : '';
  const head = (port: number) =>
    `${source ? 'CHANGE REPLICATION SOURCE TO' : 'CHANGE MASTER TO'} ${W}_HOST = '127.0.0.1', ${W}_PORT = ${port}, ${W}_USER = 'repl', ${W}_PASSWORD = 'repl-pw'`;
  return {
    status: `SHOW ${R} STATUS`,
    binlogStatus: my && v >= 80200 ? 'SHOW BINARY LOG STATUS' : 'SHOW MASTER STATUS',
    stopIo: `STOP ${R} IO_THREAD`,
    startIo: `START ${R} IO_THREAD`,
    stop: `STOP ${R}`,
    start: `START ${R}`,
    reset: `RESET ${R} ALL`,
    readOnlyOn: my ? ['SET GLOBAL super_read_only = ON'] : ['SET GLOBAL read_only = ON'],
    readOnlyOff: my
      ? ['SET GLOBAL super_read_only = OFF', 'SET GLOBAL read_only = OFF']
      : ['SET GLOBAL read_only = OFF'],
    changeGtid: (port: number, formerMaster = false) =>
      `${head(port)}, ${my ? `${W}_AUTO_POSITION = 1` : `MASTER_USE_GTID = ${formerMaster ? 'current_pos' : 'slave_pos'}`}${publicKey}`,
    changeFile: (port: number, at: At) =>
      `${head(port)}, ${W}_LOG_FILE = '${at.file}', ${W}_LOG_POS = ${at.position}, ${my ? `${W}_AUTO_POSITION = 0` : 'MASTER_USE_GTID = no'}${publicKey}`,
    untilGtid: (g: string) =>
      my ? `START ${R} UNTIL SQL_AFTER_GTIDS = '${g}'` : `START SLAVE UNTIL master_gtid_pos = '${g}'`,
    untilPos: (at: At) => `START ${R} UNTIL ${W}_LOG_FILE = '${at.file}', ${W}_LOG_POS = ${at.position}`,
    posWait: my && v >= 80026 ? 'SOURCE_POS_WAIT' : 'MASTER_POS_WAIT',
    gtidWait: my ? 'WAIT_FOR_EXECUTED_GTID_SET' : 'MASTER_GTID_WAIT',
  };
}

const changes = (s: FakeServer) =>
  s.statements.filter((x) => /^(START|STOP|RESET|CHANGE|SET|KILL)\b/.test(x) && !x.startsWith('SET SESSION '));
const wire = useWireRun();
const run = (servers: { test1: number; test2: number; test3: number }, args: string[]) => wire.run(servers, args);

function replicaOf(
  port: number,
  at: At,
  gtid: string,
  byGtid: boolean,
  flavor: 'mysql' | 'mariadb',
  live: boolean,
): FakeReplica {
  return {
    sourceHost: '127.0.0.1',
    sourcePort: port,
    io: live ? 'Yes' : 'Connecting',
    sql: true,
    received: at,
    executed: at,
    relay: { file: 'relay.000002', position: 4 },
    autoPosition: byGtid && flavor === 'mysql',
    useGtid: byGtid ? 'Slave_Pos' : 'No',
    retrieved: byGtid || flavor === 'mariadb' ? gtid : '',
    lastIoError: live ? '' : 'error reconnecting to master \'repl@127.0.0.1\' (111 "Connection refused")',
    authenticated: true, // set up long ago: its source has the replication account cached
  };
}

describe.each(VERSIONS)('$label', (p) => {
  const sp = spelling(p);

  it.each([['gtid'], ['file']] as const)(
    'fails over a dead master by %s with exactly these statements',
    async (mode) => {
      const byGtid = mode === 'gtid';
      const logs = clusterLogs(p.flavor, 20, 12, byGtid || p.flavor === 'mariadb');
      const gtid = (n: number) => (byGtid || p.flavor === 'mariadb' ? gtidAfter(p.flavor, n) : '');
      const cluster = wire.fakes();
      const dead = await wire.deadPort();
      const state = (id: number, n: number, binlog: FakeState['binlog'], relay: FakeState['relay']): FakeState => ({
        serverId: id,
        serverUuid: uuid(id),
        readOnly: true,
        superReadOnly: p.flavor === 'mysql',
        gtidMode: byGtid,
        gtid: gtid(n),
        binlog,
        relay,
        clients: [],
        replica: replicaOf(dead, logs.masterAfter(n), gtid(n), byGtid, p.flavor, false),
      });
      const best = await cluster.start(p, state(2, 20, [logs.bestBinlog], [logs.bestRelay]));
      const target = await cluster.start(p, state(3, 12, [logs.laggingBinlog], []));

      // `status` reads this version's columns into one shape.
      const st = await run({ test1: dead, test2: best.port, test3: target.port }, ['status', '--json']);
      const parsed = JSON.parse(st.stdout) as { hosts?: HostState[] };
      expect(parsed.hosts, st.stdout + st.stderr).toBeDefined();
      const t3 = parsed.hosts!.find((h) => h.name === 'test3')!;
      expect(t3.version).toMatchObject({ flavor: p.flavor, text: p.version });
      expect(t3.replica).toMatchObject({
        sourcePort: dead,
        ioRunning: 'Connecting',
        sqlRunning: true,
        received: logs.masterAfter(12),
        executed: logs.masterAfter(12),
        gtidMode: byGtid ? (p.flavor === 'mysql' ? 'auto' : 'Slave_Pos') : 'No',
        lastIoError: expect.stringContaining('error reconnecting'),
      });
      expect(t3.gtidEnabled).toBe(p.flavor === 'mariadb' || byGtid);
      expect(t3.superReadOnly).toBe(p.flavor === 'mysql' ? true : undefined); // fencing can stop privileged users only on MySQL
      expect(best.statements.filter((x) => /^SHOW (SLAVE|REPLICA) STATUS$/.test(x))).toEqual([sp.status]);
      // Every connection first sets what the statements rely on (no NO_BACKSLASH_ESCAPES, bounded lock waits).
      expect(best.statements.slice(0, SESSION_SETTINGS.length)).toEqual(SESSION_SETTINGS);

      const r = await run({ test1: dead, test2: best.port, test3: target.port }, ['--failover-to', 'test3']);
      expect(r.exitCode, r.stdout + r.stderr).toBe(0);
      expect(r.stdout).toContain(byGtid ? 'positioning GTID' : 'positioning file and position');

      const bestEnd = binlogEnd(best.state);
      const targetEnd = { file: logs.laggingBinlog.name, position: logs.laggingBinlog.events.at(-1)!.End_log_pos };
      const equalize = byGtid
        ? [sp.changeGtid(best.port), sp.untilGtid(gtidAfter(p.flavor, 20))]
        : [sp.changeFile(best.port, logs.bestStartOf(13)), sp.untilPos(bestEnd)];
      expect(changes(target)).toEqual([
        sp.stopIo,
        sp.stop,
        sp.stop,
        ...equalize,
        sp.stop,
        sp.stop,
        sp.reset,
        ...sp.readOnlyOff,
      ]);
      expect(changes(best)).toEqual([
        sp.stopIo,
        sp.stop,
        sp.stop,
        byGtid ? sp.changeGtid(target.port) : sp.changeFile(target.port, targetEnd),
        ...sp.readOnlyOn,
        sp.start,
      ]);
      // Status, binlog position and waits, each in this version's spelling.
      expect(target.statements).toContain(sp.status);
      expect(target.statements).toContain(sp.binlogStatus);
      const wait = byGtid ? sp.gtidWait : sp.posWait;
      expect(target.statements.some((x) => x.startsWith(`SELECT ${wait}(`))).toBe(true);
      expect(best.statements.some((x) => x.startsWith(`SELECT ${wait}(`))).toBe(true);
      if (!byGtid) {
        // The mapping read the best replica's relay log and binlog, paged, and the target's own binlog.
        expect(best.statements).toContain("SHOW RELAYLOG EVENTS IN 'relay.000002' FROM 4 LIMIT 0, 5000");
        expect(best.statements).toContain("SHOW BINLOG EVENTS IN 'b-bin.000007' FROM 4 LIMIT 0, 5000");
        expect(target.statements).toContain("SHOW BINLOG EVENTS IN 't-bin.000002' FROM 4 LIMIT 0, 5000");
        expect(r.stdout).toMatch(/old master master-bin\.000003:\d+ = test2 b-bin\.000007:\d+, 8 transactions behind/);
      }
      // The new master is writable, the other replica follows it.
      expect([target.state.readOnly, target.state.replica]).toEqual([false, undefined]);
      expect([
        best.state.replica?.sourcePort,
        best.state.replica?.io,
        best.state.replica?.sql,
        best.state.readOnly,
      ]).toEqual([target.port, 'Yes', true, true]);
    },
  );

  it.each([['gtid'], ['file']] as const)(
    'switches over from a live master by %s: fences it, collects its last writes and makes it a replica',
    async (mode) => {
      const byGtid = mode === 'gtid';
      const logs = clusterLogs(p.flavor, 20, 20, byGtid || p.flavor === 'mariadb');
      const cluster = wire.fakes();
      const g = byGtid || p.flavor === 'mariadb' ? gtidAfter(p.flavor, 20) : '';
      const base = { readOnly: true, superReadOnly: p.flavor === 'mysql', gtidMode: byGtid, gtid: g, clients: [] };
      const old = await cluster.start(p, {
        ...base,
        serverId: 1,
        serverUuid: uuid(1),
        readOnly: false,
        superReadOnly: false,
        binlog: [logs.master],
        relay: [],
        clients: [{ id: 7, user: 'app', host: '10.0.0.9:40001' }],
      });
      // The target holds the "best" logs: by file, the other replica's position is mapped through them.
      const live = (id: number): FakeState => ({
        ...base,
        serverId: id,
        serverUuid: uuid(id),
        binlog: [id === 3 ? logs.bestBinlog : logs.laggingBinlog],
        relay: id === 3 ? [logs.bestRelay] : [],
        replica: replicaOf(old.port, logs.masterAfter(20), g, byGtid, p.flavor, true),
      });
      const b = await cluster.start(p, live(2));
      const t = await cluster.start(p, live(3));

      const r = await run({ test1: old.port, test2: b.port, test3: t.port }, ['--switchover-to', 'test3']);
      expect(r.exitCode, r.stdout + r.stderr).toBe(0);
      const to = (formerMaster = false) =>
        byGtid ? sp.changeGtid(t.port, formerMaster) : sp.changeFile(t.port, binlogEnd(t.state));
      expect(changes(old)).toEqual([
        ...sp.readOnlyOn,
        'KILL CONNECTION 7',
        sp.stop,
        to(true),
        ...sp.readOnlyOn,
        sp.start,
      ]);
      expect(changes(t)).toEqual([sp.startIo, sp.stopIo, sp.stop, sp.stop, sp.reset, ...sp.readOnlyOff]);
      expect(changes(b)).toEqual([sp.startIo, sp.stopIo, sp.stop, sp.stop, to(), ...sp.readOnlyOn, sp.start]);
      if (!byGtid)
        expect(r.stdout).toMatch(
          /test2: Map its position into test3's binlog — old master master-bin\.000003:\d+ = test3 b-bin\.000007:\d+, 0 transactions behind/,
        );
      expect(old.statements).toContain(sp.binlogStatus);
      expect([old.state.replica?.sourcePort, old.state.readOnly, t.state.readOnly]).toEqual([t.port, true, false]);
    },
  );
});

describe('mixed versions', () => {
  it('refuses a target older than a replica that would replicate from it, before any change', async () => {
    const newer = VERSIONS.find((v) => v.label === 'MySQL 8.4 LTS')!;
    const older = VERSIONS.find((v) => v.label === 'MySQL 8.0.26+')!;
    const logs = clusterLogs('mysql', 20, 12, true);
    const cluster = wire.fakes();
    const dead = await wire.deadPort();
    const state = (id: number, n: number): FakeState => ({
      serverId: id,
      serverUuid: `${id}${id}${id}${id}${id}${id}${id}${id}-0000-11ef-8000-00000000000${id}`,
      readOnly: true,
      superReadOnly: true,
      gtidMode: true,
      gtid: gtidAfter('mysql', n),
      binlog: [logs.bestBinlog],
      relay: [logs.bestRelay],
      clients: [],
      replica: replicaOf(dead, logs.masterAfter(n), gtidAfter('mysql', n), true, 'mysql', false),
    });
    const replica = await cluster.start(newer, state(2, 20));
    const target = await cluster.start(older, state(3, 20));
    const r = await run({ test1: dead, test2: replica.port, test3: target.port }, ['--failover-to', 'test3']);
    expect(r.exitCode).toBe(3);
    expect(r.stderr).toMatch(
      /target test3 runs 8\.0\.40, older than test2 \(8\.4\.3\); a replica must not be newer than its source/,
    );
    expect([...changes(replica), ...changes(target)]).toEqual([]);
  });
});

describe('caching_sha2_password on MySQL 8.0+ (the fake models error 2061)', () => {
  it.each(VERSIONS.filter((v) => v.flavor === 'mysql' && !v.version.startsWith('5.')))(
    '$label: a new plaintext channel without GET_SOURCE_PUBLIC_KEY fails with 2061; with it (as mmmf sends) it runs',
    async (p) => {
      const logs = clusterLogs('mysql', 20, 12, true);
      const cluster = wire.fakes();
      const state = (id: number): FakeState => ({
        serverId: id,
        serverUuid: `${id}${id}${id}${id}${id}${id}${id}${id}-0000-11ef-8000-00000000000${id}`,
        readOnly: true,
        superReadOnly: true,
        gtidMode: true,
        gtid: gtidAfter('mysql', 20),
        binlog: [logs.bestBinlog],
        relay: [logs.bestRelay],
        clients: [],
      });
      const source = await cluster.start(p, state(1));
      const replica = await cluster.start(p, state(2));
      const conn = await mysqlClient.createConnection({
        host: '127.0.0.1',
        port: replica.port,
        user: 'x',
        password: 'y',
      });
      try {
        const sp = spelling(p);
        const head = sp.changeGtid(source.port).replace(/, GET_\w+_PUBLIC_KEY = 1$/, '');
        await conn.query(head);
        await conn.query(sp.start);
        const [rows] = (await conn.query(sp.status)) as unknown as [Record<string, string>[]];
        expect(rows[0]?.Last_IO_Error).toMatch(/Authentication requires secure connection/);
        await conn.query(sp.stop);
        await conn.query(sp.changeGtid(source.port)); // what mmmf sends
        await conn.query(sp.start);
        const [after] = (await conn.query(sp.status)) as unknown as [Record<string, string>[]];
        expect(after[0]?.Last_IO_Error).toBe('');
      } finally {
        await conn.end();
      }
    },
  );
});

describe('MariaDB 10.11+: SUPER no longer covers read_only (the fake models error 1227)', () => {
  it.each(VERSIONS.filter((v) => v.flavor === 'mariadb' && !v.version.startsWith('10.4')))(
    '$label: check names READ_ONLY ADMIN for a SUPER-only admin, and the server refuses SET GLOBAL read_only',
    async (p) => {
      const logs = clusterLogs('mariadb', 20, 12, true);
      const cluster = wire.fakes();
      const privileges = ['SELECT', 'PROCESS', 'SUPER', 'RELOAD', 'BINLOG MONITOR', 'SLAVE MONITOR'];
      const state = (id: number, replica?: FakeReplica): FakeState => ({
        serverId: id,
        serverUuid: '',
        readOnly: id !== 1,
        superReadOnly: false,
        gtidMode: true,
        gtid: gtidAfter('mariadb', 20),
        binlog: [logs.bestBinlog],
        relay: [logs.bestRelay],
        clients: [],
        privileges,
        ...(replica ? { replica } : {}),
      });
      const master = await cluster.start(p, state(1));
      const r = (port: number) =>
        replicaOf(port, logs.masterAfter(20), gtidAfter('mariadb', 20), true, 'mariadb', true);
      const a = await cluster.start(p, state(2, r(master.port)));
      const b = await cluster.start(p, state(3, r(master.port)));
      const check = await run({ test1: master.port, test2: a.port, test3: b.port }, ['check']);
      expect(check.exitCode, check.stdout + check.stderr).toBe(3);
      expect(check.stdout).toMatch(/test1: the admin account lacks READ_ONLY ADMIN for setting read_only/);
      const conn = await mysqlClient.createConnection({
        host: '127.0.0.1',
        port: master.port,
        user: 'x',
        password: 'y',
      });
      try {
        await expect(conn.query('SET GLOBAL read_only = ON')).rejects.toThrow(/READ_ONLY ADMIN/);
      } finally {
        await conn.end();
      }
    },
  );
});

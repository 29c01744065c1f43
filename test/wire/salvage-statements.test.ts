// What a salvage of a dead master's binlog says to the replica it applies to, on every supported version over
// the real wire protocol (a fake server per version: its grammar, its variables, its column names): where a
// server keeps its binlogs (the probe remembers it), super_read_only lifted around the apply on MySQL,
// gtid_slave_pos set afterwards on MariaDB (only with replication stopped), and the replica's binlog read back
// from where the apply began: exactly the transactions written since, GTID by GTID.
import { describe, expect, it } from 'vitest';
import { dialectFor } from '../../src/dialect/dialect.js';
import { fixGtidSlavePosSql, liftSuperReadOnly, salvageLockHolderSql } from '../../src/dialect/salvage-dialect.js';
import { binlogSince } from '../../src/executor/salvage-apply.js';
import { connectMysql } from '../../src/topology/connection.js';
import { probeHost } from '../../src/topology/probe.js';
import type { FakeState } from './fake-server.js';
import { clusterLogs, gtidAfter, gtidOfTrx } from './log-fixtures.js';
import { VERSIONS } from './versions.js';
import { useWireRun } from './wire-run.js';

const wire = useWireRun();

describe.each(VERSIONS)('$label: the statements of a salvage', (profile) => {
  it('probes where the binlogs are, lifts super_read_only or fixes gtid_slave_pos, reads back what was applied', async () => {
    const flavor = profile.flavor;
    const logs = clusterLogs(flavor, 12, 4, true);
    const state: FakeState = {
      serverId: 2,
      serverUuid: '22222222-0000-11ef-8000-000000000002',
      readOnly: true,
      superReadOnly: flavor === 'mysql',
      gtidMode: true,
      gtid: gtidAfter(flavor, 12),
      binlog: [logs.bestBinlog],
      relay: [logs.bestRelay],
      clients: [],
      replica: {
        sourceHost: '127.0.0.1',
        sourcePort: 1,
        io: 'No',
        sql: false,
        received: logs.masterAfter(12),
        executed: logs.masterAfter(12),
        relay: { file: 'relay.000002', position: 4 },
        autoPosition: true,
        useGtid: 'Slave_Pos',
        retrieved: gtidAfter(flavor, 12),
        lastIoError: '',
      },
    };
    const cluster = wire.fakes();
    const server = await cluster.start(profile, state);
    const host = {
      name: 'db2',
      host: '127.0.0.1',
      port: server.port,
      user: 'admin',
      password: 'admin-pw',
      ssh: { host: '127.0.0.1', user: 'root', port: 22, options: [] },
    };
    const conn = await connectMysql(host, 2);
    try {
      const { state: probed } = await probeHost(host, conn);
      expect(probed.files).toEqual({
        datadir: '/var/lib/mysql/',
        logBinBasename: '/var/lib/mysql/mysql-bin',
        logBinIndex: '/var/lib/mysql/mysql-bin.index',
      });
      const d = dialectFor(probed.version!);
      const lift = liftSuperReadOnly(d);
      if (flavor === 'mysql') {
        expect(Number((await conn.query(lift!.read))[0]?.s)).toBe(1);
        await conn.query(lift!.off);
        expect(server.state.superReadOnly).toBe(false);
        await conn.query(lift!.on);
        expect(server.state.superReadOnly).toBe(true);
      } else expect(lift).toBeUndefined();
      const fix = fixGtidSlavePosSql(d, '0-1-27');
      if (flavor === 'mariadb') {
        await conn.query(fix!);
        expect(server.state.gtid).toBe('0-1-27');
      } else expect(fix).toBeUndefined();
      expect((await conn.query(salvageLockHolderSql()))[0]?.holder).toBeNull();
      // "The apply began" after transaction 9 of the replica's binlog: 10, 11 and 12 were written since.
      const since = await binlogSince(conn, d, logs.bestStartOf(10));
      expect(since.map((t) => t.gtid)).toEqual([10, 11, 12].map((i) => gtidOfTrx(flavor, i, true)));
    } finally {
      await conn.close();
    }
  });
});

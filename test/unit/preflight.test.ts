import { describe, expect, it } from 'vitest';
import { unitConfig } from './fixture-config.js';
import { missingPrivileges } from '../../src/algorithm/privileges.js';
import { preflight } from '../../src/algorithm/preflight.js';
import type { AccountFacts } from '../../src/topology/probe-accounts.js';
import type { HostState } from '../../src/domain/server-state.js';

const version = { flavor: 'mariadb' as const, major: 10, minor: 11, patch: 19, text: '10.11.19-MariaDB' };
const config = unitConfig(2);
const master: HostState = {
  name: 'db1',
  address: '10.0.0.1:3306',
  reachable: true,
  version,
  serverId: 1,
  readOnly: false,
  logBin: true,
  logReplicaUpdates: true,
  binlogFormat: 'ROW',
  gtidBinlog: '0-1-10',
  gtidApplied: '',
};
const replica: HostState = {
  ...master,
  name: 'db2',
  address: '10.0.0.2:3306',
  serverId: 2,
  readOnly: true,
  gtidApplied: '0-1-10',
  replica: {
    sourceHost: '10.0.0.1',
    sourcePort: 3306,
    ioRunning: 'Yes',
    sqlRunning: true,
    ioState: '',
    sqlState: '',
    received: { file: 'b.000001', position: 9 },
    executed: { file: 'b.000001', position: 9 },
    relayLog: { file: 'r.000002', position: 4 },
    secondsBehind: 0,
    gtidMode: 'Slave_Pos',
    gtidReceived: '0-1-10',
    lastIoError: '',
    lastSqlError: '',
    filters: [],
    sourceAddress: '10.0.0.1:3306',
    sourceServerId: 1,
    sourceUuid: '',
    sqlDelay: 0,
    untilCondition: 'None',
  },
};
/** Everything a MariaDB 10.11 admin account needs. */
const ENOUGH = 'GRANT SUPER, RELOAD, PROCESS, READ_ONLY ADMIN, BINLOG MONITOR, SLAVE MONITOR ON *.* TO x';
const facts = (grants: string[]): Map<string, AccountFacts> =>
  new Map(['db1', 'db2'].map((n) => [n, { grants, replicationUserHosts: ['%'] }]));

describe('preflight (pure)', () => {
  it('accepts ALL PRIVILEGES; names every missing privilege per version (SUPER is not enough on MariaDB 10.11)', () => {
    expect(
      preflight({ config, states: [master, replica], accounts: facts(['GRANT ALL PRIVILEGES ON *.* TO `mmmf`@`%`']) })
        .findings,
    ).toEqual([]);
    expect(preflight({ config, states: [master, replica], accounts: facts([ENOUGH]) }).findings).toEqual([]);
    const { findings } = preflight({
      config,
      states: [master, replica],
      accounts: facts(['GRANT SELECT, PROCESS, SUPER ON *.* TO `mmmf`@`%`']),
    });
    const msg = findings.find((f) => f.host === 'db1')?.message ?? '';
    for (const p of [
      'RELOAD for resetting replication',
      'BINLOG MONITOR for reading binlog events',
      'SLAVE MONITOR for reading relay log events',
      'READ_ONLY ADMIN for setting read_only',
    ]) {
      expect(msg).toContain(p);
    }
    expect(findings.find((f) => f.host === 'db1')?.fix).toMatch(
      /^GRANT RELOAD, BINLOG MONITOR, SLAVE MONITOR, READ_ONLY ADMIN ON \*\.\*/,
    );
  });

  it.each([
    [
      'MariaDB 10.6 with SUPER, RELOAD, PROCESS',
      { ...version, minor: 6, patch: 20 },
      ['GRANT SUPER, RELOAD, PROCESS ON *.* TO x'],
      [],
    ],
    [
      'MariaDB 10.5.4: no SLAVE MONITOR to demand',
      { ...version, minor: 5, patch: 4 },
      ['GRANT REPLICATION SLAVE ADMIN, BINLOG MONITOR, READ_ONLY ADMIN, CONNECTION ADMIN, RELOAD, PROCESS ON *.* TO x'],
      [],
    ],
    [
      'MariaDB 10.4 with SUPER only',
      { ...version, minor: 4, patch: 30 },
      ['GRANT SUPER ON *.* TO x'],
      ['RELOAD', 'REPLICATION SLAVE', 'REPLICATION SLAVE', 'PROCESS'],
    ],
    [
      'MySQL 8.0 fine-grained',
      { flavor: 'mysql' as const, major: 8, minor: 0, patch: 36, text: '8.0.36' },
      [
        'GRANT RELOAD, PROCESS, REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO x',
        'GRANT CONNECTION_ADMIN,REPLICATION_SLAVE_ADMIN,SYSTEM_VARIABLES_ADMIN ON *.* TO x',
      ],
      [],
    ],
    [
      'MySQL 8.4 without the dynamic privileges',
      { flavor: 'mysql' as const, major: 8, minor: 4, patch: 3, text: '8.4.3' },
      ['GRANT RELOAD, PROCESS, REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO x'],
      ['REPLICATION_SLAVE_ADMIN', 'SYSTEM_VARIABLES_ADMIN', 'CONNECTION_ADMIN'],
    ],
    [
      'MySQL 5.7 with SUPER',
      { flavor: 'mysql' as const, major: 5, minor: 7, patch: 44, text: '5.7.44' },
      ['GRANT SUPER, RELOAD, PROCESS, REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO x'],
      [],
    ],
  ])('%s', (_name, v, grants, lacking) => {
    expect(missingPrivileges(v, grants).map((m) => m.anyOf[0])).toEqual(lacking);
  });

  it('warns about settings that would surprise mmmf: gtid_strict_mode OFF, a sha2 replication user over plaintext', () => {
    const loose = { ...replica, gtidStrictMode: false };
    const accounts = new Map(
      ['db1', 'db2'].map((n) => [
        n,
        { grants: [ENOUGH], replicationUserHosts: ['%'], replicationUserPlugins: ['caching_sha2_password'] },
      ]),
    );
    const msgs = preflight({ config, states: [master, loose], accounts }).findings.map(
      (f) => `${f.host}: ${f.message}`,
    );
    expect(msgs).toContainEqual(expect.stringMatching(/^db2: gtid_strict_mode=OFF/));
    expect(msgs).toContainEqual(
      expect.stringMatching(/^db2: replication user 'repl' authenticates with caching_sha2_password/),
    );
    const tls = { ...replica, replica: { ...replica.replica!, tls: { ca: '/ca.pem' } } };
    const withTls = preflight({ config, states: [master, tls], accounts }).findings.map((f) => f.message);
    expect(withTls.filter((m) => m.includes('caching_sha2_password'))).toEqual([]);
  });

  it('flags duplicate server ids and a lagging, writable replica', () => {
    const lagging = { ...replica, serverId: 1, readOnly: false, replica: { ...replica.replica!, secondsBehind: 600 } };
    const msgs = preflight({
      config,
      states: [master, lagging],
      accounts: facts([ENOUGH]),
    }).findings.map((f) => `${f.level} ${f.message}`);
    expect(msgs).toContain('error server_id 1 is used by db1, db2');
    expect(msgs).toContain('warning 600 s behind its master');
    expect(msgs).toContain('warning read_only is OFF on a replica');
  });

  it('says when the config names the master by another address than its replicas use, and shows delayed replicas', () => {
    const aliased = { ...master, address: 'db1.example.com:3306' };
    const delayed = { ...replica, replica: { ...replica.replica!, sqlDelay: 3600, secondsBehind: 3500 } };
    const findings = preflight({
      config,
      states: [aliased, delayed],
      accounts: facts([ENOUGH]),
    }).findings;
    expect(findings.map((f) => `${f.level} ${f.host}: ${f.message}`)).toEqual([
      'warning db1: replicas reach db1 as 10.0.0.1:3306, the config names it db1.example.com:3306 (the same server: server_id 1)',
      'warning db2: delayed by 3600 s (MASTER_DELAY): a failover does not wait for it and never promotes it unless ' +
        'named; it follows the new master afterwards with its delay',
    ]);
  });

  it('reports every host the VIP could not be moved to or from', () => {
    const ssh = new Map([
      ['db1', { ok: true, detail: 'ok' }],
      ['db2', { ok: false, detail: 'missing arping' }],
    ]);
    const { findings } = preflight({
      config,
      states: [master, replica],
      accounts: facts([ENOUGH]),
      ssh,
    });
    expect(findings.map((f) => `${f.host}: ${f.message}`)).toEqual([
      'db2: the writer VIP cannot be moved here: missing arping',
    ]);
  });
});

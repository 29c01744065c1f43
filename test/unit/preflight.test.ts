import { describe, expect, it } from 'vitest';
import { unitConfig } from './fixture-config.js';
import { preflight } from '../../src/algorithm/preflight.js';
import type { AccountFacts } from '../../src/topology/probe-accounts.js';
import type { HostState } from '../../src/topology/server-state.js';

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
const facts = (grants: string[]): Map<string, AccountFacts> =>
  new Map(['db1', 'db2'].map((n) => [n, { grants, replicationUserHosts: ['%'] }]));

describe('preflight (pure)', () => {
  it('accepts SUPER or ALL PRIVILEGES, and names each missing fine-grained privilege otherwise', () => {
    expect(
      preflight({ config, states: [master, replica], accounts: facts(['GRANT ALL PRIVILEGES ON *.* TO `mmmf`@`%`']) })
        .findings,
    ).toEqual([]);
    const { findings } = preflight({
      config,
      states: [master, replica],
      accounts: facts(['GRANT BINLOG MONITOR, SLAVE MONITOR, PROCESS ON *.* TO `mmmf`@`%`']),
    });
    expect(findings.map((f) => f.message)).toContain(
      'the admin account lacks REPLICATION SLAVE ADMIN, READ_ONLY ADMIN, CONNECTION ADMIN',
    );
  });

  it('flags duplicate server ids and a lagging, writable replica', () => {
    const lagging = { ...replica, serverId: 1, readOnly: false, replica: { ...replica.replica!, secondsBehind: 600 } };
    const msgs = preflight({
      config,
      states: [master, lagging],
      accounts: facts(['GRANT SUPER ON *.* TO x']),
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
      accounts: facts(['GRANT SUPER ON *.* TO x']),
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
      accounts: facts(['GRANT SUPER ON *.* TO x']),
      ssh,
    });
    expect(findings.map((f) => `${f.host}: ${f.message}`)).toEqual([
      'db2: the writer VIP cannot be moved here: missing arping',
    ]);
  });
});

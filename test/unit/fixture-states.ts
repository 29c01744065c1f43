// Probed states the pure tests plan against: host i is db{i} at 10.0.0.{i}:3306 (MariaDB 10.11), matching
// unitConfig's hosts; replicas replicate from db1 unless told otherwise, `seq` is how far they got (0-1-seq).
import type { HostState, ReplicaStatus } from '../../src/domain/server-state.js';

export const version = { flavor: 'mariadb' as const, major: 10, minor: 11, patch: 19, text: '10.11.19-MariaDB' };
export const dead = (i: number): HostState => ({
  name: `db${i}`,
  address: `10.0.0.${i}:3306`,
  reachable: false,
  error: 'ECONNREFUSED',
});
export const master = (i: number): HostState => ({
  name: `db${i}`,
  address: `10.0.0.${i}:3306`,
  reachable: true,
  version,
  serverId: i,
  readOnly: false,
  logBin: true,
  logReplicaUpdates: true,
  binlogFormat: 'ROW',
  gtidBinlog: '0-1-5000',
  gtidApplied: '',
  binlog: { file: 'mysql-bin.000003', position: 900 },
});
export function replica(
  i: number,
  seq: number,
  o: Partial<ReplicaStatus> & { state?: Partial<HostState>; file?: string } = {},
): HostState {
  const { state, file, ...rs } = o;
  const pos = { file: file ?? 'mysql-bin.000003', position: 100 + seq };
  return {
    name: `db${i}`,
    address: `10.0.0.${i}:3306`,
    reachable: true,
    version,
    serverId: i,
    readOnly: true,
    logBin: true,
    logReplicaUpdates: true,
    binlogFormat: 'ROW',
    gtidBinlog: `0-1-${seq}`,
    gtidApplied: `0-1-${seq}`,
    binlog: { file: 'mysql-bin.000001', position: 4 },
    replica: {
      sourceHost: '10.0.0.1',
      sourcePort: 3306,
      ioRunning: 'Connecting',
      sqlRunning: true,
      ioState: '',
      sqlState: '',
      received: pos,
      executed: pos,
      secondsBehind: null,
      gtidMode: 'Slave_Pos',
      gtidReceived: `0-1-${seq}`,
      lastIoError: 'error reconnecting to master',
      lastSqlError: '',
      filters: [],
      relayLog: { file: 'relay-bin.000002', position: 4 },
      sourceAddress: '10.0.0.1:3306',
      sourceServerId: 1,
      sourceUuid: '',
      sqlDelay: 0,
      untilCondition: 'None',
      ...rs,
      ...(rs.sourceHost || rs.sourcePort
        ? { sourceAddress: `${rs.sourceHost ?? '10.0.0.1'}:${rs.sourcePort ?? 3306}`, sourceServerId: 0 }
        : {}),
    },
    ...state,
  };
}

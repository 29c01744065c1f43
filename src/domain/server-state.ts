import type { Coordinates } from './coordinates.js';
import type { SemiSyncState } from './semi-sync.js';
import type { Tls } from './tls.js';

export type Flavor = 'mariadb' | 'mysql';

/** Example: `{ flavor: 'mariadb', major: 10, minor: 11, patch: 19, text: '10.11.19-MariaDB-0+deb12u1' }` */
export interface ServerVersion {
  flavor: Flavor;
  major: number;
  minor: number;
  patch: number;
  text: string;
}

/** One replication channel as the dialect parsed it from SHOW SLAVE/REPLICA STATUS, whatever the flavor. */
export interface ReplicaStatus {
  sourceHost: string;
  sourcePort: number;
  /** `host:port` as this replica names its source (parsed once; compare identities with sourceServerId). */
  sourceAddress: string;
  /** Master_Server_Id: the source's server_id as seen on the last connection; 0 when it never connected. */
  sourceServerId: number;
  /** MySQL Master_UUID / Source_UUID: the source's server_uuid; '' where the server has none. */
  sourceUuid: string;
  /** What sourceHost resolves to (filled in by the probe): a second signal when server ids cannot tell. */
  sourceResolved?: string[];
  /** SQL_Delay (MASTER_DELAY): seconds this replica deliberately stays behind; 0 when not delayed. */
  sqlDelay: number;
  /** Until_Condition: 'None', or what a START ... UNTIL left (a killed run may leave one). */
  untilCondition: string;
  /** 'Yes', 'No' or 'Connecting' (the source is unreachable). */
  ioRunning: string;
  sqlRunning: boolean;
  ioState: string;
  sqlState: string;
  /** Old-master binlog coordinates received into the relay log. */
  received: Coordinates;
  /** Old-master binlog coordinates the SQL thread has applied. */
  executed: Coordinates;
  /** Where the SQL thread is in this replica's own relay log (Relay_Log_File / Relay_Log_Pos). */
  relayLog: Coordinates;
  secondsBehind: number | null;
  /** MariaDB Using_Gtid ('No', 'Slave_Pos', 'Current_Pos'); MySQL: 'auto' or 'No'. */
  gtidMode: string;
  /** GTIDs received (MariaDB Gtid_IO_Pos, MySQL Retrieved_Gtid_Set); '' when not known. */
  gtidReceived: string;
  lastIoError: string;
  lastSqlError: string;
  /** Replication filters in force (Replicate_Do_DB etc.), empty when none. */
  filters: string[];
  /**
   * The channel's TLS settings when it uses TLS (Master_SSL_Allowed: Yes): CA, certificate and key files on this
   * replica's host, and whether it verifies the source's certificate. Carried to the channels mmmf creates.
   */
  tls?: Tls;
}

/** What a probe learnt about one configured server. Unreachable hosts carry only name, address and error. */
export interface HostState {
  name: string;
  /** host:port as replicas would name it. */
  address: string;
  /** What the configured host name resolves to (IP addresses), when it resolves. */
  resolved?: string[];
  reachable: boolean;
  error?: string;
  version?: ServerVersion;
  serverId?: number;
  /** MySQL @@server_uuid: names the GTIDs written on this server. */
  serverUuid?: string;
  /** Can be positioned by GTID: always on MariaDB; MySQL needs gtid_mode=ON and enforce_gtid_consistency=ON. */
  gtidEnabled?: boolean;
  readOnly?: boolean;
  /** MySQL super_read_only (also stops privileged users); undefined where the server has none (MariaDB). */
  superReadOnly?: boolean;
  logBin?: boolean;
  logReplicaUpdates?: boolean;
  /** relay_log_purge: applied relay logs are deleted, so file positioning may lack the evidence it needs. */
  relayLogPurge?: boolean;
  binlogFormat?: string;
  /** slave_net_timeout (replica_net_timeout): how long this replica waits on a silent source before reconnecting. */
  netTimeout?: number;
  /** MariaDB gtid_strict_mode: out-of-order or duplicate GTIDs are errors instead of silently accepted. */
  gtidStrictMode?: boolean;
  /** MariaDB gtid_binlog_pos: the last GTID per domain in this server's own binlog. */
  gtidBinlog?: string;
  /** MariaDB gtid_current_pos: everything this server holds, applied by replication or written here. */
  gtidCurrent?: string;
  /** MariaDB gtid_binlog_state: the last GTID per domain and server id in this server's binlog. */
  gtidBinlogState?: string;
  /** MariaDB gtid_slave_pos: the last GTID per domain applied by replication. */
  gtidApplied?: string;
  /** This server's own binlog end (SHOW MASTER STATUS). */
  binlog?: Coordinates;
  replica?: ReplicaStatus;
  /** How many replication channels it has (more than one: multi-source, which mmmf does not fail over). */
  channels?: number;
  /** Client connections (not replication threads) open right now. */
  clientConnections?: number;
  /** Age in seconds of the oldest open write transaction (read on servers that are not replicas). */
  oldestWriteTrxSeconds?: number;
  /** Semi-synchronous replication: each side, when its plugin is loaded (built into MariaDB 10.3.3+). */
  semiSync?: SemiSyncState;
  /** Where it keeps its data and binlogs on its host (for salvaging them should it die). */
  files?: ServerFiles;
}

/**
 * @@datadir, @@log_bin_basename and @@log_bin_index as the server reports them (absolute paths on its host).
 * Example: `{ datadir: '/var/lib/mysql/', logBinBasename: '/var/lib/mysql/mysql-bin', logBinIndex: '/var/lib/mysql/mysql-bin.index' }`
 */
export interface ServerFiles {
  datadir: string;
  logBinBasename?: string;
  logBinIndex?: string;
}

/** A reachable host that replicates: its version and replica status are known. */
export type ReplicaHost = HostState & { reachable: true; version: ServerVersion; replica: ReplicaStatus };

/** Narrows a probed host to a replica, so code that works on replicas needs no non-null assertions. */
export function isReplica(s: HostState | undefined): s is ReplicaHost {
  return !!s && s.reachable && !!s.version && !!s.replica;
}

/** A reachable host whose version is known (every probed host). */
export type ProbedHost = HostState & { reachable: true; version: ServerVersion };

export function isProbed(s: HostState | undefined): s is ProbedHost {
  return !!s && s.reachable && !!s.version;
}

/** What `mmmf check` learns about accounts on one server (never read during a failover). */
export interface AccountFacts {
  /** The admin account's own grants (SHOW GRANTS), or the error that prevented reading them. */
  grants: string[] | { error: string };
  /** Host patterns of the replication user on this server, or the error that prevented looking. */
  replicationUserHosts: string[] | { error: string };
  /** The replication user's authentication plugins here (e.g. caching_sha2_password), when they could be read. */
  replicationUserPlugins?: string[];
}

import type { Coordinates } from '../domain/coordinates.js';
import type { Row } from '../domain/row.js';
import type { Flavor, ReplicaStatus, ServerVersion } from '../domain/server-state.js';
import type { Tls } from '../domain/tls.js';
import { type Capabilities, capabilitiesOf } from './capabilities.js';
import { SemiSyncDialect } from './semi-sync.js';
import { formatAddress } from '../domain/address.js';

/**
 * The one place that knows how each flavor and version spells replication statements and status columns.
 * No SQL with SLAVE/MASTER/REPLICA/SOURCE keywords lives anywhere else.
 */

/** Where a replica should replicate from. The password is only filled in when a statement is executed. */
export interface SourceSpec {
  host: string;
  port: number;
  user: string;
  password: string;
  /** TLS for the channel: file paths on the replica's own host (the server reads them). */
  ssl?: Tls;
}

export const REDACTED = '<redacted>';

/** SQL string literal, escaped for both flavors' default sql_mode. */
export function quote(s: string): string {
  const escaped = s
    .replace(/\\/g, '\\\\')
    .replace(/'/g, "\\'")
    .replace(/\0/g, '\\0')
    .replace(/\n/g, '\\n')
    .replace(/\r/g, '\\r');
  return `'${escaped}'`;
}

export function parseVersion(versionText: string, comment = ''): ServerVersion {
  const m = /^(\d+)\.(\d+)\.(\d+)/.exec(versionText);
  const flavor: Flavor = /mariadb/i.test(versionText) || /mariadb/i.test(comment) ? 'mariadb' : 'mysql';
  return {
    flavor,
    major: Number(m?.[1] ?? 0),
    minor: Number(m?.[2] ?? 0),
    patch: Number(m?.[3] ?? 0),
    text: versionText,
  };
}

const str = (v: unknown) => (v === null || v === undefined ? '' : String(v));
const num = (v: unknown) => (v === null || v === undefined || v === '' ? 0 : Number(v));
/** A binlog position as SQL: a number, or a printed plan's run-time placeholder (<pos from step N>). */
const positionText = (p: number | string) => (typeof p === 'number' ? String(Math.trunc(p)) : p);

/** First column present of several spellings (MySQL 8.0.22 renamed Master_* to Source_*, Slave_* to Replica_*). */
function col(row: Row, ...names: string[]): unknown {
  for (const n of names) if (n in row) return row[n];
  return undefined;
}

export class Dialect {
  /** What this server's version can say, computed once. */
  readonly caps: Capabilities;
  /** Semi-synchronous replication's statements and status (semi-sync.ts). */
  readonly semiSync: SemiSyncDialect;

  constructor(readonly version: ServerVersion) {
    this.caps = capabilitiesOf(version);
    this.semiSync = new SemiSyncDialect(version);
  }

  get isMariadb(): boolean {
    return this.version.flavor === 'mariadb';
  }
  /** MySQL 8.0.22+ speaks REPLICA/SOURCE; older MySQL and every MariaDB speak SLAVE/MASTER. */
  private get replicaWords(): boolean {
    return this.caps.replicaKeywords;
  }
  get hasSuperReadOnly(): boolean {
    return this.caps.superReadOnly;
  }

  // ---- reading state ----

  /** Server variables the probe needs, as one row with fixed aliases. */
  variablesSql(): string {
    const common =
      '@@server_id AS server_id, @@read_only AS read_only, @@log_bin AS log_bin, @@binlog_format AS binlog_format, @@relay_log_purge AS relay_log_purge';
    if (this.isMariadb) {
      return `SELECT ${common}, @@slave_net_timeout AS net_timeout, @@gtid_strict_mode AS gtid_strict_mode, @@log_slave_updates AS log_replica_updates, @@gtid_binlog_pos AS gtid_binlog, @@gtid_slave_pos AS gtid_applied, @@gtid_binlog_state AS gtid_binlog_state, @@gtid_current_pos AS gtid_current`;
    }
    const updates = this.caps.logReplicaUpdates ? '@@log_replica_updates' : '@@log_slave_updates';
    const netTimeout = this.caps.logReplicaUpdates ? '@@replica_net_timeout' : '@@slave_net_timeout';
    return (
      `SELECT ${common}, ${netTimeout} AS net_timeout, ${updates} AS log_replica_updates, @@global.gtid_executed AS gtid_binlog, @@global.gtid_executed AS gtid_applied, ` +
      '@@server_uuid AS server_uuid, @@global.gtid_mode AS gtid_mode, @@global.enforce_gtid_consistency AS enforce_gtid_consistency' +
      (this.hasSuperReadOnly ? ', @@super_read_only AS super_read_only' : '')
    );
  }

  /** The GTIDs in this server's own binlog, as column `gtid`. */
  binlogGtidSql(): string {
    return this.isMariadb ? 'SELECT @@gtid_binlog_pos AS gtid' : 'SELECT @@global.gtid_executed AS gtid';
  }

  /**
   * Every GTID this server's binlog holds, as column `gtid`: MariaDB's gtid_binlog_state keeps the last one per
   * domain and origin server (what rejoin compares), MySQL's gtid_executed the whole set.
   */
  binlogStateSql(): string {
    return this.isMariadb ? 'SELECT @@gtid_binlog_state AS gtid' : 'SELECT @@global.gtid_executed AS gtid';
  }

  /** The GTIDs replication has applied here, as column `gtid`. */
  appliedGtidSql(): string {
    return this.isMariadb ? 'SELECT @@gtid_slave_pos AS gtid' : 'SELECT @@global.gtid_executed AS gtid';
  }

  /** Everything this server holds, written here or replicated, as column `gtid`. */
  currentGtidSql(): string {
    return this.isMariadb ? 'SELECT @@gtid_current_pos AS gtid' : 'SELECT @@global.gtid_executed AS gtid';
  }

  replicaStatusSql(): string {
    return this.replicaWords ? 'SHOW REPLICA STATUS' : 'SHOW SLAVE STATUS';
  }

  /**
   * Every replication channel of a server, one row each: MariaDB's named connections (multi-source) appear
   * only in SHOW ALL SLAVES STATUS; MySQL's SHOW REPLICA STATUS already lists every channel (undefined here).
   */
  allChannelsSql(): string | undefined {
    return this.isMariadb ? `SHOW ALL ${this.replicaWords ? 'REPLICAS' : 'SLAVES'} STATUS` : undefined;
  }

  binlogStatusSql(): string {
    return this.caps.binaryLogStatus ? 'SHOW BINARY LOG STATUS' : 'SHOW MASTER STATUS';
  }

  /** This server's binlog files, oldest first (column Log_name). */
  binaryLogsSql(): string {
    return 'SHOW BINARY LOGS';
  }

  /**
   * One page of a binlog or relay log file. `from` must be an event's start; `skip` events are skipped from
   * there, so a reader pages on with the last event's position and skip 1 (a relay log's End_log_pos is the
   * old master's, so it cannot say where the next event starts).
   */
  logEventsSql(kind: 'binlog' | 'relay', file: string, from: number, skip: number, limit: number): string {
    const log = kind === 'binlog' ? 'BINLOG' : 'RELAYLOG';
    const page = `FROM ${Math.trunc(from)} LIMIT ${Math.trunc(skip)}, ${Math.trunc(limit)}`;
    return `SHOW ${log} EVENTS IN ${quote(file)} ${page}`;
  }

  /** Age in seconds of the oldest open transaction that has modified rows (column `s`, 0 when none). */
  oldestWriteTransactionSql(): string {
    return (
      'SELECT COALESCE(MAX(TIMESTAMPDIFF(SECOND, trx_started, NOW())), 0) AS s ' +
      'FROM information_schema.INNODB_TRX WHERE trx_rows_modified > 0'
    );
  }

  clientConnectionsSql(): string {
    return (
      'SELECT ID AS id, USER AS user, HOST AS host FROM information_schema.PROCESSLIST WHERE ID <> CONNECTION_ID() ' +
      "AND COMMAND NOT IN ('Binlog Dump', 'Binlog Dump GTID', 'Daemon', 'Slave_IO', 'Slave_SQL', 'Slave_worker') " +
      "AND USER NOT IN ('system user', 'event_scheduler')"
    );
  }

  parseReplicaStatus(row: Row): ReplicaStatus {
    const filters = [
      'Replicate_Do_DB',
      'Replicate_Ignore_DB',
      'Replicate_Do_Table',
      'Replicate_Ignore_Table',
      'Replicate_Wild_Do_Table',
      'Replicate_Wild_Ignore_Table',
      'Replicate_Rewrite_DB',
      'Replicate_Do_Domain_Ids',
      'Replicate_Ignore_Domain_Ids',
      'Replicate_Ignore_Server_Ids',
    ]
      .filter((k) => str(row[k]) !== '')
      .map((k) => `${k}=${str(row[k])}`);
    const behind = col(row, 'Seconds_Behind_Source', 'Seconds_Behind_Master');
    const autoPosition = num(col(row, 'Auto_Position')) === 1;
    const sourceHost = str(col(row, 'Source_Host', 'Master_Host'));
    const sourcePort = num(col(row, 'Source_Port', 'Master_Port'));
    return {
      sourceHost,
      sourcePort,
      sourceAddress: formatAddress({ host: sourceHost, port: sourcePort }),
      sourceServerId: num(col(row, 'Source_Server_Id', 'Master_Server_Id')),
      sourceUuid: str(col(row, 'Source_UUID', 'Master_UUID')),
      sqlDelay: num(col(row, 'SQL_Delay')),
      untilCondition: str(col(row, 'Until_Condition')) || 'None',
      ioRunning: str(col(row, 'Replica_IO_Running', 'Slave_IO_Running')) || 'No',
      sqlRunning: str(col(row, 'Replica_SQL_Running', 'Slave_SQL_Running')) === 'Yes',
      ioState: str(col(row, 'Replica_IO_State', 'Slave_IO_State')),
      sqlState: str(col(row, 'Replica_SQL_Running_State', 'Slave_SQL_Running_State')),
      received: {
        file: str(col(row, 'Source_Log_File', 'Master_Log_File')),
        position: num(col(row, 'Read_Source_Log_Pos', 'Read_Master_Log_Pos')),
      },
      executed: {
        file: str(col(row, 'Relay_Source_Log_File', 'Relay_Master_Log_File')),
        position: num(col(row, 'Exec_Source_Log_Pos', 'Exec_Master_Log_Pos')),
      },
      relayLog: { file: str(row.Relay_Log_File), position: num(row.Relay_Log_Pos) },
      secondsBehind: behind === null || behind === undefined || behind === '' ? null : Number(behind),
      gtidMode: this.isMariadb ? str(row.Using_Gtid) || 'No' : autoPosition ? 'auto' : 'No',
      gtidReceived: str(this.isMariadb ? row.Gtid_IO_Pos : row.Retrieved_Gtid_Set).replace(/\s+/g, ''),
      lastIoError: str(row.Last_IO_Error),
      lastSqlError: str(row.Last_SQL_Error),
      filters,
      ...(str(col(row, 'Source_SSL_Allowed', 'Master_SSL_Allowed')) === 'Yes' ? { tls: channelTls(row) } : {}),
    };
  }

  parseBinlogStatus(row: Row | undefined): Coordinates | undefined {
    if (!row || !row.File) return undefined;
    return { file: str(row.File), position: num(row.Position) };
  }

  // ---- changing state ----

  setReadOnly(on: boolean): string[] {
    if (on) return this.hasSuperReadOnly ? ['SET GLOBAL super_read_only = ON'] : ['SET GLOBAL read_only = ON'];
    return this.hasSuperReadOnly
      ? ['SET GLOBAL super_read_only = OFF', 'SET GLOBAL read_only = OFF']
      : ['SET GLOBAL read_only = OFF'];
  }

  killConnection(id: number): string {
    return `KILL CONNECTION ${Math.trunc(id)}`;
  }

  stopIoThread(): string {
    return this.replicaWords ? 'STOP REPLICA IO_THREAD' : 'STOP SLAVE IO_THREAD';
  }
  startIoThread(): string {
    return this.replicaWords ? 'START REPLICA IO_THREAD' : 'START SLAVE IO_THREAD';
  }
  startSqlThread(): string {
    return this.replicaWords ? 'START REPLICA SQL_THREAD' : 'START SLAVE SQL_THREAD';
  }
  stopReplication(): string {
    return this.replicaWords ? 'STOP REPLICA' : 'STOP SLAVE';
  }
  startReplication(): string {
    return this.replicaWords ? 'START REPLICA' : 'START SLAVE';
  }
  /** Replicate up to and including `gtid`, then stop by itself: equalization must not pass the best replica's end. */
  startReplicationUntilGtid(gtid: string): string {
    if (this.isMariadb) return `START SLAVE UNTIL master_gtid_pos = ${quote(gtid)}`;
    return `${this.startReplication()} UNTIL SQL_AFTER_GTIDS = ${quote(gtid)}`;
  }
  /**
   * Switch to file positioning while keeping the relay log, at the SQL thread's own place in it. MariaDB with
   * MASTER_USE_GTID discards the relay log when a thread starts while both are stopped; naming RELAY_LOG_FILE
   * and RELAY_LOG_POS keeps it, so received-but-unapplied transactions can still be applied.
   */
  keepRelayLogAt(relay: Coordinates): string {
    if (this.isMariadb) {
      return `CHANGE MASTER TO MASTER_USE_GTID = no, RELAY_LOG_FILE = ${quote(relay.file)}, RELAY_LOG_POS = ${Math.trunc(relay.position)}`;
    }
    return `${this.changeTo} ${this.sourceWord}_AUTO_POSITION = 0, RELAY_LOG_FILE = ${quote(relay.file)}, RELAY_LOG_POS = ${Math.trunc(relay.position)}`;
  }

  /**
   * Back to GTID positioning on the same source, once the relay log kept by keepRelayLogAt was applied: the
   * replica is left as it was found (a later run's 'auto' still sees a GTID cluster).
   */
  useGtidPositioning(): string {
    if (this.isMariadb) return 'CHANGE MASTER TO MASTER_USE_GTID = slave_pos';
    return `${this.changeTo} ${this.sourceWord}_AUTO_POSITION = 1`;
  }

  stopSqlThread(): string {
    return this.replicaWords ? 'STOP REPLICA SQL_THREAD' : 'STOP SLAVE SQL_THREAD';
  }

  /** The keepRelayLogAt statement that also lifts a MASTER_DELAY, so the relay log is applied at once. */
  keepRelayLogWithoutDelay(relay: Coordinates): string {
    return `${this.keepRelayLogAt(relay)}, ${this.sourceWord}_DELAY = 0`;
  }

  /** A CHANGE statement that also sets MASTER_DELAY: a delayed replica keeps its delay on its new source. */
  withDelay(change: string, seconds: number): string {
    return seconds > 0 ? `${change}, ${this.sourceWord}_DELAY = ${Math.trunc(seconds)}` : change;
  }

  /**
   * How a replica notices a silent (hung, cut-off) source within `timeoutSec`: the net timeout and a heartbeat
   * at half of it (the heartbeat is a channel setting: it needs replication stopped). For `mmmf check`'s advice.
   */
  shortNetTimeout(timeoutSec: number): string[] {
    const variable = this.caps.logReplicaUpdates ? 'replica_net_timeout' : 'slave_net_timeout';
    return [
      `SET GLOBAL ${variable} = ${Math.trunc(timeoutSec)}`,
      this.stopReplication(),
      `${this.changeTo} ${this.sourceWord}_HEARTBEAT_PERIOD = ${Math.max(1, Math.trunc(timeoutSec / 2))}`,
      this.startReplication(),
    ];
  }

  /** MASTER or SOURCE, as this version spells CHANGE options. */
  private get sourceWord(): 'MASTER' | 'SOURCE' {
    return this.caps.sourceOptions ? 'SOURCE' : 'MASTER';
  }

  resetReplicationAll(): string {
    return this.replicaWords ? 'RESET REPLICA ALL' : 'RESET SLAVE ALL';
  }

  /**
   * Point this server at a new source with GTID positioning. Options not named keep their value (the replica's
   * own MASTER_CONNECT_RETRY, heartbeat, ... are not mmmf's to change). MariaDB replicas continue from gtid_slave_pos;
   * a former master (`formerMaster`) from gtid_current_pos, since its own writes are only in its binlog.
   */
  changeSourceGtid(src: SourceSpec, redact: boolean, formerMaster = false): string {
    const positioning = this.isMariadb
      ? `MASTER_USE_GTID = ${formerMaster ? 'current_pos' : 'slave_pos'}`
      : `${this.sourceWord}_AUTO_POSITION = 1`;
    return `${this.changeSourceTo(src, redact)}, ${positioning}${this.security(src)}`;
  }

  /** CHANGE ... TO the source's host, port, user and password, in this version's words. */
  private changeSourceTo(src: SourceSpec, redact: boolean): string {
    const w = this.sourceWord;
    const pw = quote(redact ? REDACTED : src.password);
    return (
      `${this.changeTo} ${w}_HOST = ${quote(src.host)}, ${w}_PORT = ${src.port}, ${w}_USER = ${quote(src.user)}, ` +
      `${w}_PASSWORD = ${pw}`
    );
  }

  /** CHANGE REPLICATION SOURCE TO (MySQL 8.0.23+) or CHANGE MASTER TO. */
  private get changeTo(): string {
    return this.caps.sourceOptions ? 'CHANGE REPLICATION SOURCE TO' : 'CHANGE MASTER TO';
  }

  /**
   * The channel's TLS (replication.ssl) — or, on MySQL 8.0+ without TLS, GET_SOURCE_PUBLIC_KEY = 1, so a
   * caching_sha2_password replication user can log in before the new source has cached it (error 2061).
   */
  private security(src: SourceSpec): string {
    const w = this.sourceWord;
    const t = src.ssl;
    if (t) {
      const parts = [`${w}_SSL = 1`];
      if (t.ca) parts.push(`${w}_SSL_CA = ${quote(t.ca)}`);
      if (t.cert) parts.push(`${w}_SSL_CERT = ${quote(t.cert)}`);
      if (t.key) parts.push(`${w}_SSL_KEY = ${quote(t.key)}`);
      parts.push(`${w}_SSL_VERIFY_SERVER_CERT = ${t.verifyServerCert === false ? 0 : 1}`);
      return `, ${parts.join(', ')}`;
    }
    if (!this.isMariadb && this.version.major >= 8) return `, GET_${w}_PUBLIC_KEY = 1`;
    return '';
  }

  /**
   * Point this server at a new source by file and position. `at` may hold the printed plan's run-time
   * placeholders ('<file from step N>', <pos from step N>), filled in only when the statement is sent.
   */
  changeSourceFile(src: SourceSpec, at: { file: string; position: number | string }, redact: boolean): string {
    const w = this.sourceWord;
    const noGtid = this.isMariadb ? 'MASTER_USE_GTID = no' : `${w}_AUTO_POSITION = 0`;
    const positioning = `${w}_LOG_FILE = ${quote(at.file)}, ${w}_LOG_POS = ${positionText(at.position)}, ${noGtid}`;
    return `${this.changeSourceTo(src, redact)}, ${positioning}${this.security(src)}`;
  }

  /** Replicate up to exactly this position of the source's binlog, then stop by itself. */
  startReplicationUntilPosition(at: { file: string; position: number | string }): string {
    const w = this.sourceWord;
    const pos = positionText(at.position);
    return `${this.startReplication()} UNTIL ${w}_LOG_FILE = ${quote(at.file)}, ${w}_LOG_POS = ${pos}`;
  }

  /**
   * Blocks until the SQL thread has executed up to this position of its source's binlog, or `seconds` pass.
   * Column `r`: events waited for (>= 0) = reached, -1 = timeout, NULL = the SQL thread is not running.
   */
  waitForPositionSql(at: { file: string; position: number | string }, seconds: number): string {
    const fn = this.caps.sourcePosWait ? 'SOURCE_POS_WAIT' : 'MASTER_POS_WAIT';
    const pos = positionText(at.position);
    return `SELECT ${fn}(${quote(at.file)}, ${pos}, ${seconds}) AS r`;
  }

  /** Blocks until this server has applied `gtid` or `seconds` pass. Answers one column `r`: 0 = reached. */
  waitForGtidSql(gtid: string, seconds: number): string {
    if (this.isMariadb) return `SELECT MASTER_GTID_WAIT(${quote(gtid)}, ${seconds}) AS r`;
    return `SELECT WAIT_FOR_EXECUTED_GTID_SET(${quote(gtid)}, ${seconds}) AS r`;
  }
}

/**
 * Advisory run lock, spelled the same by every flavor and version (so it can be taken before the probe
 * knows the version). Column `r`: 1 = got it, 0 = another connection holds it.
 */
/**
 * A server's identity as it reports it, the same on every flavor and version (columns id, hostname, port): the
 * cluster is known by its servers, not by the addresses a config gives them.
 */
export const identitySql = 'SELECT @@server_id AS id, @@hostname AS hostname, @@port AS port';

export const runLockSql = {
  acquire: (name: string, waitSeconds = 0) => `SELECT GET_LOCK(${quote(name)}, ${Math.trunc(waitSeconds)}) AS r`,
  /** Column `holder`: the connection id holding it, or NULL. */
  holder: (name: string) => `SELECT IS_USED_LOCK(${quote(name)}) AS holder`,
  connectionInfo: (id: number) =>
    'SELECT USER AS user, HOST AS host, TIME AS seconds FROM information_schema.PROCESSLIST ' +
    `WHERE ID = ${Math.trunc(id)}`,
};

export function dialectFor(version: ServerVersion): Dialect {
  return new Dialect(version);
}

/** A TLS channel's settings as the status row shows them (empty values left out). */
function channelTls(row: Row): Tls {
  const file = (a: string, b: string) => str(col(row, a, b)) || undefined;
  const ca = file('Source_SSL_CA_File', 'Master_SSL_CA_File');
  const cert = file('Source_SSL_Cert', 'Master_SSL_Cert');
  const key = file('Source_SSL_Key', 'Master_SSL_Key');
  const verify = str(col(row, 'Source_SSL_Verify_Server_Cert', 'Master_SSL_Verify_Server_Cert'));
  return {
    ...(ca ? { ca } : {}),
    ...(cert ? { cert } : {}),
    ...(key ? { key } : {}),
    verifyServerCert: verify === 'Yes',
  };
}

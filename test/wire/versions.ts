// What each server version accepts and answers, as documented by the vendors (MySQL reference manual and
// release notes 5.7–9.x; MariaDB knowledge base 10.4–11.x). The fake server enforces this grammar
// independently of mmmf's dialect: a statement a version does not know gets that version's real error.
import type { SemiSyncProfile } from './fake-semi-sync.js';

export interface VersionProfile {
  label: string;
  flavor: 'mysql' | 'mariadb';
  /** VERSION() and @@version_comment as the server reports them. */
  version: string;
  comment: string;
  /** SHOW SLAVE STATUS / SHOW REPLICA STATUS: which spellings exist. */
  slaveWords: boolean;
  replicaWords: boolean;
  /** CHANGE MASTER TO / CHANGE REPLICATION SOURCE TO. */
  changeMaster: boolean;
  changeSource: boolean;
  /** SHOW MASTER STATUS / SHOW BINARY LOG STATUS. */
  showMasterStatus: boolean;
  showBinaryLogStatus: boolean;
  masterPosWait: boolean;
  sourcePosWait: boolean;
  /** START ... UNTIL MASTER_LOG_FILE / SOURCE_LOG_FILE. */
  untilMaster: boolean;
  untilSource: boolean;
  /** System variables this version has (others: ER_UNKNOWN_SYSTEM_VARIABLE). */
  variables: string[];
  /** Column names of SHOW SLAVE/REPLICA STATUS, in the server's order. */
  replicaStatusColumns: string[];
  /** 8.0.22–8.3: SHOW SLAVE STATUS (the deprecated spelling) keeps the Master_* column names. */
  slaveStatusColumns?: string[];
  /** Column names of SHOW MASTER / BINARY LOG STATUS. */
  binlogStatusColumns: string[];
  /** Event type names in SHOW BINLOG EVENTS. */
  events: 'mysql' | 'mariadb';
  /** Semi-sync: built in (MariaDB 10.3.3+), or the plugins this version ships (MySQL). */
  semiSync: SemiSyncProfile;
}

/** SHOW SLAVE STATUS up to Master_Server_Id: the same names in the same order in MySQL 5.7–8.x and MariaDB. */
const SLAVE_STATUS_COMMON = [
  'Slave_IO_State',
  'Master_Host',
  'Master_User',
  'Master_Port',
  'Connect_Retry',
  'Master_Log_File',
  'Read_Master_Log_Pos',
  'Relay_Log_File',
  'Relay_Log_Pos',
  'Relay_Master_Log_File',
  'Slave_IO_Running',
  'Slave_SQL_Running',
  'Replicate_Do_DB',
  'Replicate_Ignore_DB',
  'Replicate_Do_Table',
  'Replicate_Ignore_Table',
  'Replicate_Wild_Do_Table',
  'Replicate_Wild_Ignore_Table',
  'Last_Errno',
  'Last_Error',
  'Skip_Counter',
  'Exec_Master_Log_Pos',
  'Relay_Log_Space',
  'Until_Condition',
  'Until_Log_File',
  'Until_Log_Pos',
  'Master_SSL_Allowed',
  'Master_SSL_CA_File',
  'Master_SSL_CA_Path',
  'Master_SSL_Cert',
  'Master_SSL_Cipher',
  'Master_SSL_Key',
  'Seconds_Behind_Master',
  'Master_SSL_Verify_Server_Cert',
  'Last_IO_Errno',
  'Last_IO_Error',
  'Last_SQL_Errno',
  'Last_SQL_Error',
  'Replicate_Ignore_Server_Ids',
  'Master_Server_Id',
];
const MYSQL_SLAVE_COLUMNS_57 = [
  ...SLAVE_STATUS_COMMON,
  'Master_UUID',
  'Master_Info_File',
  'SQL_Delay',
  'SQL_Remaining_Delay',
  'Slave_SQL_Running_State',
  'Master_Retry_Count',
  'Master_Bind',
  'Last_IO_Error_Timestamp',
  'Last_SQL_Error_Timestamp',
  'Master_SSL_Crl',
  'Master_SSL_Crlpath',
  'Retrieved_Gtid_Set',
  'Executed_Gtid_Set',
  'Auto_Position',
  'Replicate_Rewrite_DB',
  'Channel_Name',
  'Master_TLS_Version',
];
const MYSQL_SLAVE_COLUMNS_80 = [
  ...MYSQL_SLAVE_COLUMNS_57,
  'Master_public_key_path',
  'Get_master_public_key',
  'Network_Namespace',
];
/** MySQL 8.0.22 renamed Master/Slave to Source/Replica in SHOW REPLICA STATUS (SHOW SLAVE STATUS keeps the old names). */
const MYSQL_REPLICA_COLUMNS = MYSQL_SLAVE_COLUMNS_80.map((c) =>
  c
    .replace('Slave_IO_State', 'Replica_IO_State')
    .replace('Slave_IO_Running', 'Replica_IO_Running')
    .replace('Slave_SQL_Running_State', 'Replica_SQL_Running_State')
    .replace('Slave_SQL_Running', 'Replica_SQL_Running')
    .replace('Relay_Master_Log_File', 'Relay_Source_Log_File')
    .replace('Read_Master_Log_Pos', 'Read_Source_Log_Pos')
    .replace('Exec_Master_Log_Pos', 'Exec_Source_Log_Pos')
    .replace('Seconds_Behind_Master', 'Seconds_Behind_Source')
    .replace('Get_master_public_key', 'Get_Source_public_key')
    .replace('Master_public_key_path', 'Source_public_key_path')
    .replace(/^Master_/, 'Source_'),
);

/** Recorded from MariaDB 10.11.19 here (SHOW SLAVE STATUS \G); 10.4 lacks the last column. MariaDB keeps these names under SHOW REPLICA STATUS. */
const MARIADB_COLUMNS_1011 = [
  ...SLAVE_STATUS_COMMON,
  'Master_SSL_Crl',
  'Master_SSL_Crlpath',
  'Using_Gtid',
  'Gtid_IO_Pos',
  'Replicate_Do_Domain_Ids',
  'Replicate_Ignore_Domain_Ids',
  'Parallel_Mode',
  'SQL_Delay',
  'SQL_Remaining_Delay',
  'Slave_SQL_Running_State',
  'Slave_DDL_Groups',
  'Slave_Non_Transactional_Groups',
  'Slave_Transactional_Groups',
  'Replicate_Rewrite_DB',
];

const COMMON_VARS = [
  'server_id',
  'read_only',
  'log_bin',
  'binlog_format',
  'relay_log_purge',
  'version_comment',
  'log_slave_updates',
  'slave_net_timeout',
  'datadir',
  'log_bin_basename',
  'log_bin_index',
];
const MYSQL_VARS = [
  ...COMMON_VARS,
  'super_read_only',
  'gtid_executed',
  'gtid_mode',
  'enforce_gtid_consistency',
  'server_uuid',
];
const MARIADB_VARS = [
  ...COMMON_VARS,
  'gtid_strict_mode',
  'gtid_binlog_pos',
  'gtid_slave_pos',
  'gtid_current_pos',
  'gtid_binlog_state',
];
const BINLOG_STATUS_MYSQL = ['File', 'Position', 'Binlog_Do_DB', 'Binlog_Ignore_DB', 'Executed_Gtid_Set'];
const BINLOG_STATUS_MARIADB = ['File', 'Position', 'Binlog_Do_DB', 'Binlog_Ignore_DB'];

/** Semi-sync plugins: the old spelling (5.5–8.4), and since 8.0.26 source/replica (the only ones from 9.0). */
const OLD_PLUGINS = ['rpl_semi_sync_master', 'rpl_semi_sync_slave'];
const NEW_PLUGINS = ['rpl_semi_sync_source', 'rpl_semi_sync_replica'];

const mysql = (label: string, version: string, o: Partial<VersionProfile>): VersionProfile => ({
  label,
  flavor: 'mysql',
  version,
  comment: 'MySQL Community Server - GPL',
  slaveWords: true,
  replicaWords: false,
  changeMaster: true,
  changeSource: false,
  showMasterStatus: true,
  showBinaryLogStatus: false,
  masterPosWait: true,
  sourcePosWait: false,
  untilMaster: true,
  untilSource: false,
  variables: MYSQL_VARS,
  replicaStatusColumns: MYSQL_SLAVE_COLUMNS_80,
  binlogStatusColumns: BINLOG_STATUS_MYSQL,
  events: 'mysql',
  semiSync: { builtIn: false, plugins: OLD_PLUGINS },
  ...o,
});
const mariadb = (label: string, version: string, o: Partial<VersionProfile>): VersionProfile => ({
  label,
  flavor: 'mariadb',
  version,
  comment: 'mariadb.org binary distribution',
  slaveWords: true,
  replicaWords: true,
  changeMaster: true,
  changeSource: false,
  showMasterStatus: true,
  showBinaryLogStatus: false,
  masterPosWait: true,
  sourcePosWait: false,
  untilMaster: true,
  untilSource: false,
  variables: MARIADB_VARS,
  replicaStatusColumns: MARIADB_COLUMNS_1011,
  binlogStatusColumns: BINLOG_STATUS_MARIADB,
  events: 'mariadb',
  semiSync: { builtIn: true, plugins: [] },
  ...o,
});

/** One profile per row of the support matrix. */
export const VERSIONS: VersionProfile[] = [
  mysql('MySQL 5.7', '5.7.44-log', { replicaStatusColumns: MYSQL_SLAVE_COLUMNS_57 }),
  mysql('MySQL 8.0 before 8.0.22', '8.0.21', {}),
  // 8.0.22: REPLICA words and Source_* columns; CHANGE REPLICATION SOURCE TO only from 8.0.23.
  mysql('MySQL 8.0.22', '8.0.22', {
    replicaWords: true,
    replicaStatusColumns: MYSQL_REPLICA_COLUMNS,
    slaveStatusColumns: MYSQL_SLAVE_COLUMNS_80,
  }),
  mysql('MySQL 8.0.23–8.0.25', '8.0.25', {
    replicaWords: true,
    changeSource: true,
    untilSource: true,
    replicaStatusColumns: MYSQL_REPLICA_COLUMNS,
    slaveStatusColumns: MYSQL_SLAVE_COLUMNS_80,
  }),
  mysql('MySQL 8.0.26+', '8.0.40', {
    semiSync: { builtIn: false, plugins: [...OLD_PLUGINS, ...NEW_PLUGINS] },
    replicaWords: true,
    changeSource: true,
    untilSource: true,
    sourcePosWait: true,
    variables: [...MYSQL_VARS, 'log_replica_updates', 'replica_net_timeout'],
    replicaStatusColumns: MYSQL_REPLICA_COLUMNS,
    slaveStatusColumns: MYSQL_SLAVE_COLUMNS_80,
  }),
  // 8.4 removed SHOW SLAVE STATUS, START/STOP/RESET SLAVE, CHANGE MASTER, SHOW MASTER STATUS and the MASTER_* options.
  mysql('MySQL 8.4 LTS', '8.4.3', {
    semiSync: { builtIn: false, plugins: [...OLD_PLUGINS, ...NEW_PLUGINS] }, // the old ones deprecated
    slaveWords: false,
    replicaWords: true,
    changeMaster: false,
    changeSource: true,
    showMasterStatus: false,
    showBinaryLogStatus: true,
    masterPosWait: true, // deprecated, still there
    sourcePosWait: true,
    untilMaster: false,
    untilSource: true,
    variables: [...MYSQL_VARS, 'log_replica_updates', 'replica_net_timeout'],
    replicaStatusColumns: MYSQL_REPLICA_COLUMNS,
  }),
  mysql('MySQL 9.x', '9.1.0', {
    semiSync: { builtIn: false, plugins: NEW_PLUGINS }, // 9.0 removed rpl_semi_sync_master/_slave
    slaveWords: false,
    replicaWords: true,
    changeMaster: false,
    changeSource: true,
    showMasterStatus: false,
    showBinaryLogStatus: true,
    masterPosWait: true, // deprecated, still there
    sourcePosWait: true,
    untilMaster: false,
    untilSource: true,
    variables: [...MYSQL_VARS, 'log_replica_updates', 'replica_net_timeout'],
    replicaStatusColumns: MYSQL_REPLICA_COLUMNS,
  }),
  // MariaDB 10.4: no SHOW REPLICA STATUS / START REPLICA (10.5.1).
  mariadb('MariaDB 10.4', '10.4.34-MariaDB-log', {
    replicaWords: false,
    replicaStatusColumns: MARIADB_COLUMNS_1011.slice(0, -1),
  }),
  mariadb('MariaDB 10.11', '10.11.19-MariaDB-0+deb12u1-log', {}),
  mariadb('MariaDB 11.x', '11.4.4-MariaDB-log', {}),
];

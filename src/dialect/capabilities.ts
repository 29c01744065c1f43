import type { ServerVersion } from '../domain/server-state.js';

/**
 * What a server's version can say, computed once per server (MySQL's capability changes by version; MariaDB has
 * none of them: it kept the SLAVE/MASTER words and has no super_read_only). Each flag names the version that
 * brought it, from the MySQL release notes.
 *
 * @example capabilitiesOf({ flavor: 'mysql', major: 8, minor: 0, patch: 23, text: '8.0.23' })
 *   // { replicaKeywords: true, sourceOptions: true, sourcePosWait: false, ... }
 */
export interface Capabilities {
  /** SHOW REPLICA STATUS, START/STOP/RESET REPLICA (MySQL 8.0.22). */
  replicaKeywords: boolean;
  /** CHANGE REPLICATION SOURCE TO SOURCE_* and UNTIL SOURCE_LOG_FILE (MySQL 8.0.23). */
  sourceOptions: boolean;
  /** SOURCE_POS_WAIT (MySQL 8.0.26). */
  sourcePosWait: boolean;
  /** @@log_replica_updates (MySQL 8.0.26). */
  logReplicaUpdates: boolean;
  /** SHOW BINARY LOG STATUS (MySQL 8.2). */
  binaryLogStatus: boolean;
  /** super_read_only, which also stops privileged users (MySQL 5.7). */
  superReadOnly: boolean;
  /** Semi-sync built into the server, both sides' variables always there (MariaDB 10.3.3); else plugins. */
  semiSyncBuiltIn: boolean;
  /** Semi-sync plugins rpl_semi_sync_source / _replica, spelled source/replica (MySQL 8.0.26; 9.0 dropped the old). */
  semiSyncSourcePlugins: boolean;
}

export function atLeast(v: ServerVersion, major: number, minor: number, patch = 0): boolean {
  if (v.major !== major) return v.major > major;
  if (v.minor !== minor) return v.minor > minor;
  return v.patch >= patch;
}

export function capabilitiesOf(v: ServerVersion): Capabilities {
  const mysql = (major: number, minor: number, patch = 0) => v.flavor === 'mysql' && atLeast(v, major, minor, patch);
  return {
    replicaKeywords: mysql(8, 0, 22),
    sourceOptions: mysql(8, 0, 23),
    sourcePosWait: mysql(8, 0, 26),
    logReplicaUpdates: mysql(8, 0, 26),
    binaryLogStatus: mysql(8, 2),
    superReadOnly: mysql(5, 7),
    semiSyncBuiltIn: v.flavor === 'mariadb' && atLeast(v, 10, 3, 3),
    semiSyncSourcePlugins: mysql(8, 0, 26),
  };
}

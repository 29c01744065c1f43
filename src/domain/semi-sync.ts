/**
 * A server's semi-synchronous replication as probed, per side. A side is absent when its plugin is not loaded
 * (MySQL; MariaDB before 10.3.3): its variables then do not exist. MariaDB 10.3.3+ has both sides built in.
 *
 * @example { builtIn: true, master: { names: 'master', enabled: true, timeoutMs: 3000, waitPoint: 'AFTER_SYNC',
 *   waitNoReplica: true, status: true, clients: 2 }, replica: { names: 'slave', enabled: false, status: false } }
 */
export interface SemiSyncState {
  /** Part of the server (MariaDB 10.3.3+): nothing to install. */
  builtIn: boolean;
  master?: SemiSyncMasterSide;
  replica?: SemiSyncReplicaSide;
}

/** The master side (rpl_semi_sync_master_* / MySQL 8.0.26+ plugin rpl_semi_sync_source: rpl_semi_sync_source_*). */
export interface SemiSyncMasterSide {
  /** How its variables are spelled: which plugin is loaded. */
  names: 'master' | 'source';
  enabled: boolean;
  /** How long a commit waits for an acknowledgement before the master falls back to asynchronous. */
  timeoutMs?: number;
  /** AFTER_SYNC (the commit waits before it is visible) or AFTER_COMMIT. */
  waitPoint?: string;
  /** Commits wait (up to the timeout) even while no replica is connected. */
  waitNoReplica?: boolean;
  /** MySQL: how many replicas must acknowledge each commit (MariaDB: always 1). */
  waitForCount?: number;
  /** Rpl_semi_sync_master_status: ON while it really waits for acknowledgements (OFF after a timeout). */
  status: boolean;
  /** Rpl_semi_sync_master_clients: replicas connected with their side on. */
  clients: number;
}

/** The replica side (rpl_semi_sync_slave_* / MySQL 8.0.26+ plugin rpl_semi_sync_replica). */
export interface SemiSyncReplicaSide {
  names: 'slave' | 'replica';
  /** Takes effect when the IO thread (re)starts. */
  enabled: boolean;
  /** Rpl_semi_sync_slave_status: its IO thread is connected to a semi-sync master and acknowledges. */
  status: boolean;
}

/** How many replicas a master needs to acknowledge each commit. */
export const acksNeeded = (m: SemiSyncMasterSide): number => Math.max(1, m.waitForCount ?? 1);

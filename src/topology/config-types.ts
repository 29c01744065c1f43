import type { PositioningMode } from '../domain/positioning.js';
import type { Tls } from '../domain/tls.js';

/** How replicas are positioned on their new source: a mode, or 'auto' (GTID when every replica already uses it). */
export type Positioning = PositioningMode | 'auto';

/** Connection settings of one server. Example: `{ host: '10.0.0.2', port: 3306, user: 'mmmf', password: 's3cret' }` */
export interface HostConfig {
  /** Address replicas use to reach this server, and mmmf too unless `socket` is set. */
  host: string;
  port?: number;
  /** Admin account mmmf logs in with (needs SUPER or the flavor's replication admin privileges). */
  user?: string;
  password?: string;
  /** Unix socket for mmmf's own connection (replicas still use host:port). */
  socket?: string;
  /** How to reach this host over SSH (for the VIP), when it differs from the shared `ssh` settings. */
  ssh?: SshConfig & { host?: string };
  /** The interface the writer VIP lives on here, when it differs from `vip.interface`. */
  vipInterface?: string;
  /** TLS for mmmf's own connection to this server (overrides `defaults.ssl`). */
  ssl?: ClientTls;
  /**
   * The folder holding this server's binlog files, on its own host (MHA's master_binlog_dir), for salvaging
   * them over SSH when it dies. Default: where the server said its binlogs were when mmmf last saw it.
   */
  binlogDir?: string;
}

/**
 * TLS for mmmf's own connections: file paths relative to the config file. With it, TLS is required (there
 * is no opportunistic mode: anyone on the path could force a downgrade); the server's certificate is verified
 * unless `verifyServerCert: false`.
 *
 * @example { ca: 'tls/ca.pem', cert: 'tls/mmmf.pem', key: 'tls/mmmf.key', verifyServerCert: true }
 */
export type ClientTls = Tls;

/** TLS for replication channels: file paths on each replica's own host, read by the server. */
export type ReplicationTls = Tls;

/**
 * How mmmf reaches a host over SSH.
 *
 * @example { user: 'root', port: 22, identityFile: '/etc/mmmf/id_ed25519', options: ['StrictHostKeyChecking=yes'] }
 */
export interface SshConfig {
  user?: string;
  port?: number;
  identityFile?: string;
  /** Extra `ssh -o Name=value` options. */
  options?: string[];
}

/** Bounds on every wait, in seconds (defaults: CONFIG_DEFAULTS in config-defaults.ts). */
export interface Timeouts {
  /** Connecting to a server while probing. */
  connect?: number;
  /** Waiting for a replica's SQL thread to apply its relay log. */
  drain?: number;
  /** Waiting for a lagging replica to catch up with the best one. */
  equalize?: number;
  /** Waiting for repointed replicas to run and catch up with the new master. */
  verify?: number;
  /** A hook command. */
  hook?: number;
}

/**
 * The topology file (`mmmf.config.ts`, `.js`, `.mjs` or `.json`): every server of the cluster, master and
 * replicas alike — the current master is discovered, never declared.
 *
 * @example
 * export default {
 *   replication: { user: 'repl', password: 'repl' },
 *   defaults: { user: 'root', password: '' },
 *   hosts: { test1: { host: '127.0.0.1', port: 33001 }, test2: { host: '127.0.0.1', port: 33002 } },
 * } satisfies MmmfConfig;
 */
export interface MmmfConfig {
  /**
   * The account replicas use to connect to their source (must exist on every candidate). `ssl`: every channel
   * mmmf creates or repoints uses TLS (MASTER_SSL / SOURCE_SSL options); required when a channel has TLS now.
   */
  replication: { user: string; password: string; ssl?: ReplicationTls };
  /** Connection settings shared by every host; a host's own settings win. */
  defaults?: Partial<Omit<HostConfig, 'host' | 'socket'>>;
  hosts: Record<string, HostConfig>;
  timeouts?: Timeouts;
  /**
   * How replicas are positioned on their new source (default 'auto'; every default is in CONFIG_DEFAULTS):
   * 'gtid' by GTID; 'file' by binlog file and position, mapped exactly through the best replica's relay log;
   * 'auto' uses GTID when every replica already replicates with it, else file. Overridden per run with
   * --positioning.
   */
  positioning?: Positioning;
  /** Where mmmf keeps its lock file and the record of the last failover (relative to the config file). */
  stateDir?: string;
  /** Refuse a failover when the last one on this cluster finished less than this many minutes ago (0 = off). */
  antiFlapMinutes?: number;
  /**
   * `--if-dead`: for how many seconds every signal must agree that the master is dead (mmmf cannot reach it,
   * its replicas lost it and receive nothing, its host runs no live mysqld when SSH is configured).
   */
  deadConfirmSeconds?: number;
  /**
   * Commands run around a real failover (never a dry run): a string runs through /bin/sh, an array runs
   * without a shell. stdin: the plan (and the result) as JSON; env: MMMF_OLD_MASTER, MMMF_NEW_MASTER, ...
   * A failing preFailover aborts before any change.
   */
  hooks?: Hooks;
  /**
   * The writer VIP (MMM's exclusive writer role): after a failover or switchover it sits on the new master only.
   * `readers` (MMM's balanced reader role): each on exactly one replica that replicates without error and lags
   * less than `readerMaxLagSeconds`, spread evenly; on the writer only when no replica qualifies.
   */
  vip?: { address: string; interface: string; readers?: string[]; readerMaxLagSeconds?: number };
  ssh?: SshConfig;
  /** Limits a planned switchover checks before it blocks writes: seconds of lag, age of a write transaction. */
  switchover?: { maxLagSeconds?: number; maxTransactionSeconds?: number };
  /**
   * Who `--failover-to auto` may promote, in priority order (exact host names, never patterns); default: every
   * replica, in config order. Ties in what they received go to the earlier one.
   */
  candidates?: string[];
  /** Never promoted by `--failover-to auto`; such a replica can still be the source the target catches up from. */
  neverPromote?: string[];
  /** Append every statement sent and every answer here, timestamped, secrets redacted (relative to the config file). */
  logFile?: string;
  /**
   * The cluster's name: its lock, journal, anti-flap and offline records are kept under it (required with
   * `coordination`). Without it, the cluster is known by its servers (hostname:port#server_id as they report
   * them), so configs of one cluster that differ by a host still share one lock and one journal.
   */
  cluster?: string;
  /** A journal of an unfinished run older than this is not resumed by itself (--resume or --abort). Default 60. */
  journalMaxAgeMinutes?: number;
  /** Several monitor hosts: their lock, journal and records in etcd, the master published there for proxies. */
  coordination?: { etcd: EtcdConfig };
  /**
   * Semi-synchronous replication across a failover, switchover and rejoin (`true` = `{ enabled: true }`).
   * Without it, mmmf carries what the old master ran.
   */
  semiSync?: boolean | SemiSyncConfig;
  /**
   * A failover whose old master's database is dead but whose host answers over SSH first applies, to the best
   * replica, the transactions only the old master's binlog holds (on whenever SSH is configured for that
   * host). `false` turns it off; `maxBytes` bounds how much of the binlog is read (default 256 MiB).
   */
  salvage?: false | { maxBytes?: number };
}

/**
 * Where several monitor hosts keep their shared state. Example:
 * `{ endpoints: ['etcd1:2379', 'etcd2:2379', 'etcd3:2379'], tls: { ca: 'etcd/ca.pem', cert: 'etcd/mon.pem', key: 'etcd/mon.key' } }`
 */
export interface EtcdConfig {
  endpoints: string[];
  /** Key prefix, default '/mmmf'. */
  prefix?: string;
  /** PEM files (relative to the config). With cert and key the monitor authenticates by certificate. */
  tls?: { ca: string; cert?: string; key?: string };
  username?: string;
  password?: string;
  /** The run lock's lease: a dead monitor's lock frees itself after this long. Default 15. */
  lockTtlSeconds?: number;
  /** Deadline of every etcd request. Default 3000. */
  requestTimeoutMs?: number;
  /** Also publish the master as orchestrator does (`mysql/master/<cluster>` = host:port, `/hostname`, `/port`). */
  publishOrchestratorKeys?: boolean;
}

/**
 * How mmmf carries semi-synchronous replication (README, Semi-synchronous replication).
 *
 * @example { enabled: true, timeoutMs: 10000, waitPoint: 'AFTER_SYNC', waitForAck: true, installPlugins: false }
 */
export interface SemiSyncConfig {
  /**
   * true: the new master always runs it; false: mmmf never touches semi-sync settings; absent: as the old master
   * ran it (when it does not answer: as its replicas' side says).
   */
  enabled?: boolean;
  /** The new master's timeout in ms before it falls back to asynchronous. Default: the old master's, else its own. */
  timeoutMs?: number;
  /** When a commit waits for the acknowledgement. Default: the old master's, else the new master's own. */
  waitPoint?: 'AFTER_SYNC' | 'AFTER_COMMIT';
  /** Writes open only once a replica that acknowledges is connected (default true); false: open at once. */
  waitForAck?: boolean;
  /** INSTALL PLUGIN where a side's plugin is missing (MySQL). Default false: refused, naming the statement. */
  installPlugins?: boolean;
}

/** `semiSync` with its defaults applied. `enabled: 'auto'`: as the old master ran it. */
export interface ResolvedSemiSync {
  enabled: boolean | 'auto';
  timeoutMs?: number;
  waitPoint?: 'AFTER_SYNC' | 'AFTER_COMMIT';
  waitForAck: boolean;
  installPlugins: boolean;
}

export type HookCommand = string | string[];
export interface Hooks {
  preFailover?: HookCommand;
  postFailover?: HookCommand;
  onFailure?: HookCommand;
  /** Run when the old master cannot be fenced over SQL (it does not answer): e.g. power it off. */
  fence?: HookCommand;
}

/** A host after defaults were applied: everything mmmf needs to connect. */
export interface ResolvedHost {
  name: string;
  host: string;
  port: number;
  user: string;
  password: string;
  socket?: string;
  ssh: { host: string; user: string; port: number; identityFile?: string; options: string[] };
  vipInterface?: string;
  /** TLS for mmmf's connection, paths resolved against the config's folder. */
  ssl?: ClientTls;
  /** Where its binlog files are on its host (absolute), when configured. */
  binlogDir?: string;
}

export interface ResolvedConfig {
  replication: { user: string; password: string; ssl?: ReplicationTls };
  hosts: ResolvedHost[];
  timeouts: Required<Timeouts>;
  positioning: Positioning;
  stateDir: string;
  antiFlapMinutes: number;
  deadConfirmSeconds: number;
  /** SSH is configured (`ssh`, a host's `ssh` or a VIP): `--if-dead` asks the master's host too. */
  sshConfigured: boolean;
  hooks: Hooks;
  logFile?: string;
  switchover: { maxLagSeconds: number; maxTransactionSeconds: number };
  /** `--failover-to auto` chooses among these, in this priority order ([] = every replica, config order). */
  candidates: string[];
  /** Never promoted by `--failover-to auto` (they may still be the source others catch up from). */
  neverPromote: string[];
  vip?: { address: string; interface: string; readers: string[]; readerMaxLagSeconds: number };
  /** Absent: the defaults (SEMI_SYNC_DEFAULTS: as the old master ran it, writes wait for an acknowledging replica). */
  semiSync?: ResolvedSemiSync;
  /**
   * Salvaging a dead master's binlog over SSH (absent: `salvage: false`). `hosts`: those SSH is configured for
   * (`ssh`, a VIP, or the host's own `ssh` or `binlogDir`), the only ones whose binlog is ever read.
   */
  salvage?: { maxBytes: number; hosts: string[] };
  /** Where the config was loaded from, for messages. */
  source: string;
  cluster?: string;
  journalMaxAgeMinutes: number;
  coordination?: { etcd: EtcdConfig };
}

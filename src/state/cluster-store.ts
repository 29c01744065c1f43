/**
 * Where a cluster's coordination state lives, behind one interface with two backends: local files in the
 * private state folder (one monitor host, the default) and etcd (`coordination.etcd`: several monitor hosts).
 *
 * What it holds, per cluster: the run lock (who is acting, since when, and a fencing token), the journal of the
 * run in progress (so a run killed half-way can be resumed, from any monitor host with etcd), the anti-flap
 * record, the hosts set offline, the published master and the history of finished runs.
 *
 * Every method is bounded in time (a request timeout), and an unreachable store is an error, never a silent
 * fallback: with coordination configured, a run that cannot reach etcd changes nothing.
 */

/** Who holds (or held) a cluster's lock. Example: `{ runId: 'k3x...', host: 'mon2', pid: 4711, command: 'mmmf --failover-to auto', started: '2026-12-02T04:00:00.000Z' }` */
export interface RunHolder {
  runId: string;
  host: string;
  pid: number;
  command: string;
  started: string;
}

/**
 * One line of a run's journal: JSON with a `type` ('start', 'begin', 'result', 'checkpoint', 'end'). The store
 * keeps records in order and does not interpret them, except that a run whose last record is `end` is finished.
 */
export interface JournalLine {
  type: string;
  [key: string]: unknown;
}

/** What the last failover did (anti-flap). Example: `{ finished: '2026-12-02T04:01:00.000Z', target: 'db2', ok: true }` */
export interface LastFailover {
  finished: string;
  target: string;
  ok: boolean;
}

/** The master as published for proxies. Example: `{ name: 'db2', host: '10.0.0.2', port: 3306, epoch: '812', at: '...' }` */
export interface PublishedMaster {
  name: string;
  host: string;
  port: number;
  /** The epoch (fencing token) of the run that published it. */
  epoch: string;
  at: string;
}

/**
 * What a run read before registering. `revision`s are opaque: registering fails when the run or anti-flap record
 * changed since they were read (another monitor acted in between).
 */
export interface StoreSnapshot {
  /** The current lock holder, with its epoch; absent when nobody holds the lock (or its lease expired). */
  holder?: RunHolder & { epoch: string; step?: number };
  /** The journal of the latest run that is not finished (no `end` record), if any. */
  run?: { lines: JournalLine[]; revision: string };
  /** The revision of the run record as read ('0' when absent), compared when registering. */
  runRevision: string;
  antiFlap?: LastFailover;
  /** The revision of the anti-flap record as read ('0' when absent). */
  antiFlapRevision: string;
  master?: PublishedMaster;
}

/** A lock this run holds. Every write is guarded by the epoch: a run that lost its lock writes nothing. */
export interface StoreLock {
  /** The fencing token: etcd's create revision of the lock key (files: a fresh id). */
  readonly epoch: string;
  /**
   * Before each step: throws {@link LockLostError} when the lock is no longer this run's, or its lease will not
   * stay valid for `budgetMs` more by this process's own monotonic clock (etcd notices an expired lease late).
   */
  check(budgetMs: number): Promise<void>;
  /** Appends to this run's journal (the first line is the `start` record); guarded by the epoch. */
  append(line: JournalLine): Promise<void>;
  /** Appends `end`, and moves the journal to the history (`history/<epoch>`): the run is no longer unfinished. */
  finish(line: JournalLine): Promise<void>;
  /** Which step the holder is at, for another monitor's refusal message. */
  setStep(step: number): Promise<void>;
  recordFailover(last: LastFailover): Promise<void>;
  publishMaster(master: PublishedMaster): Promise<void>;
  writeOffline(names: string[]): Promise<void>;
  /** Gives the lock up (the journal stays: a run that did not finish can be resumed). */
  release(): Promise<void>;
}

export type RegisterOutcome =
  { ok: true; lock: StoreLock } | { ok: false; holder?: StoreSnapshot['holder']; why: string };

export interface ClusterStore {
  readonly kind: 'files' | 'etcd';
  /** Where the state lives, for messages: a folder, or the etcd endpoints and key prefix. */
  readonly where: string;
  read(): Promise<StoreSnapshot>;
  /**
   * Registers this run in one step: the lock is free (or its holder's lease expired), and the run and anti-flap
   * records are as `seen` read them. Exactly one of several monitors doing this at the same moment succeeds.
   */
  register(holder: RunHolder, seen: StoreSnapshot): Promise<RegisterOutcome>;
  readOffline(): Promise<string[]>;
  /**
   * For `check`: proves this monitor may do every write a run does, and changes nothing a run reads. Throws
   * StoreUnavailableError saying what was refused (etcd: a role without write access to the cluster's keys, a
   * full database; files: a folder it cannot write).
   */
  probeWrite(): Promise<void>;
  close(): Promise<void>;
}

/** The run no longer holds its cluster's lock (lease expired, or another run took it): it must stop. */
export class LockLostError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LockLostError';
  }
}

/** The store cannot be reached or has no quorum: nothing was changed. */
export class StoreUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StoreUnavailableError';
  }
}

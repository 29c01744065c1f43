/**
 * A plan is plain data: what a run will do, in order, on which host, with the exact SQL and why.
 * `--dry-run` prints it; a real run prints the same plan and executes exactly it.
 */
import type { Coordinates } from '../domain/coordinates.js';
import type { PositioningMode } from '../domain/positioning.js';

/** Phases run in this order. Steps of a phase marked parallel run concurrently. */
export const PHASES = [
  { id: 'fence', label: 'Fence the old master', parallel: false },
  { id: 'catch-up', label: "Let every replica receive the old master's last transactions", parallel: true },
  { id: 'start-sql', label: 'Resume paused SQL threads', parallel: true },
  { id: 'stop-io', label: 'Stop receiving from the old master', parallel: true },
  { id: 'drain', label: 'Apply every received transaction', parallel: true },
  { id: 'stop', label: 'Stop replication', parallel: true },
  { id: 'confirm', label: 'Confirm the best replica', parallel: false },
  { id: 'map', label: "Map lagging replicas' positions into the best replica's binlog", parallel: true },
  { id: 'salvage', label: "Salvage what only the dead master's binlog holds", parallel: false },
  { id: 'equalize-target', label: 'Bring the new master up to the best replica', parallel: false },
  { id: 'equalize', label: 'Bring the other lagging replicas up to the best one', parallel: true },
  { id: 'promote', label: 'Promote the new master', parallel: false },
  { id: 'vip', label: 'Move the writer VIP to the new master', parallel: false },
  { id: 'repoint', label: 'Repoint replicas to the new master', parallel: true },
  { id: 'demote', label: 'Make the old master a replica of the new one', parallel: false },
  { id: 'open-writes', label: 'Open writes once a replica acknowledges (semi-sync)', parallel: false },
  { id: 'verify', label: 'Verify replication from the new master', parallel: true },
  { id: 'pair', label: 'Make the master-master pair circular again', parallel: false },
  { id: 'readers', label: 'Place the reader VIPs', parallel: false },
] as const;

export type Phase = (typeof PHASES)[number]['id'];

/** A rejoin reuses some phases for another purpose: their labels for it. */
const REJOIN_LABELS: Partial<Record<Phase, string>> = {
  fence: 'Fence the former master',
  confirm: 'Check that it holds nothing the master lacks',
  map: "Find where it continues in the master's binlog",
  repoint: 'Make it a replica of the master',
  verify: 'Verify replication from the master',
};

/** The heading of a phase in a plan of this kind. */
export function phaseLabel(kind: Plan['kind'], id: Phase): string {
  return (kind === 'rejoin' ? REJOIN_LABELS[id] : undefined) ?? PHASES.find((p) => p.id === id)?.label ?? id;
}

/**
 * A value a step produces at run time and a later step consumes: the best replica's final GTID position, or
 * binlog coordinates (file and pos) such as a mapped position or the new master's binlog end.
 */
export interface StepRef {
  step: number;
  key: 'gtid' | 'file' | 'pos';
}

/**
 * Semi-synchronous replication settings a step sends: `install` (when the plugin is missing and the config allows
 * it) runs only when `check` finds the plugin inactive; `set` goes out after it.
 *
 * @example { set: ['SET GLOBAL rpl_semi_sync_master_enabled = OFF', 'SET GLOBAL rpl_semi_sync_slave_enabled = ON'] }
 */
export interface SemiSyncChange {
  install?: { check: string; install: string };
  set: string[];
}

/**
 * What a step does, with every statement it sends named by its role. Statements may hold the printed plan's
 * run-time placeholders (`<gtid from step 10>`) and the redacted password; the executor fills both in just
 * before sending (materialize). Statements the executor builds itself are reads or per-row commands whose
 * values exist only at run time (a `KILL` per client connection, a status read while waiting).
 *
 * @example { kind: 'equalize', source: 'db2', until: { step: 10, key: 'gtid' }, change: 'CHANGE MASTER TO ...',
 *   startUntil: "START SLAVE UNTIL master_gtid_pos = '<gtid from step 10>'", wait: '...', stop: 'STOP SLAVE' }
 */
export type StepAction =
  | { kind: 'fence-read-only'; setReadOnly: string[] }
  /**
   * Right before the promotion, an old master that was down is looked at again (a fresh connection): still down,
   * or it answers and is fenced now (read-only, client connections killed) — else the promotion does not run.
   * The statements are for the cluster's flavor; the executor rebuilds them for the version that answers.
   */
  | { kind: 'recheck-old-master'; setReadOnly: string[]; listClients: string; dialectOf: string }
  | { kind: 'kill-clients'; listClients: string }
  | { kind: 'record-master-end'; binlogStatus: string; binlogGtid: string }
  | { kind: 'catch-up'; masterEnd: StepRef; startIo: string }
  | {
      kind: 'resume-sql';
      startSql: string;
      /** Both threads were stopped in GTID mode: switch to file positioning at exactly this relay-log place first. */
      keepRelayLog?: { at: Coordinates; change: string };
    }
  | {
      kind: 'lift-delay';
      stopIo: string;
      stopSql: string;
      /** Started after a CHANGE that keeps the relay log at the SQL thread's place (read once it stopped). */
      startSql: string;
    }
  /** `setReadOnly`: a writable replica is made read-only first. */
  | { kind: 'stop-io-thread'; stopIo: string; setReadOnly?: string[] }
  | { kind: 'drain-relay-log'; trustCoordinates: boolean }
  | {
      kind: 'stop-replication';
      stop: string;
      /** After a relay log applied by file position in a GTID cluster: back to GTID positioning. */
      restoreGtid?: string;
    }
  | {
      kind: 'confirm-best';
      /** Every candidate with the step that stopped it: only those stopped (drained) are compared. */
      candidates: { host: string; stoppedBy: number }[];
      masterEnd?: StepRef;
      byFile?: boolean;
    }
  | { kind: 'map-position'; best: string; bestEnd: StepRef }
  | {
      /**
       * The transactions only the dead old master's binlog holds (acknowledged, never sent): read over SSH from
       * its host (proved to run no server, before reading and again before applying), every event checked, and
       * applied once to this best replica, so equalization spreads them to every other one. A salvage that may
       * not happen (no SSH, an encrypted binlog, ...) applies nothing and passes `before` on: the failover goes
       * on as without it. Outputs the best replica's position after it (GTID, or its binlog end by file).
       */
      kind: 'salvage';
      oldMaster: string;
      /** The confirm step's output: the best replica's position before the salvage. */
      before: StepRef;
      byFile: boolean;
      /** The old master's binlog index, when known before the run (binlogDir or remembered); else found over SSH. */
      index?: string;
      /** hosts.NAME.binlogDir, searched for the index when the index is not known. */
      binlogDir?: string;
      /** The old master's datadir as last seen (its server's working directory: the no-server check's anchor). */
      datadir?: string;
      maxBytes: number;
      /** MariaDB: gtid_slave_pos set after the apply (the printed plan's placeholder for the value). */
      fixGtid?: string;
    }
  | {
      kind: 'equalize';
      source: string;
      until: StepRef;
      /** By file: the mapped position it starts from. */
      from?: StepRef;
      change: string;
      startUntil: string;
      /** One bounded wait (1 s); repeated until reached or the equalize timeout. */
      wait: string;
      stop: string;
    }
  | {
      /**
       * Rejoin by file: where in `source`'s binlog this host continues — right after its own last transaction,
       * found there by GTID (or by a run of transaction signatures that occurs once).
       */
      kind: 'map-rejoin';
      source: string;
    }
  | {
      /** Rejoin: this host's binlog holds nothing `master` lacks (read again after it was made read-only). */
      kind: 'confirm-contained';
      master: string;
      ownSql: string;
      masterSql: string;
    }
  | {
      kind: 'promote';
      stop: string;
      /** Forget the old master (absent when a pair's circular link is kept). */
      reset?: string;
      /** By file: read the new master's binlog end before writes open (replicas start there). */
      recordEnd?: string;
      /** Semi-sync: the master side on, before writes open. */
      semiSync?: SemiSyncChange;
      /** Empty when an open-writes step opens them (semi-sync: once a replica acknowledges). */
      setWritable: string[];
      /**
       * Semi-sync waiting for an acknowledgement: the replicas that would acknowledge, each with the step that
       * readies it. None of those steps succeeded: nothing is promoted (writes could never open).
       */
      ackers?: { host: string; ready: number }[];
      /** A master-master pair's switchover: start replicating from the old active (now passive) again. */
      restart?: string;
    }
  | {
      kind: 'repoint';
      source: string;
      formerMaster?: boolean;
      /** By file: the new master's recorded binlog position. */
      at?: StepRef;
      /**
       * Rejoin: always CHANGE to the mapped position. (A resumed failover only starts a replica already pointed
       * at the new master; a returning server's stale link to the same source proves nothing.)
       */
      remap?: boolean;
      stop: string;
      change: string;
      setReadOnly: string[];
      /** Semi-sync: the replica side on (before start: it takes effect when the IO thread starts), master side off. */
      semiSync?: SemiSyncChange;
      start: string;
    }
  | {
      /**
       * Semi-sync: writes open only once `needed` replicas with their side on are connected to the new master,
       * so the first commit already waits for one of them. `followers`: the repoint steps of replicas that will
       * acknowledge (with none of them done, none can).
       */
      kind: 'open-writes';
      clientsSql: string;
      needed: number;
      followers: number[];
      setWritable: string[];
    }
  /** `semiSync`: the replica side, on before START (a replica started under a semi-sync new master). */
  | { kind: 'restart-replication'; start: string; semiSync?: SemiSyncChange }
  | { kind: 'make-writable'; setWritable: string[] }
  | {
      kind: 'verify-replica';
      source: string;
      formerMaster?: boolean;
      byFile?: boolean;
      /** A delayed replica: its threads must run, but it is not waited for to catch up. */
      delayed?: boolean;
      /** Semi-sync: this status must read ON (it acknowledges the new master's commits). */
      semiSyncStatus?: string;
    }
  /** `address`: a reader VIP; absent: the writer VIP. */
  | { kind: 'vip-remove'; address?: string }
  | { kind: 'vip-add'; address?: string }
  | { kind: 'vip-verify'; holder: string }
  | { kind: 'fence-hook' };

export type ActionKind = StepAction['kind'];
export type ActionOf<K extends ActionKind> = Extract<StepAction, { kind: K }>;

/**
 * Whether a failed step fails the run: 'fail' (the run reports failure) or 'warn' (reported loudly, but the
 * run does not fail for it: the old master's VIP when that host is down). What may still run after a failure
 * is not decided here but by each later step's `after`.
 */
export type OnFailure = 'fail' | 'warn';

/**
 * One step of the runbook. It runs only when every step in `after` succeeded (done or skipped): the
 * promotion needs the target drained and equalized, repointing needs the promotion, and so on.
 *
 * @example { n: 7, phase: 'stop-io', host: 'test3', title: 'Stop the IO thread', after: [3],
 *   action: { kind: 'stop-io-thread', stopIo: 'STOP SLAVE IO_THREAD' }, sql: ['STOP SLAVE IO_THREAD'], ... }
 */
export interface Step {
  n: number;
  phase: Phase;
  host: string;
  title: string;
  action: StepAction;
  /** The printed runbook: what will be sent, secrets redacted, run-time values shown as <...from step N>. */
  sql: string[];
  /** Commands run on the host over SSH (or locally, for a hook), shown as a person would type them. */
  command?: string[];
  why: string;
  /** Steps that must have succeeded before this one may run. */
  after: number[];
  onFailure: OnFailure;
}

export type HostRole = 'old-master' | 'target' | 'replica' | 'delayed' | 'excluded' | 'unreachable' | 'outside';

/** How the planner sees each configured host, with the reason when it is left out. */
export interface HostPlan {
  name: string;
  address: string;
  role: HostRole;
  note: string;
}

/** Example: `{ kind: 'failover', target: 'db2', best: 'db3', positioning: 'gtid', steps: [...], ... }` */
export interface Plan {
  /**
   * failover: the master is gone or misbehaving; switchover: a planned change with the master alive; rejoin: a
   * former master (`target`) becomes a replica of the master (`oldMaster`, which keeps its role); roles: only
   * reader VIPs move (`target` and `oldMaster` both name the master).
   */
  kind: 'failover' | 'switchover' | 'rejoin' | 'roles';
  target: string;
  /** How `--failover-to auto` chose the target (absent when it was named). */
  targetWhy?: string;
  /** `--if-dead`: the evidence that the old master is dead, gathered over the confirmation window before planning. */
  deathEvidence?: string[];
  oldMaster: { address: string; name?: string; reachable: boolean };
  /** The replica that received the most from the old master; every other one is brought up to it. */
  best: string;
  /** GTID positions, or binlog file and position mapped through the best replica's relay log. */
  positioning: PositioningMode;
  /** Why that positioning was chosen (config, --positioning, or what 'auto' found). */
  positioningWhy: string;
  hosts: HostPlan[];
  warnings: string[];
  steps: Step[];
  /** Set when there is nothing to do (the target already is the master of every reachable replica). */
  nothingToDo?: string;
  /** Semi-synchronous replication is carried: why, and the new master's settings (absent: not touched). */
  semiSync?: string;
}

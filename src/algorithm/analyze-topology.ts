import { dialectFor } from '../dialect/dialect.js';
import { accept, type Outcome, refuse } from '../domain/outcome.js';
import { type HostState, isReplica, type ReplicaHost } from '../domain/server-state.js';
import type { ResolvedConfig } from '../topology/config-types.js';
import { alreadyDone, type ClassifyOptions, classify } from './classify-replicas.js';
import { findOldMaster, type OldMaster, stoppedAtUntil } from './find-old-master.js';
import { annotate, describeHosts } from './host-notes.js';
import type { HostPlan } from './plan-types.js';
import { REFUSAL_RULES, targetRefusals } from './refusal-rules.js';
import { choosePositioning, type PositioningChoice } from './replica-facts.js';
import { soleWritableMaster } from './writers.js';
import { matchSource } from '../topology/identity.js';

/**
 * What the planner concluded about the cluster: roles, the old master, the best replica, and every finding of
 * the refusal rules. `refusals` non-empty means: do not touch anything.
 */
export interface Analysis {
  oldMaster: { address: string; name?: string; state?: HostState };
  /** Reachable replicas of the old master that take part, in config order. */
  replicas: ReplicaHost[];
  /** Every reachable replica of the old master, whether it takes part or not. */
  direct: ReplicaHost[];
  /** Delayed replicas (MASTER_DELAY): not waited for, they follow the new master afterwards with their delay. */
  delayed: ReplicaHost[];
  /** The passive side of a master-master pair with the old master (the replica it replicates from). */
  passive?: ReplicaHost;
  /** Replicas of an intermediate master that does not answer, moved under the new master by GTID. */
  orphans: ReplicaHost[];
  /**
   * Replicas of the target that an earlier run's catch-up by file left stopped at its UNTIL: already at a place in
   * the target's binlog, they are started once it is promoted (else they would stay stopped under it).
   */
  stoppedUnderTarget: ReplicaHost[];
  target?: ReplicaHost;
  best?: ReplicaHost;
  hosts: HostPlan[];
  warnings: string[];
  refusals: string[];
  nothingToDo?: string;
  positioning: PositioningChoice;
}

/** An analysis that passed its refusals: the target and the best replica are known. What plan builders take. */
export type PlannableAnalysis = Omit<Analysis, 'target' | 'best' | 'refusals'> & {
  target: ReplicaHost;
  best: ReplicaHost;
};

export type AnalyzeOptions = ClassifyOptions;

const names = (xs: { name: string }[]) => xs.map((x) => x.name).join(', ');

/**
 * Pure: reads probed state, finds the old master, sorts its replicas (classify-replicas.ts), runs every refusal
 * rule (refusal-rules.ts) and describes each host (host-notes.ts).
 */
export function analyzeTopology(config: ResolvedConfig, states: HostState[], opts: AnalyzeOptions): Analysis {
  const targetState = states.find((s) => s.name === opts.target);
  const replicas = states.filter(isReplica);
  const early: string[] = targetRefusals(targetState, opts.target, replicas);
  const empty = (why: string): Analysis => ({
    ...emptyAnalysis(config, states, opts.target),
    refusals: [...early, why],
  });
  if (replicas.length === 0) {
    return empty(
      'no reachable server replicates from anything: there is no replica to promote. ' +
        'Run `mmmf status` to see what answers.',
    );
  }
  const done = alreadyDone(states, targetState, replicas);
  const otherWriters = states.filter((s) => s.reachable && s.readOnly === false && s.name !== opts.target);
  const closed = neverOpened(states, targetState, replicas);
  // Alone: "db3 does not replicate from anything" would send the operator to another target.
  if (closed && !otherWriters.length) return { ...emptyAnalysis(config, states, opts.target), refusals: [closed] };
  if (done && otherWriters.length) {
    // "Nothing to do" would hide a split brain: say so, exit 3.
    return empty(
      `${opts.target} already is the master, but ${names(otherWriters)} ${otherWriters.length > 1 ? 'are' : 'is'} ` +
        'writable too: two servers may be taking writes. Make the other one read-only (or fence it) after ' +
        'checking what it was written, then re-run.',
    );
  }
  if (done) {
    return {
      ...emptyAnalysis(config, states, opts.target),
      oldMaster: oldMasterOf(done.old),
      replicas: done.old.direct,
      direct: done.old.direct,
      hosts: describeHosts(states, opts.target, done.old, new Map()),
      nothingToDo: done.why,
    };
  }
  const left = leftBehind(config, states, opts, replicas);
  if (left) return { ...emptyAnalysis(config, states, opts.target), refusals: [left] };
  const found = findOldMaster(states);
  if (!found.ok) return empty(found.refusals.join(' '));
  return withRules(config, states, opts, found.value, early);
}

/**
 * The target is the master already — published by the run that promoted it, the one writable master — but a
 * replica that run was to move still names the old one (its repoint failed; a delayed one by file was left
 * stopped): "does not replicate from anything, choose another" would send the operator to a second master.
 */
function leftBehind(
  config: ResolvedConfig,
  states: HostState[],
  opts: AnalyzeOptions,
  replicas: ReplicaHost[],
): string | undefined {
  const target = states.find((s) => s.name === opts.target);
  if (!target?.reachable || target.replica || opts.published !== target.name) return undefined;
  if (soleWritableMaster(states) !== target.name) return undefined;
  const stale = replicas.filter((r) => matchSource(r.replica, states).name !== target.name);
  if (!stale.length) return undefined;
  return (
    `${target.name} already is the master: the run that promoted it published it, and it is the one writable ` +
    `master. ${names(stale)} still ${stale.length > 1 ? 'replicate' : 'replicates'} from another server: bring ` +
    `${stale.length > 1 ? 'each' : 'it'} to ${target.name} with mmmf --cfg ${config.source} rejoin NAME (it ` +
    'checks GTIDs first). A failover has nothing left to do.'
  );
}

/**
 * The target is the master of every running replica but read-only: a failover that promoted it and stopped before
 * opening writes (semi-sync waiting for an acknowledgement), or a restart as read-only. Failing over again
 * has nothing to do; the refusal says how to open writes, which mmmf does not do unasked.
 */
function neverOpened(states: HostState[], target: HostState | undefined, replicas: ReplicaHost[]): string | undefined {
  if (!target?.reachable || target.readOnly !== true || !target.version) return undefined;
  const asWritable = alreadyDone(states, { ...target, readOnly: false }, replicas);
  if (!asWritable) return undefined;
  const open = dialectFor(target.version).setReadOnly(false).join('; ');
  const semi = target.semiSync?.master?.enabled ? ' (semi-sync: once a replica acknowledges, see `mmmf status`)' : '';
  return (
    `${target.name} already is the master of every running replica (${names(asWritable.old.direct)}) but is ` +
    'read-only: writes were never opened on it (a failover that stopped before opening them, or a restart as ' +
    `read-only). There is nothing to fail over. Check that no other server takes writes (\`mmmf status\`), ` +
    `then open them on ${target.name}: ${open}${semi}.`
  );
}

/** Classifies the old master's replicas, then runs every refusal rule in order. */
function withRules(
  config: ResolvedConfig,
  states: HostState[],
  opts: AnalyzeOptions,
  old: OldMaster,
  early: string[],
): Analysis {
  const c = classify(config, old, states, opts);
  const refusals = [...early];
  const warnings: string[] = [];
  for (const rule of REFUSAL_RULES) {
    const f = rule.check({ config, states, target: opts.target, old, c, published: opts.published });
    refusals.push(...(f.refusals ?? []));
    warnings.push(...(f.warnings ?? []));
  }
  const excluded = new Map([...c.excluded, ...c.orphans.excluded]);
  const hosts = describeHosts(states, opts.target, old, excluded);
  return {
    oldMaster: oldMasterOf(old),
    replicas: c.candidates,
    direct: old.direct,
    delayed: c.delayed,
    orphans: c.orphans.moved,
    stoppedUnderTarget: old.sub.filter((x) => x.via === opts.target && stoppedAtUntil(x.replica)).map((x) => x.replica),
    ...(old.passive ? { passive: old.passive } : {}),
    ...(c.target ? { target: c.target } : {}),
    ...(c.best ? { best: c.best } : {}),
    hosts: annotate(hosts, c.candidates, c.delayed, c.best, c.positioning.mode),
    warnings,
    refusals,
    positioning: c.positioning,
  };
}

/**
 * The gate before planning: an analysis with no refusal (`more`: the caller's own rules) has a target and a best
 * replica; plan builders take only what passed.
 */
export function passGate(a: Analysis, more: string[] = []): Outcome<PlannableAnalysis> {
  const refusals = [...a.refusals, ...more];
  const { target, best, refusals: _, ...rest } = a;
  if (refusals.length) return refuse(refusals);
  if (!target || !best) return refuse(['no replica can take part in the failover']);
  return accept({ ...rest, target, best });
}

function emptyAnalysis(config: ResolvedConfig, states: HostState[], target: string): Analysis {
  return {
    oldMaster: { address: '?' },
    replicas: [],
    direct: [],
    delayed: [],
    orphans: [],
    stoppedUnderTarget: [],
    hosts: describeHosts(states, target, undefined, new Map()),
    warnings: [],
    refusals: [],
    positioning: choosePositioning(config.positioning, []),
  };
}

const oldMasterOf = (old: OldMaster): Analysis['oldMaster'] => ({
  address: old.address,
  ...(old.name ? { name: old.name } : {}),
  ...(old.state ? { state: old.state } : {}),
});

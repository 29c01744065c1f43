import { gtidAhead } from '../binlog/gtid.js';
import type { PositioningMode } from '../domain/positioning.js';
import { type HostState, isReplica, type ReplicaHost } from '../domain/server-state.js';
import type { ResolvedConfig } from '../topology/config-types.js';
import { findOldMaster, type OldMaster } from './find-old-master.js';
import {
  choosePositioning,
  compareReceived,
  errantTransactions,
  flavorOf,
  type PositioningChoice,
  receivedGtid,
} from './replica-facts.js';

/**
 * How the old master's replicas sort out for one run: left out (with why), delayed (followers, not waited
 * for), or taking part; the positioning; the best replica and the target among those taking part.
 */
export interface Classes {
  /** Left out, with why: errant transactions, a broken SQL thread, filters, several channels, no usable position. */
  excluded: Map<string, string>;
  delayed: ReplicaHost[];
  /** Taking part unless its position cannot be used: what the positioning and the flavor check look at. */
  eligible: ReplicaHost[];
  /** Taking part, in config order. */
  candidates: ReplicaHost[];
  positioning: PositioningChoice;
  /** Received the most from the old master (ties go to the target, so it needs no catching up). */
  best?: ReplicaHost;
  target?: ReplicaHost;
  /** Replicas of a dead intermediate master, see classifyOrphans. */
  orphans: Orphans;
}

/**
 * Replicas of an intermediate master that does not answer: by GTID they move under the new master, unless they
 * hold what the best replica lacks (`ahead`: they would lose it); by file their position cannot be mapped
 * without the intermediate's binlog, so they are left out (`excluded`, with why).
 */
export interface Orphans {
  moved: ReplicaHost[];
  excluded: Map<string, string>;
  ahead: Map<string, number>;
}

export interface ClassifyOptions {
  target: string;
  /** Apply delayed replicas' relay logs now (lifting their delay) and let them take part. */
  liftDelay?: boolean;
  /** The master the last run that promoted one published in the cluster's store (what refusals name it as). */
  published?: string | undefined;
}

/** Pure: sorts the old master's direct replicas and its orphans for a run to `opts.target`. */
export function classify(config: ResolvedConfig, old: OldMaster, states: HostState[], opts: ClassifyOptions): Classes {
  const excluded = new Map<string, string>();
  const delayed: ReplicaHost[] = [];
  const eligible: ReplicaHost[] = [];
  for (const r of old.direct) {
    const why = exclusion(r, states);
    if (why) excluded.set(r.name, why);
    else if (r.replica.sqlDelay > 0 && r.name !== opts.target && !opts.liftDelay) delayed.push(r);
    else eligible.push(r);
  }
  const positioning = choosePositioning(config.positioning, eligible);
  const candidates: ReplicaHost[] = [];
  for (const r of eligible) {
    const why = positioningExclusion(r, positioning.mode);
    if (why) excluded.set(r.name, why);
    else candidates.push(r);
  }
  const best = chooseBest(candidates, opts.target, positioning.mode);
  const target = candidates.find((r) => r.name === opts.target);
  const orphans = classifyOrphans(old, best, positioning.mode);
  return {
    excluded,
    delayed,
    eligible,
    candidates,
    positioning,
    ...(best ? { best } : {}),
    ...(target ? { target } : {}),
    orphans,
  };
}

function classifyOrphans(old: OldMaster, best: ReplicaHost | undefined, mode: PositioningMode): Orphans {
  const out: Orphans = { moved: [], excluded: new Map(), ahead: new Map() };
  for (const { replica: r, via } of old.orphans) {
    if (mode === 'file') {
      out.excluded.set(
        r.name,
        `its intermediate master ${via} does not answer, and by file its position cannot be mapped without ` +
          `${via}'s binlog: repoint it by hand (or by GTID: --positioning gtid)`,
      );
      continue;
    }
    const ahead = best ? gtidAhead(flavorOf(best), receivedGtid(r), receivedGtid(best)) : 0;
    if (ahead) out.ahead.set(r.name, ahead);
    else out.moved.push(r);
  }
  return out;
}

/** Why a replica cannot take part at all (it stays untouched), or undefined. */
function exclusion(r: ReplicaHost, states: HostState[]): string | undefined {
  if ((r.channels ?? 1) > 1) {
    return (
      `it replicates over ${r.channels} channels (multi-source): mmmf fails over one channel and would leave the ` +
      'others pointing wherever they point. Left out; move its other channels by hand, or remove it from the config.'
    );
  }
  const errant = errantTransactions(r, states);
  if (errant.length) {
    return (
      `errant transactions ${errant.join(', ')} written on this replica itself (in its binlog, never replicated): ` +
      'it would break or spread them when repointed. Remove them or rebuild it.'
    );
  }
  if (r.replica.lastSqlError && !r.replica.sqlRunning) {
    return (
      `its SQL thread stopped with an error (${r.replica.lastSqlError}), so its relay log cannot be applied. ` +
      'Fix the error and re-run to include it.'
    );
  }
  if (r.replica.filters.length) {
    return `replication filters (${r.replica.filters.join('; ')}) mean it does not hold every transaction.`;
  }
  return undefined;
}

function positioningExclusion(r: ReplicaHost, mode: PositioningMode): string | undefined {
  const rs = r.replica;
  if (mode === 'file' && !rs.executed.file) {
    return (
      'it reports no old-master coordinates (Relay_Master_Log_File is empty), so its position cannot be ' +
      'mapped by file.'
    );
  }
  if (mode === 'gtid' && r.version.flavor === 'mysql' && !r.gtidEnabled) {
    return (
      'gtid_mode is not ON (with enforce_gtid_consistency) here, so it cannot be positioned by GTID. ' +
      'Use --positioning file.'
    );
  }
  if (mode === 'gtid' && rs.gtidMode === 'No' && !r.gtidApplied && rs.executed.file) {
    return (
      'it replicates by file and its gtid_slave_pos is empty: positioned by GTID it would apply everything again. ' +
      'Use --positioning file.'
    );
  }
  return undefined;
}

/** Best = received the most from the old master. Ties go to the target, so it needs no equalization. */
function chooseBest(candidates: ReplicaHost[], target: string, mode: PositioningMode): ReplicaHost | undefined {
  let best: ReplicaHost | undefined;
  for (const r of candidates) {
    const c = best ? compareReceived(r, best, mode) : 1;
    if (c > 0 || (c === 0 && r.name === target)) best = r;
  }
  return best;
}

const names = (xs: { name: string }[]) => xs.map((x) => x.name).join(', ');

/**
 * The target already is the master: writable, replicating from nothing, every replica that runs replicates
 * from it (directly or through another), and the others are stopped (a finished failover leaves a replica it
 * could not move stopped, still naming the old master). Running the same failover again changes nothing.
 */
export function alreadyDone(
  states: HostState[],
  target: HostState | undefined,
  replicas: ReplicaHost[],
): { old: OldMaster; why: string } | undefined {
  if (!target?.reachable || target.replica || target.readOnly !== false) return undefined;
  const running = (r: ReplicaHost) => r.replica.ioRunning !== 'No' || r.replica.sqlRunning;
  const under = states.filter((s) => s.name !== target.name && isReplica(s) && running(s));
  const found = findOldMaster(under.length ? [...under, target] : []);
  if (!found.ok || found.value.name !== target.name || !found.value.direct.length) return undefined;
  const stopped = replicas.filter((r) => !running(r) && r.name !== target.name);
  const left = stopped.length
    ? ` ${names(stopped)} ${stopped.length > 1 ? 'are' : 'is'} stopped (${stopped
        .map((r) => `${r.name} → ${r.replica.sourceAddress}`)
        .join(
          ', ',
        )}): \`mmmf rejoin NAME\` moves ${stopped.length > 1 ? 'each' : 'it'} under ${target.name} (it compares GTIDs first).`
    : '';
  const direct = names(found.value.direct);
  const why = `${target.name} already is the master of every running replica (${direct}); nothing to do.`;
  return { old: found.value, why: why + left };
}

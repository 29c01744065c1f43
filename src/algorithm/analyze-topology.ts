import { formatCoordinates } from '../binlog/coordinates.js';
import { gtidAhead, gtidRelation } from '../binlog/gtid.js';
import type { ResolvedConfig } from '../topology/config-types.js';
import { type HostState, isReplica, type ReplicaHost } from '../domain/server-state.js';
import { findOldMaster, type OldMaster } from './find-old-master.js';
import type { HostPlan } from './plan-types.js';
import {
  choosePositioning,
  compareReceived,
  errantTransactions,
  flavorOf,
  onOff,
  type PositioningChoice,
  receivedGtid,
  versionKey,
} from './replica-facts.js';

export { choosePositioning, compareReceived, errantTransactions, isFormerMaster } from './replica-facts.js';

/** What the planner concluded about the cluster; `refusals` non-empty means: do not touch anything. */
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
  target?: ReplicaHost;
  best?: ReplicaHost;
  hosts: HostPlan[];
  warnings: string[];
  refusals: string[];
  nothingToDo?: string;
  positioning: PositioningChoice;
}

export interface AnalyzeOptions {
  target: string;
  /** Apply delayed replicas' relay logs now (lifting their delay) and let them take part. */
  liftDelay?: boolean;
}

const names = (xs: { name: string }[]) => xs.map((x) => x.name).join(', ');

/** Pure: reads probed state, decides roles, the old master, the best replica and what makes a failover unsafe. */
export function analyzeTopology(config: ResolvedConfig, states: HostState[], opts: AnalyzeOptions): Analysis {
  const warnings: string[] = [];
  const refusals: string[] = [];
  const targetState = states.find((s) => s.name === opts.target);
  const replicasAll = states.filter(isReplica);
  const empty = (why: string): Analysis => ({
    oldMaster: { address: '?' },
    replicas: [],
    direct: [],
    delayed: [],
    orphans: [],
    hosts: describeHosts(states, opts.target, undefined, new Map()),
    warnings,
    refusals: [...refusals, why],
    positioning: choosePositioning(config.positioning, []),
  });

  targetRefusals(targetState, opts.target, replicasAll).forEach((r) => refusals.push(r));
  if (replicasAll.length === 0) {
    return empty(
      'no reachable server replicates from anything: there is no replica to promote. ' +
        'Run `mmmf status` to see what answers.',
    );
  }
  const done = alreadyDone(states, targetState, replicasAll);
  const otherWriters = states.filter((s) => s.reachable && s.readOnly === false && s.name !== opts.target);
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
      ...empty(''),
      refusals: [],
      oldMaster: oldMasterOf(done.old),
      replicas: done.old.direct,
      direct: done.old.direct,
      hosts: describeHosts(states, opts.target, done.old, new Map()),
      nothingToDo: done.why,
    };
  }
  const found = findOldMaster(states);
  if (!found.ok) return empty(found.refusals.join(' '));
  const old = found.value;
  sourceFindings(old, states, warnings, refusals);

  const { excluded, delayed, candidates, positioning } = classify(config, old, states, opts, { warnings, refusals });
  const best = chooseBest(candidates, opts.target, positioning.mode);
  const target = candidates.find((r) => r.name === opts.target);
  const rank = (a: ReplicaHost, b: ReplicaHost) => compareReceived(a, b, positioning.mode);
  if (best) {
    lostIfLeftOut(old.direct, best, rank, { excluded, delayed }).forEach((r) => refusals.push(r));
    bestRefusals(best, target, candidates, positioning.mode).forEach((r) => refusals.push(r));
    if (positioning.mode === 'file' && best.relayLogPurge && candidates.length > 1) {
      warnings.push(
        `${best.name} has relay_log_purge=ON: relay logs it has applied are deleted; a replica further behind than ` +
          'its current relay log is then found in its binlog by GTID, or left stopped when that fails too.',
      );
    }
  } else if (old.direct.length) {
    const why = [...excluded].map(([n, w]) => `${n}: ${w}`).join(' ');
    refusals.push(`no replica can take part in the failover: ${why || `${names(delayed)} are delayed`}`);
  }
  if (isReplica(targetState) && !target) {
    targetLeftOutRefusal(targetState, old, excluded).forEach((r) => refusals.push(r));
  } else if (target) targetFindings(target, candidates).forEach((r) => refusals.push(r));

  for (const [name, why] of excluded) {
    if (name !== opts.target) warnings.push(`${name} is left out and will not be touched: ${why}`);
  }
  for (const x of old.sub) {
    warnings.push(`${x.replica.name} replicates from ${x.via}, not from the old master: it stays under ${x.via}.`);
  }
  const orphans = orphanFindings(old, best, positioning.mode, { warnings, refusals, excluded });
  if (old.passive) warnings.push(pairNote(old.name ?? old.address, old.passive.name, opts.target, old.state));
  return {
    oldMaster: oldMasterOf(old),
    replicas: candidates,
    direct: old.direct,
    delayed,
    orphans,
    ...(old.passive ? { passive: old.passive } : {}),
    ...(target ? { target } : {}),
    ...(best ? { best } : {}),
    hosts: annotate(describeHosts(states, opts.target, old, excluded), candidates, delayed, best, positioning.mode),
    warnings,
    refusals,
    positioning,
  };
}

/**
 * Sorts the old master's direct replicas: left out (errant transactions, a broken SQL thread, filters, no
 * usable position), delayed (followers, not waited for), or taking part; and picks the positioning.
 */
function classify(
  config: ResolvedConfig,
  old: OldMaster,
  states: HostState[],
  opts: AnalyzeOptions,
  out: { warnings: string[]; refusals: string[] },
) {
  const excluded = new Map<string, string>();
  const delayed: ReplicaHost[] = [];
  const candidates: ReplicaHost[] = [];
  for (const r of old.direct) {
    const why = exclusion(r, states);
    if (why) excluded.set(r.name, why);
    else if (r.replica.sqlDelay > 0 && r.name !== opts.target && !opts.liftDelay) delayed.push(r);
    else candidates.push(r);
  }
  if (new Set(candidates.map(flavorOf)).size > 1) {
    const versions = candidates.map((r) => `${r.name}: ${r.version.text}`).join(', ');
    out.refusals.push(
      `the replicas mix MariaDB and MySQL (${versions}): their GTIDs and statements differ, and mmmf does not fail ` +
        'over such a cluster. Leave one flavor out of the config.',
    );
  }
  const positioning = choosePositioning(config.positioning, candidates);
  for (const r of candidates.slice()) {
    const why = positioningExclusion(r, positioning.mode);
    if (!why) continue;
    excluded.set(r.name, why);
    candidates.splice(candidates.indexOf(r), 1);
  }
  if (positioning.mode === 'file' && delayed.length) {
    out.warnings.push(
      `${names(delayed)} ${delayed.length > 1 ? 'are' : 'is'} delayed (MASTER_DELAY): by file and position ` +
        'a delayed position cannot be mapped, so it is stopped and left stopped with its relay log kept; ' +
        'repoint it by hand (or re-run with --lift-delay to apply it now and include it).',
    );
  }
  return { excluded, delayed, candidates, positioning };
}

/** Why a target that is a replica cannot take part: left out, or not a direct replica of the old master. */
function targetLeftOutRefusal(target: ReplicaHost, old: OldMaster, excluded: Map<string, string>): string[] {
  const why = excluded.get(target.name);
  if (why) return [`target ${target.name} cannot be promoted: ${why}`];
  if (old.direct.includes(target)) return [];
  const via = old.sub.find((x) => x.replica === target)?.via;
  return [
    `target ${target.name} does not replicate from the old master ${old.name ?? old.address}` +
      `${via ? ` but from ${via}, one of its replicas` : ''}: choose a direct replica of it.`,
  ];
}

/**
 * The target already is the master: writable, replicating from nothing, every replica that runs replicates
 * from it (directly or through another), and the others are stopped (a finished failover leaves a replica it
 * could not move stopped, still naming the old master). Running the same failover again changes nothing.
 */
function alreadyDone(
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
        .join(', ')}): repoint by hand.`
    : '';
  const why = `${target.name} already is the master of every running replica (${names(found.value.direct)}); nothing to do.`;
  return { old: found.value, why: why + left };
}

/**
 * Replicas of an intermediate master that does not answer: by GTID they move under the new master, if they
 * hold nothing the best replica lacks (they would lose it) — else refused; by file their position cannot be
 * mapped without the intermediate's binlog, so they are left alone with the reason.
 */
function orphanFindings(
  old: OldMaster,
  best: ReplicaHost | undefined,
  mode: 'gtid' | 'file',
  out: { warnings: string[]; refusals: string[]; excluded: Map<string, string> },
): ReplicaHost[] {
  const moved: ReplicaHost[] = [];
  for (const { replica: r, via } of old.orphans) {
    if (mode === 'file') {
      const why =
        `its intermediate master ${via} does not answer, and by file its position cannot be mapped without ` +
        `${via}'s binlog: repoint it by hand (or by GTID: --positioning gtid)`;
      out.excluded.set(r.name, why);
      out.warnings.push(`${r.name} is left out and will not be touched: ${why}`);
      continue;
    }
    const ahead = best ? gtidAhead(flavorOf(best), receivedGtid(r), receivedGtid(best)) : 0;
    if (ahead) {
      out.refusals.push(
        `${r.name} received ${ahead} transaction(s) through ${via} (which does not answer) that the best replica ` +
          `${best!.name} lacks: they would be lost. Bring ${via} back, or fail over to a server that has them.`,
      );
      continue;
    }
    out.warnings.push(
      `${r.name} replicated from ${via}, which does not answer: it moves under the new master by GTID.`,
    );
    moved.push(r);
  }
  return moved;
}

/** What happens to a master-master pair (active ⇄ passive) in this run. */
function pairNote(active: string, passive: string, target: string, state: HostState | undefined): string {
  const pair = `${active} ⇄ ${passive} is a master-master pair`;
  if (!state?.reachable) {
    return target === passive
      ? `${pair}: the new active ${passive} stops replicating from the dead ${active}, so nothing ${active} wrote ` +
          `but never sent can flow in when it comes back (mmmf rejoin ${active} brings it back as the passive).`
      : `${pair}: ${passive} follows the new master ${target} like any replica; the pair ends.`;
  }
  return target === passive
    ? `${pair}: ${active} becomes the read-only passive, replicating from ${passive}, and ${passive} keeps ` +
        `replicating from ${active}: the pair stays circular (MMM's move_role writer).`
    : `${pair}: both become replicas of ${target}; the pair is not re-formed around ${target}.`;
}

const oldMasterOf = (old: OldMaster): Analysis['oldMaster'] => ({
  address: old.address,
  ...(old.name ? { name: old.name } : {}),
  ...(old.state ? { state: old.state } : {}),
});

function targetRefusals(target: HostState | undefined, name: string, replicas: ReplicaHost[]): string[] {
  if (!target) return [`--failover-to ${name}: no such host in the config`];
  if (!target.reachable) {
    return [
      `target ${target.name} (${target.address}) is unreachable: ${target.error}. ` +
        'Fix connectivity or choose another target.',
    ];
  }
  if (target.replica) return [];
  return [
    `target ${target.name} does not replicate from anything, so it is not a replica of the old master. ` +
      `Choose one of: ${names(replicas) || '(no reachable replica)'}.`,
  ];
}

/** What the replicas' source says: who to fence, and when a live master would be left writable (refused). */
function sourceFindings(old: OldMaster, states: HostState[], warnings: string[], refusals: string[]): void {
  const connected = old.direct.filter((r) => r.replica.ioRunning === 'Yes');
  const live = connected.length
    ? `${names(connected)} still ${connected.length > 1 ? 'have' : 'has'} a running IO thread connected to it`
    : '';
  if (!old.name) {
    if (live) {
      refusals.push(
        `the replicas' master ${old.address}${old.how === 'none' ? '' : ` (${old.how})`} matches no reachable ` +
          `host in the config, but ${live}: ` +
          'it is alive, and mmmf could not fence it. Name that server in the config by an address mmmf can ' +
          'reach (replicas are matched by its server_id), or fence it yourself, then re-run.' +
          states
            .filter((s) => !s.reachable)
            .map((s) => ` ${s.name} (${s.address}) did not answer: if it is that server, mmmf cannot reach it there.`)
            .join(''),
      );
    } else {
      warnings.push(`the old master ${old.address} is not in the config: it cannot be fenced or checked by mmmf.`);
    }
    return;
  }
  const s = old.state!;
  const configured = s.address;
  if (old.how !== 'address' && configured !== old.address) {
    warnings.push(
      `the replicas reach the old master as ${old.address}; the config names it ${old.name} at ${configured} ` +
        `(the same server: ${old.how}).`,
    );
  }
  if (s.reachable) {
    warnings.push(
      `the old master ${old.name} (${configured}) still answers: it will be fenced (read-only, client connections ` +
        'killed) and its last transactions collected before anything else.',
    );
    if (s.replica && !old.passive) {
      warnings.push(
        `the old master ${old.name} itself replicates from ${s.replica.sourceAddress}, which is not one of its ` +
          'replicas; that link is left as it is.',
      );
    }
  } else if (live) {
    refusals.push(
      `the old master ${old.name} (${configured}) is unreachable from here, but ${live}: it is probably alive and ` +
        'taking writes. Fence it (stop it or cut its network) and re-run, so no write is lost to a split brain.',
    );
  }
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

function positioningExclusion(r: ReplicaHost, mode: 'gtid' | 'file'): string | undefined {
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
function chooseBest(candidates: ReplicaHost[], target: string, mode: 'gtid' | 'file'): ReplicaHost | undefined {
  let best: ReplicaHost | undefined;
  for (const r of candidates) {
    const c = best ? compareReceived(r, best, mode) : 1;
    if (c > 0 || (c === 0 && r.name === target)) best = r;
  }
  return best;
}

/** A replica that received more than the best one but cannot take part: failing over would lose what only it has. */
function lostIfLeftOut(
  direct: ReplicaHost[],
  best: ReplicaHost,
  rank: (a: ReplicaHost, b: ReplicaHost) => number,
  left: { excluded: Map<string, string>; delayed: ReplicaHost[] },
): string[] {
  const out: string[] = [];
  for (const r of direct) {
    if (rank(r, best) <= 0) continue;
    const gtid = r.replica.gtidReceived ? `, ${r.replica.gtidReceived}` : '';
    const received = `${formatCoordinates(r.replica.received)}${gtid}`;
    if (left.delayed.includes(r)) {
      out.push(
        `${r.name} is delayed (MASTER_DELAY ${r.replica.sqlDelay} s) and received transactions no other replica has ` +
          `(up to ${received}; ${best.name} has only up to ${formatCoordinates(best.replica.received)}). ` +
          'Failing over without them would lose them: re-run with --lift-delay to apply its relay log now and ' +
          'use it as the source.',
      );
    } else if (left.excluded.has(r.name)) {
      out.push(
        `${r.name} received the most from the old master (${formatCoordinates(r.replica.received)}) but cannot be ` +
          `used: ${left.excluded.get(r.name)} Failing over without it would lose what only it received.`,
      );
    }
  }
  return out;
}

function bestRefusals(
  best: ReplicaHost,
  target: ReplicaHost | undefined,
  candidates: ReplicaHost[],
  mode: 'gtid' | 'file',
): string[] {
  const out: string[] = [];
  const bestGtid = receivedGtid(best);
  for (const r of mode === 'file' ? [] : candidates) {
    if (r === best) continue;
    const rel = gtidRelation(flavorOf(best), bestGtid, receivedGtid(r));
    if (rel === 'diverged' || rel === 'behind') {
      out.push(
        `split brain: ${best.name} (${best.replica.gtidReceived || best.gtidApplied}) and ${r.name} ` +
          `(${r.replica.gtidReceived || r.gtidApplied}) hold different transactions, so no replica has everything. ` +
          'Reconcile them by hand; mmmf will not pick a side.',
      );
    }
  }
  if (best !== target && !(best.logBin && best.logReplicaUpdates)) {
    out.push(
      `${best.name} received the most but cannot pass it on (log_bin=${onOff(best.logBin)}, ` +
        `log_slave_updates=${onOff(best.logReplicaUpdates)}). Fail over to ${best.name} instead, or enable both there.`,
    );
  }
  return out;
}

function targetFindings(target: ReplicaHost, candidates: ReplicaHost[]): string[] {
  const out: string[] = [];
  if (!(target.logBin && target.logReplicaUpdates)) {
    out.push(
      `target ${target.name} has log_bin=${onOff(target.logBin)}, ` +
        `log_slave_updates=${onOff(target.logReplicaUpdates)}: ` +
        'replicas could not replicate from it. Enable both (they need a restart) or choose another target.',
    );
  }
  for (const r of candidates) {
    if (r !== target && versionKey(r) > versionKey(target)) {
      out.push(
        `target ${target.name} runs ${target.version.text}, older than ${r.name} (${r.version.text}); a replica ` +
          'must not be newer than its source. Choose a target at least as new.',
      );
    }
  }
  return out;
}

function describeHosts(
  states: HostState[],
  target: string,
  old: OldMaster | undefined,
  excluded: Map<string, string>,
): HostPlan[] {
  return states.map((s): HostPlan => {
    const base = { name: s.name, address: s.address };
    if (old && s.name === old.name) {
      return { ...base, role: 'old-master', note: s.reachable ? 'alive: will be fenced' : `unreachable (${s.error})` };
    }
    if (!s.reachable) return { ...base, role: 'unreachable', note: `left alone: ${s.error}` };
    const why = excluded.get(s.name);
    if (why) return { ...base, role: 'excluded', note: why };
    const orphan = old?.orphans.find((x) => x.replica.name === s.name);
    if (orphan)
      return {
        ...base,
        role: 'replica',
        note: `its intermediate master ${orphan.via} does not answer: will replicate from the new master`,
      };
    const sub = old?.sub.find((x) => x.replica.name === s.name);
    if (sub) return { ...base, role: 'outside', note: `replicates from ${sub.via}: stays under it` };
    if (!old?.direct.some((r) => r.name === s.name)) {
      return { ...base, role: 'outside', note: 'does not replicate from the old master: left alone' };
    }
    if (s.name === target) return { ...base, role: 'target', note: 'will be promoted' };
    return { ...base, role: 'replica', note: 'will replicate from the new master' };
  });
}

/** Adds what each taking-part replica received, and how far behind the best one it is. */
function annotate(
  hosts: HostPlan[],
  candidates: ReplicaHost[],
  delayed: ReplicaHost[],
  best: ReplicaHost | undefined,
  mode: 'gtid' | 'file',
): HostPlan[] {
  return hosts.map((h) => {
    const d = delayed.find((r) => r.name === h.name);
    if (d) {
      return {
        ...h,
        role: 'delayed',
        note: `delayed by ${d.replica.sqlDelay} s (MASTER_DELAY): not waited for; ${
          mode === 'gtid' ? 'follows the new master afterwards, delay kept' : 'left stopped, relay log kept'
        }`,
      };
    }
    const s = candidates.find((r) => r.name === h.name);
    if (!s || !best) return h;
    const rs = s.replica;
    if (mode === 'file') {
      const at = `received ${formatCoordinates(rs.received)}, executed ${formatCoordinates(rs.executed)}`;
      const rank = compareReceived(s, best, mode);
      const where = s === best ? ', the most' : rank < 0 ? `, behind ${best.name}` : `, as much as ${best.name}`;
      return { ...h, note: `${h.note}; ${at}${where}` };
    }
    const behind = gtidAhead(flavorOf(best), receivedGtid(best), receivedGtid(s));
    const at = `received ${rs.gtidReceived || s.gtidApplied || '-'} (${formatCoordinates(rs.received)})`;
    const where = s === best ? 'the most' : behind ? `${behind} behind ${best.name}` : `as much as ${best.name}`;
    return { ...h, note: `${h.note}; ${at}, ${where}` };
  });
}

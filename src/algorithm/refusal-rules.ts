import { formatCoordinates } from '../binlog/coordinates.js';
import { gtidRelation } from '../binlog/gtid.js';
import { type HostState, isReplica, type ReplicaHost } from '../domain/server-state.js';
import type { ResolvedConfig } from '../topology/config-types.js';
import type { Classes } from './classify-replicas.js';
import { type OldMaster, stoppedAtUntil } from './find-old-master.js';
import { compareReceived, flavorOf, onOff, receivedGtid, versionKey } from './replica-facts.js';
import { writableMasters, writableReplicas } from './writers.js';

/** What one rule found: refusals (nothing may be changed: exit 3) and warnings (said in the plan). */
export interface Findings {
  refusals?: string[];
  warnings?: string[];
}

/** What every rule may look at: the probed cluster, the old master found, and how its replicas sorted out. */
export interface RuleInput {
  config: ResolvedConfig;
  states: HostState[];
  /** The target asked for ('' when `--failover-to auto` looks at every replica). */
  target: string;
  old: OldMaster;
  c: Classes;
  /** The master the last run that promoted one published in the cluster's store. */
  published?: string | undefined;
}

/** One named rule of the analysis. */
export interface Rule {
  name: string;
  check(x: RuleInput): Findings;
}

const names = (xs: { name: string }[]) => xs.map((x) => x.name).join(', ');

/**
 * Everything that makes a failover unsafe, or worth a word, once the old master is known: each rule returns
 * what it found, in this order (the order the operator reads them in). A rule that finds nothing returns {}.
 */
export const REFUSAL_RULES: readonly Rule[] = [
  { name: 'the old master can be fenced', check: ({ old, states }) => sourceFindings(old, states) },
  { name: 'no second master', check: (x) => ({ refusals: secondMasters(x), warnings: writableReplicaNote(x) }) },
  { name: 'one flavor', check: ({ c }) => ({ refusals: mixedFlavors(c.eligible) }) },
  { name: 'delayed replicas by file', check: ({ c }) => ({ warnings: delayedByFile(c) }) },
  { name: 'nothing only a left-out replica received', check: ({ old, c }) => ({ refusals: lostIfLeftOut(old, c) }) },
  { name: 'the best replica holds everything', check: ({ c }) => ({ refusals: bestRefusals(c) }) },
  { name: 'relay logs kept for mapping', check: ({ c }) => ({ warnings: relayLogPurge(c) }) },
  { name: 'some replica takes part', check: ({ old, c }) => ({ refusals: nobodyTakesPart(old, c) }) },
  { name: 'the target can be promoted', check: (x) => ({ refusals: targetCannotBePromoted(x) }) },
  { name: 'left-out replicas', check: ({ c, target }) => ({ warnings: leftOut(c, target) }) },
  {
    name: 'replicas of replicas stay',
    check: ({ old, target }) => ({
      warnings: old.sub
        .filter((x) => !(x.via === target && stoppedAtUntil(x.replica))) // started under the target: not a tree
        .map((x) => `${x.replica.name} replicates from ${x.via}, not from the old master: it stays under ${x.via}.`),
    }),
  },
  { name: 'replicas of a dead intermediate master', check: ({ old, c }) => orphanFindings(old, c) },
  { name: 'a master-master pair', check: ({ old, target }) => ({ warnings: pairNote(old, target) }) },
];

/**
 * Another writable server that replicates from nobody is a second master: it may be taking writes, and a
 * failover would leave two. Refused before any change, naming it and the way out. The old master (fenced by
 * the plan) and the target do not count.
 */
function secondMasters({ states, old, target, config, published }: RuleInput): string[] {
  const cfg = `--cfg ${config.source}`;
  return writableMasters(states)
    .filter((m) => m.name !== old.name && m.name !== target)
    .map((m) =>
      m.name === published
        ? // The replicas name the old master only because none was moved yet: a run failed after promoting.
          `${m.name} already is the master (${m.why}; the run that promoted it published it): a failover now ` +
          `would leave two writable masters. Bring each replica left under ${old.name ?? old.address} to it ` +
          `with mmmf ${cfg} rejoin NAME (it checks GTIDs first).`
        : `${m.name} is a second master (${m.why}): it may be taking writes, and a failover now would leave two ` +
          `writable masters. See what only it holds with mmmf rejoin ${m.name} ${cfg} --dry-run; ` +
          `then make it read-only (or rejoin it) and re-run.`,
    );
}

/** Replicas with read_only off: many clusters run that way; said, not refused (the plan makes them read-only). */
function writableReplicaNote({ states, old }: RuleInput): string[] {
  const direct = new Set(old.direct.map((r) => r.name));
  const writable = writableReplicas(states).filter((n) => direct.has(n));
  if (!writable.length) return [];
  return [
    `${writable.join(', ')} ${writable.length > 1 ? 'are' : 'is a'} writable replica${writable.length > 1 ? 's' : ''} ` +
      '(read_only off): made read-only when replication stops, so nothing is written there meanwhile.',
  ];
}

/** Before the old master is known: the target must exist, answer and be a replica. */
export function targetRefusals(target: HostState | undefined, name: string, replicas: ReplicaHost[]): string[] {
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
function sourceFindings(old: OldMaster, states: HostState[]): Findings {
  const connected = old.direct.filter((r) => r.replica.ioRunning === 'Yes');
  const live = connected.length
    ? `${names(connected)} still ${connected.length > 1 ? 'have' : 'has'} a running IO thread connected to it`
    : '';
  const s = old.state;
  if (!old.name || !s) return unknownSource(old, states, live);
  const warnings: string[] = [];
  if (old.how !== 'address' && s.address !== old.address) {
    warnings.push(
      `the replicas reach the old master as ${old.address}; the config names it ${old.name} at ${s.address} ` +
        `(the same server: ${old.how}).`,
    );
  }
  if (!s.reachable && live) {
    const refusal =
      `the old master ${old.name} (${s.address}) is unreachable from here, but ${live}: it is probably alive and ` +
      'taking writes. Fence it (stop it or cut its network) and re-run, so no write is lost to a split brain.';
    return { warnings, refusals: [refusal] };
  }
  if (!s.reachable) return { warnings };
  warnings.push(
    `the old master ${old.name} (${s.address}) still answers: it will be fenced (read-only, client connections ` +
      'killed) and its last transactions collected before anything else.',
  );
  if (s.replica && !old.passive) {
    warnings.push(
      `the old master ${old.name} itself replicates from ${s.replica.sourceAddress}, which is not one of its ` +
        'replicas; that link is left as it is.',
    );
  }
  return { warnings };
}

/** The replicas' source matches no configured host: fine while it is dead, refused while it may be alive. */
function unknownSource(old: OldMaster, states: HostState[], live: string): Findings {
  if (!live) {
    return {
      warnings: [`the old master ${old.address} is not in the config: it cannot be fenced or checked by mmmf.`],
    };
  }
  const unreachable = states
    .filter((s) => !s.reachable)
    .map((s) => ` ${s.name} (${s.address}) did not answer: if it is that server, mmmf cannot reach it there.`);
  return {
    refusals: [
      `the replicas' master ${old.address}${old.how === 'none' ? '' : ` (${old.how})`} matches no reachable ` +
        `host in the config, but ${live}: ` +
        'it is alive, and mmmf could not fence it. Name that server in the config by an address mmmf can ' +
        'reach (replicas are matched by its server_id), or fence it yourself, then re-run.' +
        unreachable.join(''),
    ],
  };
}

function mixedFlavors(eligible: ReplicaHost[]): string[] {
  if (new Set(eligible.map(flavorOf)).size <= 1) return [];
  const versions = eligible.map((r) => `${r.name}: ${r.version.text}`).join(', ');
  return [
    `the replicas mix MariaDB and MySQL (${versions}): their GTIDs and statements differ, and mmmf does not fail ` +
      'over such a cluster. Leave one flavor out of the config.',
  ];
}

function delayedByFile({ positioning, delayed }: Classes): string[] {
  if (positioning.mode !== 'file' || !delayed.length) return [];
  return [
    `${names(delayed)} ${delayed.length > 1 ? 'are' : 'is'} delayed (MASTER_DELAY): by file and position ` +
      'a delayed position cannot be mapped, so it is stopped and left stopped with its relay log kept; ' +
      'repoint it by hand (or re-run with --lift-delay to apply it now and include it).',
  ];
}

/** A replica that received more than the best one but cannot take part: failing over would lose what only it has. */
function lostIfLeftOut(old: OldMaster, { best, excluded, delayed, positioning }: Classes): string[] {
  if (!best) return [];
  const out: string[] = [];
  for (const r of old.direct) {
    if (compareReceived(r, best, positioning.mode) <= 0) continue;
    const gtid = r.replica.gtidReceived ? `, ${r.replica.gtidReceived}` : '';
    const received = `${formatCoordinates(r.replica.received)}${gtid}`;
    const why = excluded.get(r.name);
    if (delayed.includes(r)) {
      out.push(
        `${r.name} is delayed (MASTER_DELAY ${r.replica.sqlDelay} s) and received transactions no other replica has ` +
          `(up to ${received}; ${best.name} has only up to ${formatCoordinates(best.replica.received)}). ` +
          'Failing over without them would lose them: re-run with --lift-delay to apply its relay log now and ' +
          'use it as the source.',
      );
    } else if (why) {
      out.push(
        `${r.name} received the most from the old master (${formatCoordinates(r.replica.received)}) but cannot be ` +
          `used: ${why} Failing over without it would lose what only it received.`,
      );
    }
  }
  return out;
}

/** By GTID no two replicas may hold different transactions; a best replica that is not the target must pass on. */
function bestRefusals({ best, target, candidates, positioning }: Classes): string[] {
  if (!best) return [];
  const out: string[] = [];
  const bestGtid = receivedGtid(best);
  for (const r of positioning.mode === 'file' ? [] : candidates) {
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

function relayLogPurge({ best, positioning, candidates }: Classes): string[] {
  if (!best || positioning.mode !== 'file' || !best.relayLogPurge || candidates.length <= 1) return [];
  return [
    `${best.name} has relay_log_purge=ON: relay logs it has applied are deleted; a replica further behind than ` +
      'its current relay log is then found in its binlog by GTID, or left stopped when that fails too.',
  ];
}

function nobodyTakesPart(old: OldMaster, { best, excluded, delayed }: Classes): string[] {
  if (best || !old.direct.length) return [];
  const why = [...excluded].map(([n, w]) => `${n}: ${w}`).join(' ');
  return [`no replica can take part in the failover: ${why || `${names(delayed)} are delayed`}`];
}

/** A target that is a replica but left out or not a direct replica; else what keeps it from being a source. */
function targetCannotBePromoted({ states, target: name, old, c }: RuleInput): string[] {
  const state = states.find((s) => s.name === name);
  const target = c.target;
  if (target) return targetFindings(target, c.candidates);
  if (!isReplica(state)) return [];
  const why = c.excluded.get(state.name);
  if (why) return [`target ${state.name} cannot be promoted: ${why}`];
  if (old.direct.includes(state)) return [];
  const via = old.sub.find((x) => x.replica === state)?.via;
  return [
    `target ${state.name} does not replicate from the old master ${old.name ?? old.address}` +
      `${via ? ` but from ${via}, one of its replicas` : ''}: choose a direct replica of it.`,
  ];
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

function leftOut({ excluded }: Classes, target: string): string[] {
  return [...excluded]
    .filter(([name]) => name !== target)
    .map(([name, why]) => `${name} is left out and will not be touched: ${why}`);
}

/** Orphans (see Classes): each moved, left out or refused, said in the order they were found. */
function orphanFindings(old: OldMaster, { orphans, best }: Classes): Findings {
  const warnings: string[] = [];
  const refusals: string[] = [];
  for (const { replica: r, via } of old.orphans) {
    const why = orphans.excluded.get(r.name);
    const ahead = orphans.ahead.get(r.name);
    if (why) warnings.push(`${r.name} is left out and will not be touched: ${why}`);
    else if (ahead && best) {
      refusals.push(
        `${r.name} received ${ahead} transaction(s) through ${via} (which does not answer) that the best replica ` +
          `${best.name} lacks: they would be lost. Bring ${via} back, or fail over to a server that has them.`,
      );
    } else
      warnings.push(`${r.name} replicated from ${via}, which does not answer: it moves under the new master by GTID.`);
  }
  return { warnings, refusals };
}

/** What happens to a master-master pair (active ⇄ passive) in this run. */
function pairNote(old: OldMaster, target: string): string[] {
  if (!old.passive) return [];
  const active = old.name ?? old.address;
  const passive = old.passive.name;
  const pair = `${active} ⇄ ${passive} is a master-master pair`;
  if (!old.state?.reachable) {
    return [
      target === passive
        ? `${pair}: the new active ${passive} stops replicating from the dead ${active}, so nothing ${active} wrote ` +
          `but never sent can flow in when it comes back (mmmf rejoin ${active} brings it back as the passive).`
        : `${pair}: ${passive} follows the new master ${target} like any replica; the pair ends.`,
    ];
  }
  return [
    target === passive
      ? `${pair}: ${active} becomes the read-only passive, replicating from ${passive}, and ${passive} keeps ` +
        `replicating from ${active}: the pair stays circular (MMM's move_role writer).`
      : `${pair}: both become replicas of ${target}; the pair is not re-formed around ${target}.`,
  ];
}

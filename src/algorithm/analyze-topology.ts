import { compareCoordinates, formatCoordinates } from '../binlog/coordinates.js';
import { gtidAhead, gtidRelation, gtidUnion } from '../binlog/gtid.js';
import { compareGtidPos, parseGtidList, parseGtidPos } from '../binlog/mariadb-gtid.js';
import { formatGtidSet, parseGtidSet, subtract } from '../binlog/mysql-gtid-set.js';
import type { Positioning, ResolvedConfig } from '../topology/config-types.js';
import type { HostState } from '../topology/server-state.js';
import type { HostPlan } from './plan-types.js';

/** What the planner concluded about the cluster; `refusals` non-empty means: do not touch anything. */
export interface Analysis {
  oldMaster: { address: string; name?: string; state?: HostState };
  /** Reachable replicas of the old master that take part, in config order. */
  replicas: HostState[];
  target?: HostState;
  best?: HostState;
  hosts: HostPlan[];
  warnings: string[];
  refusals: string[];
  nothingToDo?: string;
  /** How replicas will be positioned, and why (shown in the plan). */
  positioning: { mode: 'gtid' | 'file'; why: string };
}

export interface AnalyzeOptions {
  target: string;
}

/**
 * Errant transactions: written on this replica itself (its own server id in its binlog) and held by no other
 * server. A former master's own writes are not errant: the servers that replicated them hold them too.
 */
export function errantTransactions(s: HostState, all: HostState[]): string[] {
  if (!s.replica) return [];
  if (s.version?.flavor === 'mysql') {
    // MySQL: GTIDs named by this server's own server_uuid that no other server holds.
    if (!s.serverUuid) return [];
    const own = new Map(
      [...parseGtidSet(s.gtidApplied)].filter(([k]) => k.split(':')[0] === s.serverUuid!.toLowerCase()),
    );
    const elsewhere = all
      .filter((o) => o !== s && o.reachable && o.version?.flavor === 'mysql')
      .reduce(
        (acc, o) => gtidUnion('mysql', acc, gtidUnion('mysql', o.gtidApplied ?? '', o.replica?.gtidReceived ?? '')),
        '',
      );
    const errant = formatGtidSet(subtract(own, parseGtidSet(elsewhere)));
    return errant ? errant.split(',') : [];
  }
  if (s.version?.flavor !== 'mariadb') return [];
  const own = parseGtidList(s.gtidBinlogState ?? s.gtidBinlog).filter((g) => g.server === s.serverId);
  const elsewhere = all
    .filter((o) => o !== s && o.reachable)
    .flatMap((o) => [
      ...parseGtidList(o.gtidBinlogState ?? o.gtidBinlog),
      ...parseGtidList(o.gtidApplied),
      ...parseGtidList(o.replica?.gtidReceived),
    ]);
  return own.flatMap((g) => {
    const known = Math.max(
      0,
      ...elsewhere.filter((e) => e.domain === g.domain && e.server === g.server).map((e) => e.seq),
    );
    // Sequence numbers count the whole domain, so only the last errant GTID is known, not how many there are.
    return known >= g.seq ? [] : [`${g.domain}-${g.server}-${g.seq}`];
  });
}

/**
 * A replica that was a master once holds its own writes in its binlog but not in gtid_slave_pos; it must be
 * positioned from gtid_current_pos, or it would ask for (and apply again) what it already has.
 */
export function isFormerMaster(s: HostState): boolean {
  return (
    s.version?.flavor === 'mariadb' &&
    compareGtidPos(parseGtidPos(s.gtidCurrent ?? s.gtidApplied), parseGtidPos(s.gtidApplied)) === 'ahead'
  );
}

/**
 * GTIDs a replica has received from the old master (applied or still in its relay log). MariaDB's Gtid_IO_Pos
 * already includes what was applied; MySQL's Retrieved_Gtid_Set covers only this channel's relay log.
 */
function receivedGtid(s: HostState): string {
  if (s.version?.flavor === 'mysql') return gtidUnion('mysql', s.gtidApplied ?? '', s.replica?.gtidReceived ?? '');
  return s.replica?.gtidReceived || s.gtidApplied || '';
}
const flavorOf = (s: HostState) => s.version?.flavor ?? 'mariadb';

/**
 * Who received more: by received GTIDs when they tell (ahead/behind), else by old-master binlog coordinates
 * (file number, then position), which also break a tie in favour of a half-received last transaction.
 * CHANGE MASTER clears the coordinates, so either may be unknown.
 */
export function compareReceived(a: HostState, b: HostState, mode: 'gtid' | 'file' = 'gtid'): number {
  // By file and position, GTIDs are not trusted: only the old master's coordinates count.
  const rel =
    mode === 'gtid' && flavorOf(a) === flavorOf(b)
      ? gtidRelation(flavorOf(a), receivedGtid(a), receivedGtid(b))
      : 'equal';
  if (rel === 'ahead') return 1;
  if (rel === 'behind') return -1;
  const ra = a.replica!.received;
  const rb = b.replica!.received;
  return ra.file && rb.file ? compareCoordinates(ra, rb) : 0;
}

/**
 * 'auto' trusts what the cluster already does: GTID when every replica replicates with it, else file and
 * position (a replica set up by file may have a gtid_slave_pos that does not describe its data).
 */
export function choosePositioning(wanted: Positioning, replicas: HostState[]): Analysis['positioning'] {
  if (wanted !== 'auto') return { mode: wanted, why: `positioning '${wanted}' was asked for` };
  const byFile = replicas.filter((r) => r.replica!.gtidMode === 'No');
  if (!byFile.length) return { mode: 'gtid', why: 'auto: every replica already replicates with GTIDs' };
  return {
    mode: 'file',
    why: `auto: ${byFile.map((r) => r.name).join(', ')} ${byFile.length === 1 ? 'replicates' : 'replicate'} by file and position (Using_Gtid: No), so GTID positions are not trusted`,
  };
}

const versionKey = (s: HostState) => (s.version ? s.version.major * 1e6 + s.version.minor * 1e3 + s.version.patch : 0);

/** Pure: reads probed state, decides roles, the old master, the best replica and what makes a failover unsafe. */
export function analyzeTopology(config: ResolvedConfig, states: HostState[], opts: AnalyzeOptions): Analysis {
  const warnings: string[] = [];
  const refusals: string[] = [];
  const byName = new Map(states.map((s) => [s.name, s]));
  const target = byName.get(opts.target);
  const replicasAll = states.filter((s) => s.reachable && s.replica);

  // The old master is whatever the replicas replicate from; every reachable replica must agree.
  const sources = new Map<string, string[]>();
  for (const r of replicasAll) {
    const a = `${r.replica!.sourceHost}:${r.replica!.sourcePort}`;
    sources.set(a, [...(sources.get(a) ?? []), r.name]);
  }
  const configByAddress = new Map(config.hosts.map((h) => [`${h.host}:${h.port}`, h.name]));

  if (target && target.reachable && !target.replica && replicasAll.length > 0 && sources.size === 1) {
    const [only] = sources.keys();
    if (only === target.address) {
      return {
        oldMaster: { address: target.address, name: target.name, state: target },
        replicas: replicasAll,
        target,
        hosts: describeHosts(states, target.name, target.address, new Map()),
        warnings,
        refusals,
        positioning: choosePositioning(config.positioning, replicasAll),
        nothingToDo: `${target.name} already is the master of every reachable replica (${replicasAll.map((r) => r.name).join(', ')}); nothing to do.`,
      };
    }
  }

  if (!target) refusals.push(`--failover-to ${opts.target}: no such host in the config`);
  else if (!target.reachable)
    refusals.push(
      `target ${target.name} (${target.address}) is unreachable: ${target.error}. Fix connectivity or choose another target.`,
    );
  else if (!target.replica)
    refusals.push(
      `target ${target.name} does not replicate from anything, so it is not a replica of the old master. Choose one of: ${replicasAll.map((r) => r.name).join(', ') || '(no reachable replica)'}.`,
    );

  if (replicasAll.length === 0) {
    refusals.push(
      'no reachable server replicates from anything: there is no replica to promote. Run `mmmf status` to see what answers.',
    );
    return {
      oldMaster: { address: '?' },
      replicas: [],
      hosts: describeHosts(states, opts.target, '?', new Map()),
      warnings,
      refusals,
      positioning: choosePositioning(config.positioning, []),
    };
  }
  if (sources.size > 1) {
    const detail = [...sources].map(([a, names]) => `${names.join(', ')} → ${a}`).join('; ');
    refusals.push(
      `replicas disagree about their master (${detail}). mmmf will not guess which one is the old master: repoint the odd ones or remove them from the config, then re-run.`,
    );
    return {
      oldMaster: { address: '?' },
      replicas: [],
      hosts: describeHosts(states, opts.target, '?', new Map()),
      warnings,
      refusals,
      positioning: choosePositioning(config.positioning, replicasAll),
    };
  }

  const oldAddress = [...sources.keys()][0]!;
  const oldName = configByAddress.get(oldAddress);
  const oldState = oldName ? byName.get(oldName) : undefined;
  if (!oldName)
    warnings.push(`the old master ${oldAddress} is not in the config: it cannot be fenced or checked by mmmf.`);
  if (oldState?.reachable) {
    warnings.push(
      `the old master ${oldName} (${oldAddress}) still answers: it will be fenced (read-only, client connections killed) and its last transactions collected before anything else.`,
    );
    if (oldState.replica)
      warnings.push(
        `the old master ${oldName} itself replicates from ${oldState.replica.sourceHost}:${oldState.replica.sourcePort} (master-master); that link is left as it is.`,
      );
  } else if (oldName) {
    const live = replicasAll.filter((r) => r.replica!.ioRunning === 'Yes');
    if (live.length) {
      refusals.push(
        `the old master ${oldName} (${oldAddress}) is unreachable from here, but ${live.map((r) => r.name).join(', ')} still ${live.length > 1 ? 'have' : 'has'} a running IO thread connected to it: it is probably alive and taking writes. Fence it (stop it or cut its network) and re-run, so no write is lost to a split brain.`,
      );
    }
  }

  const excluded = new Map<string, string>();
  const candidates: HostState[] = [];
  for (const r of replicasAll) {
    const errant = errantTransactions(r, states);
    if (errant.length) {
      excluded.set(
        r.name,
        `errant transactions ${errant.join(', ')} written on this replica itself (in its binlog, never replicated): it would break or spread them when repointed. Remove them or rebuild it.`,
      );
      continue;
    }
    if (r.replica!.lastSqlError && !r.replica!.sqlRunning) {
      excluded.set(
        r.name,
        `its SQL thread stopped with an error (${r.replica!.lastSqlError}), so its relay log cannot be applied. Fix the error and re-run to include it.`,
      );
      continue;
    }
    if (r.replica!.filters.length) {
      excluded.set(
        r.name,
        `replication filters (${r.replica!.filters.join('; ')}) mean it does not hold every transaction.`,
      );
      continue;
    }
    candidates.push(r);
  }
  const flavors = new Set(candidates.map(flavorOf));
  if (flavors.size > 1) {
    refusals.push(
      `the replicas mix MariaDB and MySQL (${candidates.map((r) => `${r.name}: ${r.version?.text}`).join(', ')}): their GTIDs and statements differ, and mmmf does not fail over such a cluster. Leave one flavor out of the config.`,
    );
  }
  const positioning = choosePositioning(config.positioning, candidates);
  const byFile = positioning.mode === 'file';
  for (const r of candidates.slice()) {
    const rs = r.replica!;
    let why: string | undefined;
    if (byFile && !rs.executed.file)
      why =
        'it reports no old-master coordinates (Relay_Master_Log_File is empty), so its position cannot be mapped by file.';
    else if (!byFile && r.version?.flavor === 'mysql' && !r.gtidEnabled) {
      why =
        'gtid_mode is not ON (with enforce_gtid_consistency) here, so it cannot be positioned by GTID. Use --positioning file.';
    } else if (!byFile && rs.gtidMode === 'No' && !r.gtidApplied && rs.executed.file) {
      why =
        'it replicates by file and its gtid_slave_pos is empty: positioned by GTID it would apply everything again. Use --positioning file.';
    }
    if (why) {
      excluded.set(r.name, why);
      candidates.splice(candidates.indexOf(r), 1);
    }
  }

  // Best = received the most from the old master. Ties go to the target, so it needs no equalization.
  const rank = (a: HostState, b: HostState) => compareReceived(a, b, positioning.mode);
  let best: HostState | undefined;
  for (const r of candidates) {
    if (!best || rank(r, best) > 0 || (rank(r, best) === 0 && r.name === opts.target)) best = r;
  }
  const mostOverall = replicasAll.reduce<HostState | undefined>((m, r) => (!m || rank(r, m) > 0 ? r : m), undefined);
  if (mostOverall && best && rank(mostOverall, best) > 0) {
    refusals.push(
      `${mostOverall.name} received the most from the old master (${formatCoordinates(mostOverall.replica!.received)}) but cannot be used: ${excluded.get(mostOverall.name)} Failing over without it would lose what only it received.`,
    );
  }
  if (best) {
    const bestGtid = receivedGtid(best);
    for (const r of byFile ? [] : candidates) {
      if (r === best) continue;
      const rel = gtidRelation(flavorOf(best), bestGtid, receivedGtid(r));
      if (rel === 'diverged' || rel === 'behind') {
        refusals.push(
          `split brain: ${best.name} (${best.replica!.gtidReceived || best.gtidApplied}) and ${r.name} (${r.replica!.gtidReceived || r.gtidApplied}) hold different transactions, so no replica has everything. Reconcile them by hand; mmmf will not pick a side.`,
        );
      }
    }
    if (best !== target && !(best.logBin && best.logReplicaUpdates)) {
      refusals.push(
        `${best.name} received the most but cannot pass it on (log_bin=${onOff(best.logBin)}, log_slave_updates=${onOff(best.logReplicaUpdates)}). Fail over to ${best.name} instead, or enable both there.`,
      );
    }
    if (byFile && best.relayLogPurge && candidates.length > 1) {
      warnings.push(
        `${best.name} has relay_log_purge=ON: relay logs it has applied are deleted, so a replica further behind than its current relay log cannot be mapped by file and will be left stopped. Set relay_log_purge=OFF on replicas that may become the best one.`,
      );
    }
  } else if (replicasAll.length) {
    refusals.push(
      'no replica can take part in the failover: ' + [...excluded].map(([n, why]) => `${n}: ${why}`).join(' '),
    );
  }

  if (target?.reachable && target.replica) {
    const why = excluded.get(target.name);
    if (why) refusals.push(`target ${target.name} cannot be promoted: ${why}`);
    else if (target.replica && `${target.replica.sourceHost}:${target.replica.sourcePort}` !== oldAddress) {
      refusals.push(`target ${target.name} does not replicate from the old master ${oldAddress}.`);
    } else if (!(target.logBin && target.logReplicaUpdates)) {
      refusals.push(
        `target ${target.name} has log_bin=${onOff(target.logBin)}, log_slave_updates=${onOff(target.logReplicaUpdates)}: replicas could not replicate from it. Enable both (they need a restart) or choose another target.`,
      );
    }
    for (const r of candidates) {
      if (r !== target && versionKey(r) > versionKey(target)) {
        refusals.push(
          `target ${target.name} runs ${target.version?.text}, older than ${r.name} (${r.version?.text}); a replica must not be newer than its source. Choose a target at least as new.`,
        );
      }
    }
  }

  for (const [name, why] of excluded)
    if (name !== target?.name) warnings.push(`${name} is left out and will not be touched: ${why}`);
  return {
    oldMaster: { address: oldAddress, ...(oldName ? { name: oldName } : {}), ...(oldState ? { state: oldState } : {}) },
    replicas: candidates,
    ...(target ? { target } : {}),
    ...(best ? { best } : {}),
    hosts: describeHosts(states, opts.target, oldAddress, excluded).map((h) => {
      const s = candidates.find((r) => r.name === h.name);
      if (!s || !best) return h;
      if (byFile) {
        const at = `received ${formatCoordinates(s.replica!.received)}, executed ${formatCoordinates(s.replica!.executed)}`;
        return {
          ...h,
          note: `${h.note}; ${at}${s === best ? ', the most' : rank(s, best) < 0 ? `, behind ${best.name}` : `, as much as ${best.name}`}`,
        };
      }
      const behind = gtidAhead(flavorOf(best), receivedGtid(best), receivedGtid(s));
      const at = `received ${s.replica!.gtidReceived || s.gtidApplied || '-'} (${formatCoordinates(s.replica!.received)})`;
      return {
        ...h,
        note: `${h.note}; ${at}, ${s === best ? 'the most' : behind ? `${behind} behind ${best.name}` : `as much as ${best.name}`}`,
      };
    }),
    warnings,
    refusals,
    positioning,
  };
}

const onOff = (b: boolean | undefined) => (b ? 'ON' : 'OFF');

function describeHosts(
  states: HostState[],
  target: string,
  oldAddress: string,
  excluded: Map<string, string>,
): HostPlan[] {
  return states.map((s): HostPlan => {
    const base = { name: s.name, address: s.address };
    if (s.address === oldAddress)
      return { ...base, role: 'old-master', note: s.reachable ? 'alive: will be fenced' : `unreachable (${s.error})` };
    if (!s.reachable) return { ...base, role: 'unreachable', note: `left alone: ${s.error}` };
    if (excluded.has(s.name)) return { ...base, role: 'excluded', note: excluded.get(s.name)! };
    if (!s.replica || `${s.replica.sourceHost}:${s.replica.sourcePort}` !== oldAddress) {
      return { ...base, role: 'outside', note: 'does not replicate from the old master: left alone' };
    }
    if (s.name === target) return { ...base, role: 'target', note: 'will be promoted' };
    return { ...base, role: 'replica', note: 'will replicate from the new master' };
  });
}

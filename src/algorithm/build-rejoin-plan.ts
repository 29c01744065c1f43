import { extraTransactions } from '../binlog/gtid.js';
import { parseGtidList } from '../binlog/mariadb-gtid.js';
import { accept, type Outcome, refuse } from '../domain/outcome.js';
import type { ResolvedConfig } from '../topology/config-types.js';
import { matchSource } from '../topology/identity.js';
import { type HostState, isProbed, isReplica, type ProbedHost } from '../domain/server-state.js';
import { findOldMaster } from './find-old-master.js';
import { soleWritableMaster } from './writers.js';
import type { HostPlan, Plan, SemiSyncChange, Step } from './plan-types.js';
import { coordinatesOf, dialectOf, sourceSpec, StepList } from './plan/context.js';
import { fenceWrites } from './plan/fence.js';
import { ackStatusSql, followerChange, noReplicaPlugin, showChange } from './plan/semi-sync.js';
import { semiSyncIntent } from './semi-sync-intent.js';
import { choosePositioning, wroteAsMaster } from './replica-facts.js';
import type { PositioningMode } from '../domain/positioning.js';

/** The two servers a rejoin is about: the former master coming back, and the current master. */
export interface RejoinParties {
  host: ProbedHost;
  master: ProbedHost;
  /** Why `master` is the master when the replicas name another (shown among the plan's warnings). */
  evidence?: string;
}

const stateOf = (s: ProbedHost) => (s.version.flavor === 'mariadb' ? (s.gtidBinlogState ?? '') : (s.gtidBinlog ?? ''));

/** What only the returning host holds: GTIDs in its binlog the master never received (empty: nothing). */
const heldOnlyBy = ({ host, master }: RejoinParties): string[] =>
  extraTransactions(host.version.flavor, stateOf(host), stateOf(master));

/** Rejoin compares GTIDs: both servers of one flavor, and GTIDs on where the flavor makes them optional. */
const comparable = ({ host, master }: RejoinParties) =>
  host.version.flavor === master.version.flavor && (host.version.flavor === 'mariadb' || !!host.gtidEnabled);

/** The parties, when a rejoin is refused because the host holds what the master lacks (the command lists it). */
export function partiesHoldingExtra(states: HostState[], name: string, published?: string): RejoinParties | undefined {
  const p = findRejoinParties(states, name, published);
  return p.ok && comparable(p.value) && heldOnlyBy(p.value).length ? p.value : undefined;
}

/**
 * Pure: the returning host and the writable master it would follow, or why there is no such pair. `published`:
 * the master the last run that promoted one published in the cluster's store.
 */
export function findRejoinParties(states: HostState[], name: string, published?: string): Outcome<RejoinParties> {
  const host = states.find((s) => s.name === name);
  if (!host) return refuse([], `rejoin ${name}: no such host in the config`);
  if (!isProbed(host)) return refuse([], `${name} does not answer (${host.error}): start it, then run rejoin again`);
  // Who the master is: as the replicas say (a pair already circular again), else without counting what `name`
  // itself replicates from (a returning former master may still name its old partner, or anything).
  const whole = findOldMaster(states);
  const settled = whole.ok && whole.value.name !== name && whole.value.state?.readOnly === false;
  const found = settled
    ? whole
    : findOldMaster(states.map((s) => (s.name === name ? { ...s, replica: undefined } : s)));
  const master = found.ok ? found.value.state : undefined;
  if (isProbed(master) && master.name !== name && master.readOnly === false) return accept({ host, master });
  const named = found.ok
    ? `the replicas replicate from ${found.value.name ?? found.value.address}` +
      (isProbed(master) ? (master.readOnly ? ', which is read-only' : '') : ', which does not answer')
    : undefined;
  const recorded = publishedMaster(states, name, published);
  if (recorded) {
    const evidence =
      `${recorded.name} is the master: the run that promoted it published it, and it is the one writable ` +
      `master; ${named ?? (found.ok ? '' : found.refusals.join(' '))}`;
    return accept({ host, master: recorded, evidence });
  }
  if (!found.ok) return refuse(found.refusals, `cannot tell which server is the master`);
  const notPublished =
    published && published !== name ? `; ${published}, published as the master, is not the one writable master` : '';
  return refuse([`${named}${notPublished}`], `no reachable writable master to rejoin ${name} to`);
}

/**
 * The master a failover promoted and published, when the replicas still name one that is gone: every replica
 * it was to repoint failed or was left stopped (a delayed one by file), so none names it yet (chaos seed 70580).
 * Taken only when it answers and is the one writable master the servers show; rejoin then checks GTIDs first.
 */
function publishedMaster(states: HostState[], name: string, published?: string): ProbedHost | undefined {
  const s = states.find((x) => x.name === published);
  if (!s || s.name === name || !isProbed(s)) return undefined;
  return soleWritableMaster(states) === s.name ? s : undefined;
}

/**
 * Pure: `mmmf rejoin NAME` (MMM's AWAITING_RECOVERY → set_online): the plan that makes a former master that
 * came back after a failover a read-only replica of the current master — only when it holds nothing the master
 * lacks. What only it holds (written but never sent before it died) is refused and listed, never merged or
 * thrown away.
 */
export function buildRejoinPlan(
  config: ResolvedConfig,
  states: HostState[],
  name: string,
  published?: string,
): Outcome<Plan> {
  const parties = findRejoinParties(states, name, published);
  if (!parties.ok) return parties;
  const { host, master } = parties.value;
  if (!comparable(parties.value)) {
    return refuse(
      [
        `${name} is ${host.version.text}${host.gtidEnabled ? '' : ' without GTIDs'}; ` +
          `${master.name} is ${master.version.text}`,
        'rebuild it from a backup of the master, or repoint it by hand at a position you have checked',
      ],
      `rejoin ${name}: only by GTID, between servers of one flavor`,
    );
  }
  const extra = heldOnlyBy(parties.value);
  if (extra.length) {
    return refuse(
      [`${extra.join(', ')} (in ${name}'s binlog, never received by ${master.name})`],
      `${name} holds transactions that ${master.name} (the master) does not have: refusing, nothing was changed`,
    );
  }
  const others = states.filter(isReplica).filter((r) => r.name !== name);
  const onTls = others.filter((r) => r.replica.tls);
  if (onTls.length && !config.replication.ssl && !host.replica?.tls) {
    return refuse(
      [
        `${onTls.map((r) => r.name).join(', ')} replicate over TLS, ${name} has no TLS channel of its own to ` +
          'carry, and replication.ssl is not configured: add ' +
          "replication: { ..., ssl: { ca: '/path/on/the/replicas/ca.pem' } }",
      ],
      `rejoin ${name}: its channel would be the one plaintext channel of the cluster`,
    );
  }
  const mode = choosePositioning(config.positioning, others).mode;
  const partner = host.replica ? matchSource(host.replica, states).name === master.name : false;
  const running = (s: HostState) => s.replica?.ioRunning === 'Yes' && s.replica.sqlRunning;
  const masterFollows = master.replica ? matchSource(master.replica, states).name === name && running(master) : false;
  if (partner && running(host) && host.readOnly && (masterFollows || !pairWanted(host, master))) {
    return accept(rejoinPlan(config, host, master, states, { pair: false, nothing: true, mode }));
  }
  const pair = partner && pairWanted(host, master);
  return accept(rejoinPlan(config, host, master, states, { pair, mode, evidence: parties.value.evidence }));
}

/**
 * A pair is restored only for a former active master (it once wrote as a master) whose channel
 * still names its old passive, now the master, which replicates from nothing. A replica that a failed run left
 * pointing at the new master names it too, but it was never a master: it joins as a plain replica. On MariaDB
 * it must also be the last writer before the master's own writes: a passive that was active for a while long
 * ago, left pointing at another replica promoted after its partner died, is no partner of that one (chaos seed
 * 70642: the rejoin made the new master replicate from it).
 */
function pairWanted(host: ProbedHost, master: ProbedHost): boolean {
  if (master.replica || !wroteAsMaster(host)) return false;
  const last = lastWriterBefore(master);
  return last === undefined || last === host.serverId;
}

/**
 * MariaDB: the server id whose transaction came last before the master's own, in the domain the master writes
 * (sequence numbers grow across servers within a domain; null: nobody's). Undefined on MySQL, whose GTIDs do
 * not order servers.
 */
function lastWriterBefore(master: ProbedHost): number | null | undefined {
  if (master.version.flavor !== 'mariadb') return undefined;
  const state = parseGtidList(master.gtidBinlogState ?? master.gtidBinlog);
  const domains = new Set(state.map((g) => g.domain));
  // The domain it writes in: its own entry's, or the only one there is (else no order to read).
  const domain =
    state.find((g) => g.server === master.serverId)?.domain ?? (domains.size === 1 ? [...domains][0] : undefined);
  if (domain === undefined) return undefined;
  const others = state.filter((g) => g.domain === domain && g.server !== master.serverId);
  return others.sort((a, b) => b.seq - a.seq).at(0)?.server ?? null;
}

function rejoinPlan(
  config: ResolvedConfig,
  host: ProbedHost,
  master: ProbedHost,
  states: HostState[],
  o: { pair: boolean; nothing?: boolean; mode: PositioningMode; evidence?: string | undefined },
): Plan {
  const list = new StepList();
  // Semi-sync: a former master comes back with its master side as it left it; as a replica it acknowledges
  // instead (the master's own side is untouched: it already runs, or it does not).
  const intent = semiSyncIntent(
    config,
    master,
    states.filter((s) => s.name !== host.name),
  );
  const base: Plan = {
    kind: 'rejoin',
    target: host.name,
    targetWhy: wroteAsMaster(host) ? 'a former master' : 'a replica left out of the cluster',
    oldMaster: { address: master.address, name: master.name, reachable: true },
    best: master.name,
    positioning: o.mode,
    positioningWhy:
      o.mode === 'gtid'
        ? 'a former master continues from gtid_current_pos (everything it holds, written or replicated)'
        : 'the cluster replicates by file: it continues right after its own last transaction in the binlog of ' +
          'its source',
    hosts: rejoinHosts(states, host.name, master.name, o.pair),
    warnings: [
      ...(o.evidence ? [o.evidence] : []),
      ...(intent && !ackStatusSql(intent, host) ? [noReplicaPlugin(host, master.name)] : []),
    ],
    steps: list.steps,
    ...(intent ? { semiSync: rejoinSemiSync(intent.why, host) } : {}),
  };
  if (o.nothing) {
    return { ...base, nothingToDo: `${host.name} already replicates from ${master.name}, read-only: nothing to do.` };
  }
  rejoinSteps(list, config, host, master, { pair: o.pair, byFile: o.mode === 'file', intent });
  return base;
}

/** Fence the returning host, confirm the master holds all it has, repoint it (and the master back, for a pair). */
function rejoinSteps(
  list: StepList,
  config: ResolvedConfig,
  host: ProbedHost,
  master: ProbedHost,
  o: { pair: boolean; byFile: boolean; intent: ReturnType<typeof semiSyncIntent> },
): void {
  const { byFile, intent } = o;
  const { kill } = fenceWrites(list, host, {
    readOnly: [
      'Make it read-only',
      'a former master may come back writable: nothing may be written on it from here on',
    ],
    kill: ['Kill its client connections', 'open transactions must not commit after the check'],
  });
  const ownSql = dialectOf(host).binlogStateSql();
  const masterSql = dialectOf(master).binlogStateSql();
  const confirm = list.add({
    phase: 'confirm',
    host: host.name,
    title: `Confirm ${master.name} holds everything ${host.name} has`,
    action: { kind: 'confirm-contained', master: master.name, ownSql, masterSql },
    sql: [ownSql, `${masterSql} -- on ${master.name}`],
    why: 'checked again now that nothing can be written on it: a transaction only it holds is never merged or lost',
    after: [kill],
  });
  const semiSync = intent ? followerChange(intent, host) : undefined;
  const ack = ackStatusSql(intent, host);
  const repoint = repointTo(list, host, master, config, { after: confirm, readOnly: true, byFile, semiSync });
  const verify = verifyOn(list, host, master.name, repoint, { byFile, semiSyncStatus: ack });
  if (o.pair) {
    const back = repointTo(list, master, host, config, { after: verify, readOnly: false, byFile });
    verifyOn(list, master, host.name, back, { byFile });
  }
}

function rejoinSemiSync(why: string, host: ProbedHost): string {
  const off = host.semiSync?.master?.enabled ? ', its master side off' : '';
  return `${why}; ${host.name} rejoins with its replica side on${off}`;
}

/** The plan's Hosts table: the returning host, the master, everyone else untouched. */
function rejoinHosts(states: HostState[], host: string, master: string, pair: boolean): HostPlan[] {
  return states.map((s) => ({
    name: s.name,
    address: s.address,
    role: s.name === host ? 'target' : s.name === master ? 'old-master' : 'outside',
    note:
      s.name === host
        ? `will replicate from ${master}${pair ? ' as the passive side of the pair' : ''}, read-only`
        : s.name === master
          ? `the master${pair ? `; will replicate from ${host} again (the pair is circular again)` : ''}`
          : 'untouched',
  }));
}

function repointTo(
  list: StepList,
  r: ProbedHost,
  source: ProbedHost,
  config: ResolvedConfig,
  o: { after: Step; readOnly: boolean; byFile: boolean; semiSync?: SemiSyncChange | undefined },
): Step {
  const rd = dialectOf(r);
  const stop = rd.stopReplication();
  // By file: where it continues in the source's binlog is found at run time (its last transaction there).
  const mapped = o.byFile
    ? list.add({
        // Its own phase before the repoint (steps of one parallel phase do not wait for each other); the
        // pair's phase runs in order.
        phase: o.readOnly ? 'map' : 'pair',
        host: r.name,
        title: `Find its last transaction in ${source.name}'s binlog`,
        action: { kind: 'map-rejoin', source: source.name },
        sql: [`${rd.binaryLogsSql()} -- then the events of its last binlog file, and the same on ${source.name}`],
        why: 'by file and position it continues right after what it holds, found by GTID in the source binlog',
        after: [o.after],
      })
    : undefined;
  const at = mapped ? ({ step: mapped.n, key: 'file' } as const) : undefined;
  const change = mapped
    ? rd.changeSourceFile(sourceSpec(config, source.name, r), coordinatesOf(mapped.n), true)
    : rd.changeSourceGtid(sourceSpec(config, source.name, r), true, true);
  const setReadOnly = o.readOnly ? rd.setReadOnly(true) : [];
  const start = rd.startReplication();
  return list.add({
    phase: o.readOnly ? 'repoint' : 'pair',
    host: r.name,
    title: o.readOnly ? `Replicate from ${source.name}` : `Replicate from ${source.name} again (the pair is circular)`,
    action: {
      kind: 'repoint',
      source: source.name,
      ...(mapped ? {} : { formerMaster: true }),
      ...(at ? { at, remap: true } : {}),
      stop,
      change,
      setReadOnly,
      ...(o.semiSync ? { semiSync: o.semiSync } : {}),
      start,
    },
    sql: [stop, change, ...setReadOnly, ...showChange(o.semiSync), start],
    why: o.readOnly
      ? mapped
        ? `continues right after its last transaction in ${source.name}'s binlog`
        : `continues from gtid_current_pos: everything it holds is in ${source.name}'s binlog`
      : `MMM's pair: the active replicates from its passive too; it stays writable`,
    after: [o.after, mapped],
  });
}

function verifyOn(
  list: StepList,
  r: ProbedHost,
  source: string,
  after: Step,
  { byFile, semiSyncStatus }: { byFile: boolean; semiSyncStatus?: string | undefined },
): Step {
  const rd = dialectOf(r);
  const pos = { file: `<binlog file of ${source}>`, position: `<binlog pos of ${source}>` };
  // CHANGE MASTER keeps MASTER_DELAY: a delayed replica applies behind on purpose, and waiting for it to catch up
  // failed every rejoin of one (chaos seed 70293).
  const delay = r.replica?.sqlDelay ?? 0;
  return list.add({
    phase: after.phase === 'pair' ? 'pair' : 'verify',
    host: r.name,
    title: `Verify it replicates from ${source}`,
    action: {
      kind: 'verify-replica',
      source,
      ...(byFile ? { byFile: true } : { formerMaster: true }),
      ...(delay ? { delayed: true } : {}),
      ...(semiSyncStatus ? { semiSyncStatus } : {}),
    },
    sql: [
      `${rd.replicaStatusSql()} -- repeated until IO and SQL threads run`,
      delay
        ? `-- not waited for: it keeps its delay of ${delay} s and applies behind on purpose`
        : byFile
          ? `${rd.waitForPositionSql(pos, 1)} -- repeated until >= 0`
          : `${rd.currentGtidSql()} -- repeated until it holds <binlog GTID position of ${source}>`,
      ...(semiSyncStatus ? [`${semiSyncStatus} -- repeated until ON: it acknowledges ${source}'s commits`] : []),
    ],
    why: 'a rejoin is done only when replication runs and has caught up',
    after: [after],
  });
}

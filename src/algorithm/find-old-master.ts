import { accept, type Outcome, refuse } from '../domain/outcome.js';
import { matchSource, type SourceMatch } from '../topology/identity.js';
import { type HostState, isReplica, type ReplicaHost } from '../domain/server-state.js';

/**
 * Who the old master is, found from what the replicas replicate from (never declared), by identity.
 *
 * @example { key: 'test1', name: 'test1', address: '127.0.0.1:33001', how: 'server_id 1', direct: [...], sub: [] }
 */
export interface OldMaster {
  key: string;
  /** The configured host it is, when one matches. */
  name?: string;
  /** host:port as its replicas name it. */
  address: string;
  /** The evidence that matched it to `name`. */
  how: string;
  state?: HostState;
  /** Replicas that replicate from it directly. */
  direct: ReplicaHost[];
  /** Replicas of those replicas (a tree): they stay under their intermediate master. */
  sub: { replica: ReplicaHost; via: string }[];
  /**
   * The passive side of a master-master pair: the direct replica the old master itself replicates from
   * (MMM's circular replication). Discovered, never declared.
   */
  passive?: ReplicaHost;
  /**
   * Replicas of an intermediate master that does not answer (`via`): their GTIDs show they received the old
   * master's stream through it, so mmmf can move them under the new master by GTID.
   */
  orphans: { replica: ReplicaHost; via: string }[];
}

/**
 * Follows every reachable replica's source up the chain (a replica of a replica leads to its intermediate
 * master's source) to a root. One root is the old master; several roots, or a loop, are refused: mmmf will not
 * guess which server was the master.
 */
type Root = { match: SourceMatch; replicas: ReplicaHost[] };

export function findOldMaster(states: HostState[]): Outcome<OldMaster> {
  const replicas = states.filter(isReplica);
  const matches = new Map(replicas.map((r) => [r.name, matchSource(r.replica, states)]));
  const walked = walkToRoots(states, replicas, matches);
  if (!walked.ok) return walked;
  const { roots, sub } = walked.value;
  const orphans = roots.size > 1 ? orphanRoots(roots, states) : undefined;
  if (orphans) for (const key of orphans.keys()) roots.delete(key);
  if (roots.size > 1) {
    const detail = [...roots.values()]
      .map((x) => `${x.replicas.map((r) => r.name).join(', ')} → ${x.match.name ?? x.match.address} (${x.match.how})`)
      .join('; ');
    return refuse([
      `replicas disagree about their master (${detail}). mmmf will not guess which one is the old master: ` +
        'repoint the odd ones or remove them from the config, then re-run.',
    ]);
  }
  const [root] = roots.values();
  if (!root) return refuse(['no reachable server replicates from anything']);
  // The active side of a pair replicates from its passive side: it is the master, not one of its replicas.
  const notRoot = (r: ReplicaHost) => r.name !== root.match.name;
  root.replicas = root.replicas.filter(notRoot);
  const subReplicas = sub.filter((x) => notRoot(x.replica));
  const state = root.match.name ? states.find((s) => s.name === root.match.name) : undefined;
  const passive = isReplica(state) ? root.replicas.find((r) => matches.get(state.name)?.name === r.name) : undefined;
  return accept({
    key: root.match.key,
    ...(root.match.name ? { name: root.match.name } : {}),
    address: root.match.address,
    how: root.match.how,
    ...(state ? { state } : {}),
    direct: root.replicas,
    sub: subReplicas,
    ...(passive ? { passive } : {}),
    orphans: [...(orphans ?? new Map<string, Root>()).values()].flatMap((o) =>
      o.replicas.map((replica) => ({ replica, via: o.match.name ?? o.match.address })),
    ),
  });
}

/** Each replica's root (its source, walked up through read-only replicas), and the replicas found below another. */
function walkToRoots(
  states: HostState[],
  replicas: ReplicaHost[],
  matches: Map<string, SourceMatch>,
): Outcome<{ roots: Map<string, Root>; sub: OldMaster['sub'] }> {
  const byName = new Map(replicas.map((r) => [r.name, r]));
  const roots = new Map<string, Root>();
  const sub: OldMaster['sub'] = [];
  const matchOf = (r: ReplicaHost) => matches.get(r.name) ?? matchSource(r.replica, states);
  const replicaNamed = (m: SourceMatch) => (m.name ? byName.get(m.name) : undefined);
  for (const r of replicas) {
    let m = matchOf(r);
    const seen = new Set([r.name]);
    let via: string | undefined;
    // Walk up while the source is itself a configured, reachable replica that is read-only: a writable server
    // is a master even when it replicates (the active side of a master-master pair). A catch-up that a run left
    // behind is no tree: its replica is one of the old master's own (see leftByCatchUp).
    const first = replicaNamed(m);
    if (first && leftByCatchUp(r)) m = matchOf(first);
    for (let up = replicaNamed(m); up && up.readOnly !== false; up = replicaNamed(m)) {
      if (seen.has(up.name)) return refuse([loopRefusal([...seen])]);
      seen.add(up.name);
      via ??= up.name;
      m = matchOf(up);
    }
    const root = roots.get(m.key) ?? { match: m, replicas: [] };
    roots.set(m.key, root);
    if (via) sub.push({ replica: r, via });
    else root.replicas.push(r);
  }
  return accept({ roots, sub });
}

/**
 * A replica that a failed run's catch-up left pointed at another replica: mmmf equalizes a lagging replica by
 * GTID with `START SLAVE UNTIL master_gtid_pos` from the replica that received the most, and the run failed
 * before the repoint — both threads stopped at that UNTIL, positioned by GTID. It is one of the old master's
 * replicas, to be failed over with the others; left under that replica as a tree it would stay stopped. By file
 * its coordinates are in the other replica's binlog: it stays a tree (mmmf does not map them).
 */
function leftByCatchUp(r: ReplicaHost): boolean {
  // One whose catch-up stopped on an error (a row it alone held collided) stays where it is: everything it
  // received came from that replica, which holds it, and taken for the old master's it would look like the replica
  // that received the most and cannot apply it — refusing every failover (chaos seed 70074).
  return stoppedAtUntil(r) && r.replica.gtidMode !== 'No';
}

/**
 * Both threads stopped with an UNTIL condition still set and no error: where a catch-up (`START SLAVE UNTIL`)
 * left it. One stopped on an error (a row it alone held collided) is not: started again it would stop again.
 */
export function stoppedAtUntil(r: ReplicaHost): boolean {
  const s = r.replica;
  return s.untilCondition !== 'None' && s.ioRunning === 'No' && !s.sqlRunning && !s.lastSqlError;
}

function loopRefusal(names: string[]): string {
  return (
    `${names.join(', ')} replicate from each other in a loop and none of them is writable: mmmf cannot tell ` +
    'which one is the master. Make the master writable (or stop one side of the loop), then re-run.'
  );
}

/** The servers that wrote the GTIDs a replica applied: MariaDB server ids, MySQL server_uuids. */
function origins(r: ReplicaHost): Set<string> {
  const applied = r.gtidApplied ?? '';
  if (r.version.flavor === 'mariadb') {
    return new Set(applied.split(',').flatMap((g) => /^\d+-(\d+)-\d+$/.exec(g.trim())?.slice(1, 2) ?? []));
  }
  const uuid = (g: string) => g.trim().split(':').slice(0, 1);
  return new Set(applied.split(',').flatMap((g) => (g.includes(':') ? uuid(g).map((u) => u.toLowerCase()) : [])));
}

/** The source a replica last connected to wrote (some of) what it holds: it is a writer, not a relay. */
const sourceWrote = (r: ReplicaHost) =>
  origins(r).has(
    r.version.flavor === 'mariadb' ? String(r.replica.sourceServerId) : r.replica.sourceUuid.toLowerCase(),
  );

/**
 * Several roots: the one its replicas' GTIDs say wrote the data is the master; every other root must be a
 * configured server that does not answer, whose replicas hold only GTIDs written by that master — an
 * intermediate master that died, not a second master. Anything else stays ambiguous (undefined: refused).
 */
function orphanRoots(
  roots: Map<string, { match: SourceMatch; replicas: ReplicaHost[] }>,
  states: HostState[],
): Map<string, { match: SourceMatch; replicas: ReplicaHost[] }> | undefined {
  const writers = [...roots].filter(([, x]) => x.replicas.length && x.replicas.every(sourceWrote));
  const [only] = writers;
  if (writers.length !== 1 || !only) return undefined;
  const [writerKey, writer] = only;
  const written = new Set(writer.replicas.flatMap((r) => [...origins(r)]));
  const others = [...roots].filter(([k]) => k !== writerKey);
  const dead = (name: string | undefined) => !!name && states.some((s) => s.name === name && !s.reachable);
  const relayed = (r: ReplicaHost) =>
    !sourceWrote(r) && origins(r).size > 0 && [...origins(r)].every((o) => written.has(o));
  if (!others.every(([, x]) => dead(x.match.name) && x.replicas.length && x.replicas.every(relayed))) return undefined;
  return new Map(others);
}

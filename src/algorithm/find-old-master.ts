import { matchSource, type SourceMatch } from '../topology/identity.js';
import { type HostState, isReplica, type ReplicaHost } from '../topology/server-state.js';

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
}

export type OldMasterFinding = { ok: true; old: OldMaster } | { ok: false; refusal: string };

/**
 * Follows every reachable replica's source up the chain (a replica of a replica leads to its intermediate
 * master's source) to a root. One root is the old master; several roots, or a loop, are refused: mmmf will not
 * guess which server was the master.
 */
export function findOldMaster(states: HostState[]): OldMasterFinding {
  const replicas = states.filter(isReplica);
  const matches = new Map(replicas.map((r) => [r.name, matchSource(r.replica, states)]));
  const byName = new Map(replicas.map((r) => [r.name, r]));
  const roots = new Map<string, { match: SourceMatch; replicas: ReplicaHost[] }>();
  const sub: OldMaster['sub'] = [];
  for (const r of replicas) {
    let m = matches.get(r.name)!;
    const seen = new Set([r.name]);
    let via: string | undefined;
    // Walk up while the source is itself a configured, reachable replica that is read-only: a writable server
    // is a master even when it replicates (the active side of a master-master pair).
    while (m.name && byName.has(m.name) && byName.get(m.name)!.readOnly !== false) {
      if (seen.has(m.name)) return { ok: false, refusal: loopRefusal([...seen]) };
      seen.add(m.name);
      via ??= m.name;
      m = matches.get(m.name)!;
    }
    const root = roots.get(m.key) ?? { match: m, replicas: [] };
    roots.set(m.key, root);
    if (via) sub.push({ replica: r, via });
    else root.replicas.push(r);
  }
  if (roots.size > 1) {
    const detail = [...roots.values()]
      .map((x) => `${x.replicas.map((r) => r.name).join(', ')} → ${x.match.name ?? x.match.address} (${x.match.how})`)
      .join('; ');
    return {
      ok: false,
      refusal:
        `replicas disagree about their master (${detail}). mmmf will not guess which one is the old master: ` +
        'repoint the odd ones or remove them from the config, then re-run.',
    };
  }
  const [root] = roots.values();
  if (!root) return { ok: false, refusal: 'no reachable server replicates from anything' };
  // The active side of a pair replicates from its passive side: it is the master, not one of its replicas.
  const notRoot = (r: ReplicaHost) => r.name !== root.match.name;
  root.replicas = root.replicas.filter(notRoot);
  const subReplicas = sub.filter((x) => notRoot(x.replica));
  const state = root.match.name ? states.find((s) => s.name === root.match.name) : undefined;
  const passive = isReplica(state) ? root.replicas.find((r) => matches.get(state.name)?.name === r.name) : undefined;
  return {
    ok: true,
    old: {
      key: root.match.key,
      ...(root.match.name ? { name: root.match.name } : {}),
      address: root.match.address,
      how: root.match.how,
      ...(state ? { state } : {}),
      direct: root.replicas,
      sub: subReplicas,
      ...(passive ? { passive } : {}),
    },
  };
}

function loopRefusal(names: string[]): string {
  return (
    `${names.join(', ')} replicate from each other in a loop and none of them is writable: mmmf cannot tell ` +
    'which one is the master. Make the master writable (or stop one side of the loop), then re-run.'
  );
}

import { createHash } from 'node:crypto';

/**
 * Which cluster a run works on, for its lock, journal, anti-flap and offline records. A config's `cluster: 'name'`
 * names it; without one, the servers themselves say: each server is `hostname:port#server_id` as it reports
 * them (never the config's address for it, which may be a DNS name, `localhost` or a VIP), and two runs work on
 * the same cluster when they share a server. So two configs of one cluster that differ by a host (a name
 * instead of an IP, a retired replica) still share one lock and one journal.
 *
 * @example { name: 'orders', members: ['db1:3306#1', 'db2:3306#2'] }
 */
export interface ClusterIdentity {
  /** The config's `cluster`, when set: then only the name counts. */
  name?: string;
  /** The reachable servers, sorted. */
  members: string[];
}

/** One server's identity from what it reports. Example: `memberId({ id: 2, hostname: 'db2', port: 3306 })` → `'db2:3306#2'` */
export function memberId(row: { id: unknown; hostname: unknown; port: unknown }): string {
  return `${String(row.hostname)}:${Number(row.port)}#${Number(row.id)}`;
}

export function identityOf(name: string | undefined, members: string[]): ClusterIdentity {
  const sorted = [...new Set(members)].sort();
  return name ? { name, members: sorted } : { members: sorted };
}

/** Two identities describe the same cluster: the same name, or (both unnamed) at least one shared server. */
export function sameCluster(a: ClusterIdentity, b: ClusterIdentity): boolean {
  if (a.name || b.name) return a.name === b.name;
  const mine = new Set(a.members);
  return b.members.some((m) => mine.has(m));
}

/** A folder name for a cluster's records: its name, or a hash of the servers first seen in it. */
export function folderFor(id: ClusterIdentity): string {
  if (id.name) return `name-${id.name}`;
  return `auto-${createHash('sha256').update(id.members.join(',')).digest('hex').slice(0, 16)}`;
}

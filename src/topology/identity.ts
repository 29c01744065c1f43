import { parseAddress } from '../domain/address.js';
import type { HostState, ReplicaStatus } from '../domain/server-state.js';

/**
 * Which configured host a replica replicates from, and how mmmf knows. Configs name servers by DNS names,
 * `localhost`, VIPs or another interface's address, so the `host:port` string a replica uses proves little:
 * the source's server_id (and MySQL server_uuid), reported by a connected replica, is matched first against
 * every reachable host's own; addresses (and what they resolve to) come second.
 *
 * @example { name: 'test1', key: 'test1', how: 'server_id 1', address: '127.0.0.1:33001' }
 */
export interface SourceMatch {
  /** The configured host, when one matches. */
  name?: string;
  /** Groups replicas by source: the configured name, else the address the replica uses. */
  key: string;
  /** The evidence: 'server_id N', 'address', 'resolved address', or 'none'. */
  how: string;
  /** host:port as the replica names it. */
  address: string;
}

/** Two probed servers are the same server: same server_id (and server_uuid where both have one). */
export function sameServer(a: HostState, b: HostState): boolean {
  if (a.name === b.name) return true;
  if (!a.reachable || !b.reachable || a.serverId === undefined || a.serverId !== b.serverId) return false;
  return !a.serverUuid || !b.serverUuid || a.serverUuid === b.serverUuid;
}

/** Matches one replica's source to a configured host (see SourceMatch). */
export function matchSource(r: ReplicaStatus, states: HostState[]): SourceMatch {
  const address = r.sourceAddress;
  // Master_Server_Id is what the IO thread saw on its last successful connection: after a CHANGE to another
  // source it keeps the old server's id until it connects again, so it only counts while connected.
  if (r.sourceServerId > 0 && r.ioRunning === 'Yes') {
    const byId = states.filter(
      (s) =>
        s.reachable &&
        s.serverId === r.sourceServerId &&
        (!r.sourceUuid || !s.serverUuid || s.serverUuid === r.sourceUuid),
    );
    if (byId.length === 1)
      return { name: byId[0]!.name, key: byId[0]!.name, how: `server_id ${r.sourceServerId}`, address };
  }
  const samePort = states.filter((s) => parseAddress(s.address).port === r.sourcePort);
  // A reachable host whose server_id differs from the one the replica reports is another server, whatever
  // its address says (the same address can reach two servers: a moved VIP, NAT).
  const idKnown = r.sourceServerId > 0 && r.ioRunning === 'Yes';
  const plausible = (s: HostState) =>
    !s.reachable || !idKnown || s.serverId === undefined || s.serverId === r.sourceServerId;
  const exact = samePort.find((s) => parseAddress(s.address).host === r.sourceHost && plausible(s));
  if (exact) return { name: exact.name, key: exact.name, how: 'address', address };
  const resolved = new Set(r.sourceResolved ?? []);
  const viaDns = samePort.filter((s) => plausible(s) && (s.resolved ?? []).some((ip) => resolved.has(ip)));
  if (viaDns.length === 1) return { name: viaDns[0]!.name, key: viaDns[0]!.name, how: 'resolved address', address };
  return { key: address, how: idKnown ? `server_id ${r.sourceServerId}, not in the config` : 'none', address };
}

/** The replica (probed) replicates from the source host (probed): by identity when known, else by address. */
export function replicatesFromHost(replica: HostState, source: HostState, states: HostState[]): boolean {
  if (!replica.replica) return false;
  return matchSource(replica.replica, states).name === source.name;
}

/** The configured hosts a replica's data flows from: its source, that source's source, and so on. */
export function sourceChain(s: HostState, states: HostState[]): string[] {
  const chain: string[] = [];
  let cur: HostState | undefined = s;
  while (cur?.replica) {
    const name: string | undefined = matchSource(cur.replica, states).name;
    if (!name || chain.includes(name)) break;
    chain.push(name);
    cur = states.find((x) => x.name === name);
  }
  return chain;
}

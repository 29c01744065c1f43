/**
 * MariaDB GTID positions: one `domain-server-seq` per replication domain, e.g. '0-1-1500,1-3-20'.
 * Within a domain, sequence numbers only grow (gtid_strict_mode keeps it so), so position A has everything
 * B has when, in every domain of B, A's sequence number is at least B's.
 */
export interface Gtid {
  domain: number;
  server: number;
  seq: number;
}

/** Last GTID per domain, keyed by domain id. */
export type GtidPos = Map<number, Gtid>;

export function parseGtidPos(text: string | null | undefined): GtidPos {
  const pos: GtidPos = new Map();
  for (const part of (text ?? '').split(',')) {
    const t = part.trim();
    if (!t) continue;
    const m = /^(\d+)-(\d+)-(\d+)$/.exec(t);
    if (!m) throw new Error(`not a MariaDB GTID: '${t}'`);
    const g = { domain: Number(m[1]), server: Number(m[2]), seq: Number(m[3]) };
    const prev = pos.get(g.domain);
    if (!prev || prev.seq < g.seq) pos.set(g.domain, g);
  }
  return pos;
}

/** Every GTID of a list such as gtid_binlog_state (one per domain and server id), in order. */
export function parseGtidList(text: string | null | undefined): Gtid[] {
  return (text ?? '')
    .split(',')
    .map((t) => t.trim())
    .filter(Boolean)
    .map((t) => {
      const m = /^(\d+)-(\d+)-(\d+)$/.exec(t);
      if (!m) throw new Error(`not a MariaDB GTID: '${t}'`);
      return { domain: Number(m[1]), server: Number(m[2]), seq: Number(m[3]) };
    });
}

export function formatGtidPos(pos: GtidPos): string {
  return [...pos.values()]
    .sort((a, b) => a.domain - b.domain)
    .map((g) => `${g.domain}-${g.server}-${g.seq}`)
    .join(',');
}

export type GtidRelation = 'equal' | 'ahead' | 'behind' | 'diverged';

/**
 * How `a` relates to `b`. 'diverged' when each has something the other lacks (split brain), or when both
 * stop at the same sequence number of a domain but from different servers (two histories).
 */
export function compareGtidPos(a: GtidPos, b: GtidPos): GtidRelation {
  let aAhead = false;
  let bAhead = false;
  for (const domain of new Set([...a.keys(), ...b.keys()])) {
    const x = a.get(domain);
    const y = b.get(domain);
    if (x && !y) aAhead = true;
    else if (y && !x) bAhead = true;
    else if (x && y) {
      if (x.seq > y.seq) aAhead = true;
      else if (y.seq > x.seq) bAhead = true;
      else if (x.server !== y.server) return 'diverged';
    }
  }
  if (aAhead && bAhead) return 'diverged';
  return aAhead ? 'ahead' : bAhead ? 'behind' : 'equal';
}

/** Transactions in `a` but not in `b`, per domain, as 'domain-server-from..to' ranges, for messages. */
export function describeMissing(a: GtidPos, b: GtidPos): string[] {
  const out: string[] = [];
  for (const [domain, x] of a) {
    const y = b.get(domain);
    const from = y ? y.seq + 1 : 1;
    if (x.seq >= from)
      out.push(from === x.seq ? `${domain}-${x.server}-${x.seq}` : `${domain}-${x.server}-${from}..${x.seq}`);
  }
  return out;
}

/** Number of transactions `a` has beyond `b` (sum over domains); 0 when b has everything. */
export function countAhead(a: GtidPos, b: GtidPos): number {
  let n = 0;
  for (const [domain, x] of a) n += Math.max(0, x.seq - (b.get(domain)?.seq ?? 0));
  return n;
}

/**
 * MySQL GTID sets: `uuid:interval[:interval...]` per source server, comma-separated, e.g.
 * '3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5:11-18,ad9f...:1-3'. Unlike MariaDB positions a set can have
 * holes, so "has everything" is set containment, not a comparison of last numbers.
 * (MySQL 8.3+ tags, `uuid:tag:1-5`, are kept as part of the key.)
 */

/** Closed intervals [from, to], sorted, disjoint and not adjacent. */
export type Intervals = [number, number][];
/**
 * Source key (lower-case uuid, plus `:tag` when tagged) → intervals.
 * Example: `Map { 'ad9f…' => [[1, 5], [11, 18]] }`
 */
export type GtidSet = Map<string, Intervals>;

const UUID = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;

function normalize(list: Intervals): Intervals {
  const sorted = list.filter(([a, b]) => a <= b).sort((x, y) => x[0] - y[0]);
  const out: Intervals = [];
  for (const [a, b] of sorted) {
    const last = out.at(-1);
    if (last && a <= last[1] + 1) last[1] = Math.max(last[1], b);
    else out.push([a, b]);
  }
  return out;
}

export function parseGtidSet(text: string | null | undefined): GtidSet {
  const set: GtidSet = new Map();
  for (const part of (text ?? '').replace(/\s+/g, '').split(',')) {
    if (!part) continue;
    const [uuid, ...rest] = part.split(':');
    if (!uuid || !UUID.test(uuid) || rest.length === 0) throw new Error(`not a MySQL GTID set element: '${part}'`);
    let key = uuid.toLowerCase();
    for (const r of rest) {
      const m = /^(\d+)(?:-(\d+))?$/.exec(r);
      if (!m) {
        if (/^[a-z_][a-z0-9_]{0,31}$/i.test(r)) {
          key = `${uuid.toLowerCase()}:${r.toLowerCase()}`;
          if (!set.has(key)) set.set(key, []);
          continue;
        }
        throw new Error(`not a MySQL GTID interval: '${r}' in '${part}'`);
      }
      const a = Number(m[1]);
      const b = m[2] === undefined ? a : Number(m[2]);
      if (a < 1 || b < a) throw new Error(`not a MySQL GTID interval: '${r}' in '${part}'`);
      set.set(key, normalize([...(set.get(key) ?? []), [a, b]]));
    }
  }
  for (const [k, v] of set) if (!v.length) set.delete(k);
  return set;
}

export function formatGtidSet(set: GtidSet): string {
  return [...set.entries()]
    .filter(([, v]) => v.length)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `${k}:${v.map(([a, b]) => (a === b ? `${a}` : `${a}-${b}`)).join(':')}`)
    .join(',');
}

export function union(a: GtidSet, b: GtidSet): GtidSet {
  const out: GtidSet = new Map();
  for (const k of new Set([...a.keys(), ...b.keys()]))
    out.set(k, normalize([...(a.get(k) ?? []), ...(b.get(k) ?? [])]));
  return out;
}

/** Everything in `a` that is not in `b`. */
export function subtract(a: GtidSet, b: GtidSet): GtidSet {
  const out: GtidSet = new Map();
  for (const [k, intervals] of a) {
    let rest: Intervals = intervals.map(([x, y]) => [x, y]);
    for (const [c, d] of b.get(k) ?? []) {
      rest = rest.flatMap(([x, y]): Intervals => {
        if (d < x || c > y) return [[x, y]];
        const pieces: Intervals = [];
        if (c > x) pieces.push([x, c - 1]);
        if (d < y) pieces.push([d + 1, y]);
        return pieces;
      });
    }
    if (rest.length) out.set(k, rest);
  }
  return out;
}

/** `a` holds every transaction of `b`. */
export function contains(a: GtidSet, b: GtidSet): boolean {
  return subtract(b, a).size === 0;
}

export function equals(a: GtidSet, b: GtidSet): boolean {
  return contains(a, b) && contains(b, a);
}

/** How many transactions the set names. */
export function count(set: GtidSet): number {
  let n = 0;
  for (const v of set.values()) for (const [a, b] of v) n += b - a + 1;
  return n;
}

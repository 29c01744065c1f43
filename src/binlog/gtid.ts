import type { Flavor } from '../domain/server-state.js';
import {
  compareGtidPos,
  countAhead,
  describeMissing,
  formatGtidPos,
  parseGtidList,
  parseGtidPos,
  type GtidRelation,
} from './mariadb-gtid.js';
import { contains, count, formatGtidSet, parseGtidSet, subtract, union } from './mysql-gtid-set.js';

/**
 * GTID positions whatever the flavor: MariaDB `domain-server-seq` lists (one last GTID per domain) and MySQL
 * `uuid:intervals` sets (which can have holes). The algorithm asks these questions and never parses either.
 */
export function gtidRelation(flavor: Flavor, a: string, b: string): GtidRelation {
  if (flavor === 'mariadb') return compareGtidPos(parseGtidPos(a), parseGtidPos(b));
  const x = parseGtidSet(a);
  const y = parseGtidSet(b);
  const xy = contains(x, y);
  const yx = contains(y, x);
  return xy && yx ? 'equal' : xy ? 'ahead' : yx ? 'behind' : 'diverged';
}

/** How many transactions `a` has that `b` lacks. */
export function gtidAhead(flavor: Flavor, a: string, b: string): number {
  return flavor === 'mariadb'
    ? countAhead(parseGtidPos(a), parseGtidPos(b))
    : count(subtract(parseGtidSet(a), parseGtidSet(b)));
}

/** What `a` has that `b` lacks, for messages. */
export function gtidMissing(flavor: Flavor, a: string, b: string): string[] {
  if (flavor === 'mariadb') return describeMissing(parseGtidPos(a), parseGtidPos(b));
  const d = formatGtidSet(subtract(parseGtidSet(a), parseGtidSet(b)));
  return d ? d.split(',') : [];
}

/** Everything either holds (MySQL: set union; MariaDB: the later GTID per domain). */
export function gtidUnion(flavor: Flavor, a: string, b: string): string {
  if (flavor === 'mysql') return formatGtidSet(union(parseGtidSet(a), parseGtidSet(b)));
  const pa = parseGtidPos(a);
  for (const [d, g] of parseGtidPos(b)) if ((pa.get(d)?.seq ?? -1) < g.seq) pa.set(d, g);
  return formatGtidPos(pa);
}

/**
 * The GTIDs a server's binlog holds that the master's lacks, from their binlog states (MariaDB
 * gtid_binlog_state, MySQL gtid_executed). MariaDB: per domain and origin server, since a sequence number alone
 * cannot tell 0-1-11, written on an old master and never sent, from 0-2-11, written on the new one since.
 * Example: extraTransactions('mariadb', '0-1-12,0-2-9', '0-1-10,0-2-11') → ['0-1-11..12'].
 */
export function extraTransactions(flavor: Flavor, own: string, master: string): string[] {
  if (flavor === 'mysql') return gtidMissing('mysql', own, master);
  const theirs = new Map(parseGtidList(master).map((g) => [`${g.domain}-${g.server}`, g.seq]));
  return parseGtidList(own)
    .filter((g) => g.seq > (theirs.get(`${g.domain}-${g.server}`) ?? 0))
    .map((g) => {
      const from = (theirs.get(`${g.domain}-${g.server}`) ?? 0) + 1;
      return from === g.seq ? `${g.domain}-${g.server}-${g.seq}` : `${g.domain}-${g.server}-${from}..${g.seq}`;
    });
}

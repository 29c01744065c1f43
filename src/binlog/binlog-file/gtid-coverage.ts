import type { Flavor } from '../../domain/server-state.js';
import { formatGtidPos, parseGtidPos } from '../mariadb-gtid.js';
import { contains, parseGtidSet } from '../mysql-gtid-set.js';

/**
 * Which of the old master's transactions a replica already holds, from its GTID position: MariaDB a
 * gtid_slave_pos-like list ('0-1-1500,1-3-20'; a domain's sequence numbers only grow), MySQL a GTID set.
 * Example: `receivedGtids('mariadb', '0-1-1500').has('0-1-1499')` → true.
 */
export interface ReceivedGtids {
  /** The replica holds this transaction ('0-1-9' or 'uuid:9'). */
  has(gtid: string): boolean;
  /** The replica holds everything a file's Gtid_list (MariaDB) or Previous_gtids set (MySQL) names. */
  hasAll(gtids: string[] | string): boolean;
}

export function receivedGtids(flavor: Flavor, position: string): ReceivedGtids {
  if (flavor === 'mariadb') {
    const pos = parseGtidPos(position);
    const has = (gtid: string) => {
      const [domain, , seq] = gtid.split('-').map(Number);
      return (pos.get(domain ?? -1)?.seq ?? -1) >= (seq ?? Infinity);
    };
    return { has, hasAll: (list) => (typeof list === 'string' ? list.split(',') : list).filter(Boolean).every(has) };
  }
  const set = parseGtidSet(position);
  return {
    has: (gtid) => contains(set, parseGtidSet(gtid)),
    hasAll: (list) => contains(set, parseGtidSet(typeof list === 'string' ? list : list.join(','))),
  };
}

/**
 * MariaDB: the gtid_slave_pos a replica must have once salvaged transactions are applied: per domain, the
 * later of its position and the last salvaged GTID (other domains as they are).
 * Example: `slavePosAfter('0-1-1500,1-3-20', ['0-1-1501', '0-1-1502'])` → '0-1-1502,1-3-20'.
 */
export function slavePosAfter(position: string, gtids: (string | undefined)[]): string {
  const pos = parseGtidPos(position);
  for (const g of parseGtidPos(gtids.filter(Boolean).join(',')).values()) {
    if ((pos.get(g.domain)?.seq ?? -1) < g.seq) pos.set(g.domain, g);
  }
  return formatGtidPos(pos);
}

import { compareCoordinates } from '../binlog/coordinates.js';
import { gtidRelation, gtidUnion } from '../binlog/gtid.js';
import { compareGtidPos, parseGtidList, parseGtidPos } from '../binlog/mariadb-gtid.js';
import { formatGtidSet, parseGtidSet, subtract } from '../binlog/mysql-gtid-set.js';
import type { Positioning } from '../topology/config-types.js';
import type { HostState, ReplicaHost } from '../domain/server-state.js';
import type { PositioningMode } from '../domain/positioning.js';

// Pure facts about replicas that several decisions share: what each one received, whether it holds writes
// of its own, how it must be positioned.

/** How replicas will be positioned, and why (shown in the plan). */
export interface PositioningChoice {
  mode: PositioningMode;
  why: string;
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
    const own = ownMysqlGtids(s);
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
  const own = ownMariadbGtids(s);
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
 * The server once wrote as a master: its own server id in its binlog's GTID state (MariaDB: gtid_binlog_state
 * keeps the last GTID of every domain and server; MySQL: its server_uuid in gtid_executed). A former active
 * master coming back does (even one that wrote nothing since it was last switched back); a replica that only
 * ever replicated — even one a failed run left pointing at the new master — does not.
 */
export function wroteAsMaster(s: HostState): boolean {
  return s.version?.flavor === 'mysql' ? ownMysqlGtids(s).size > 0 : ownMariadbGtids(s).length > 0;
}

/** MySQL: the GTIDs in gtid_executed named by this server's own server_uuid. */
function ownMysqlGtids(s: HostState) {
  const uuid = s.serverUuid?.toLowerCase();
  return new Map([...parseGtidSet(s.gtidApplied)].filter(([k]) => !!uuid && k.split(':')[0] === uuid));
}

/** MariaDB: the GTIDs of its binlog state carrying this server's own server id. */
const ownMariadbGtids = (s: HostState) =>
  parseGtidList(s.gtidBinlogState ?? s.gtidBinlog).filter((g) => g.server === s.serverId);

/**
 * GTIDs a replica has received from the old master (applied or still in its relay log). MariaDB's Gtid_IO_Pos
 * already includes what was applied; MySQL's Retrieved_Gtid_Set covers only this channel's relay log.
 */
export function receivedGtid(s: HostState): string {
  if (s.version?.flavor === 'mysql') return gtidUnion('mysql', s.gtidApplied ?? '', s.replica?.gtidReceived ?? '');
  return s.replica?.gtidReceived || s.gtidApplied || '';
}
export const flavorOf = (s: HostState) => s.version?.flavor ?? 'mariadb';

/**
 * Who received more: by received GTIDs when they tell (ahead/behind), else by old-master binlog coordinates
 * (file number, then position), which also break a tie in favour of a half-received last transaction.
 * CHANGE MASTER clears the coordinates, so either may be unknown.
 */
export function compareReceived(a: ReplicaHost, b: ReplicaHost, mode: PositioningMode = 'gtid'): number {
  // By file and position, GTIDs are not trusted: only the old master's coordinates count.
  const rel =
    mode === 'gtid' && flavorOf(a) === flavorOf(b)
      ? gtidRelation(flavorOf(a), receivedGtid(a), receivedGtid(b))
      : 'equal';
  if (rel === 'ahead') return 1;
  if (rel === 'behind') return -1;
  const ra = a.replica.received;
  const rb = b.replica.received;
  return ra.file && rb.file ? compareCoordinates(ra, rb) : 0;
}

/**
 * 'auto' trusts what the cluster already does: GTID when every replica replicates with it, else file and
 * position (a replica set up by file may have a gtid_slave_pos that does not describe its data).
 */
export function choosePositioning(wanted: Positioning, replicas: ReplicaHost[]): PositioningChoice {
  if (wanted !== 'auto') return { mode: wanted, why: `positioning '${wanted}' was asked for` };
  const byFile = replicas.filter((r) => r.replica.gtidMode === 'No');
  if (!byFile.length) return { mode: 'gtid', why: 'auto: every replica already replicates with GTIDs' };
  return {
    mode: 'file',
    why:
      `auto: ${byFile.map((r) => r.name).join(', ')} ${byFile.length === 1 ? 'replicates' : 'replicate'} by file ` +
      'and position (Using_Gtid: No), so GTID positions are not trusted',
  };
}

/** Orders versions (major, minor, patch); 0 when unknown. */
export const versionKey = (s: HostState) =>
  s.version ? s.version.major * 1e6 + s.version.minor * 1e3 + s.version.patch : 0;

export const onOff = (b: boolean | undefined) => (b ? 'ON' : 'OFF');

import type { Dialect } from '../dialect/dialect.js';
import type { Coordinates } from '../domain/coordinates.js';
import type { ReplicaStatus } from '../domain/server-state.js';
import type { ConnectionSet, SqlConnection } from '../topology/connection.js';
import type { ProbedCluster } from '../topology/probe.js';
import { gtidOf, masterRotate, parseEventRow, relayRotate } from './binlog-events.js';
import { extraTransactions } from './gtid.js';
import { formatCoordinates } from './coordinates.js';
import { scanLogFile } from './log-reader.js';

/**
 * A replica cannot have executed beyond what it received in the same file, yet MariaDB reports exactly that
 * after its old master restarted into a new binlog and sent no transaction since: the SQL thread (seen with
 * parallel replication) takes the new file's name from the master's Rotate but keeps the old file's position
 * (chaos seed 83032: executed mysql-bin.000002:7902645, received mysql-bin.000002:342). Comparing or mapping
 * that position would refuse a sound failover or cut in the wrong place.
 */
export const executedIsStale = (s: ReplicaStatus): boolean =>
  !!s.executed.file && s.executed.file === s.received.file && s.executed.position > s.received.position;

/**
 * Where the SQL thread really stands in the old master's binlog when the server's own figure is stale: the last
 * old-master position its relay log names before Relay_Log_Pos (a transaction's end, a header event's end, or a
 * Rotate's target; the old master's file can be an earlier one than the figure names: after CHANGE MASTER TO
 * RELAY_LOG_FILE MariaDB takes the received file's name until the SQL thread passes a Rotate). A relay file
 * that a size rotation began holds no master Rotate: a transaction's end before Relay_Log_Pos is then in the
 * received file when no master Rotate follows either, to the end of the relay log (chaos seed 70707). Undefined
 * when that relay file names none before it.
 */
export async function executedFromRelay(
  conn: SqlConnection,
  d: Dialect,
  s: ReplicaStatus,
): Promise<Coordinates | undefined> {
  let masterFile: string | undefined;
  let at: Coordinates | undefined;
  let unnamed: number | undefined;
  // Only the last position is kept: a relay file can hold millions of events.
  await scanLogFile(conn, d, 'relay', s.relayLog.file, (e) => {
    if (e.pos >= s.relayLog.position) return true;
    const to = masterRotate(e);
    if (to) {
      masterFile = to.file;
      at = to;
    } else if (masterFile && e.type !== 'Rotate' && e.endPos > 0) {
      // Relay_Log_Pos stands between transactions, so the event before it ends one (or is a header event).
      at = { file: masterFile, position: e.endPos };
    } else if (!masterFile && !HEADER_EVENTS.has(e.type) && e.endPos > 0) {
      unnamed = e.endPos;
    }
    return false;
  });
  if (at || unnamed === undefined || !s.received.file) return at;
  return (await masterRotateAhead(conn, d, s)) === false ? { file: s.received.file, position: unnamed } : undefined;
}

/** Whether the relay log names a master Rotate from the SQL thread's place to its end (undefined: not followed). */
async function masterRotateAhead(conn: SqlConnection, d: Dialect, s: ReplicaStatus): Promise<boolean | undefined> {
  let file = s.relayLog.file;
  for (let i = 0; i < RELAY_FILES && file; i++) {
    let next = '';
    let rotated = false;
    // From the SQL thread's place in its own file (what comes before was read already), from the start in the next.
    const from = file === s.relayLog.file ? s.relayLog.position : 4;
    await scanLogFile(
      conn,
      d,
      'relay',
      file,
      (e) => {
        if (masterRotate(e)) rotated = true;
        else next = relayRotate(e) ?? next;
        return rotated;
      },
      { from },
    );
    if (rotated) return true;
    if (!next) return false;
    file = next;
  }
  return undefined;
}

/** The replica's status with its executed coordinates read from the relay log when the server's are stale. */
export async function withExecutedChecked(conn: SqlConnection, d: Dialect, s: ReplicaStatus): Promise<ReplicaStatus> {
  if (!executedIsStale(s)) return s;
  const executed = await executedFromRelay(conn, d, s);
  if (!executed) {
    throw new Error(
      `it reports having executed up to ${formatCoordinates(s.executed)}, beyond the ${formatCoordinates(s.received)} ` +
        `it received, and its relay log before ${formatCoordinates(s.relayLog)} names no old-master position to ` +
        'correct it: mmmf does not guess where its SQL thread stands',
    );
  }
  return { ...s, executed };
}

/**
 * Planning sees the executed positions the steps will see: each replica's impossible figure replaced by its relay
 * log's. An account that may not read relay logs keeps the server's figure (the steps read again, and refuse).
 */
export async function checkProbedExecuted(probed: ProbedCluster, conns: ConnectionSet): Promise<void> {
  await Promise.all(
    probed.states.map(async (s) => {
      const conn = conns.open.get(s.name);
      const d = probed.dialects.get(s.name);
      if (!s.replica || !conn || !d || !executedIsStale(s.replica)) return;
      const replica = s.replica;
      s.replica = await withExecutedChecked(conn, d, replica).catch(() => replica);
    }),
  );
}

/** Events looked at from the SQL thread's place for the next transaction's GTID (header events come first). */
const HEAD_EVENTS = 20;
/** Relay files followed from the SQL thread's place (an IO thread that reconnected leaves header-only files). */
const RELAY_FILES = 5;
/** Events a relay file holds besides transactions: a transaction begins with none of these. */
const HEADER_EVENTS = new Set([
  'Format_desc',
  'Rotate',
  'Gtid_list',
  'Binlog_checkpoint',
  'Previous_gtids',
  'Stop',
  'Start_encryption',
]);

/**
 * What lies ahead of a stopped SQL thread in its relay log, followed across relay-file rotations: `end` (nothing:
 * everything received was applied), or the next transaction's GTID ('' when it has none, or when the relay log
 * could not be followed far enough to tell).
 */
export type RelayAhead = { end: true } | { gtid: string };

/** See RelayAhead. */
export async function relayAhead(conn: SqlConnection, d: Dialect, s: ReplicaStatus): Promise<RelayAhead> {
  let file = s.relayLog.file;
  let from = s.relayLog.position;
  for (let i = 0; i < RELAY_FILES && file; i++) {
    const batch = (await conn.query(d.logEventsSql('relay', file, from, 0, HEAD_EVENTS))).map(parseEventRow);
    const tx = batch.findIndex((e) => !HEADER_EVENTS.has(e.type));
    if (tx >= 0)
      return {
        gtid:
          batch
            .slice(tx)
            .map(gtidOf)
            .find((g) => g !== undefined) ?? '',
      };
    // The SQL thread may stand at the end of a relay file: the next transaction is in the next one.
    const next = batch.map(relayRotate).find(Boolean);
    if (!next) return batch.length < HEAD_EVENTS ? { end: true } : { gtid: '' };
    file = next;
    from = 4;
  }
  return { gtid: '' };
}

/**
 * The GTID of the next transaction the SQL thread would apply, when the replica already holds it; undefined
 * otherwise. A salvage by an earlier, failed run applied the old master's last transactions over the replica's relay
 * log, whose first unapplied one (often incomplete) is then already held: started again, the SQL thread would apply
 * it twice, or stop at once in strict mode (chaos seed 70369: "out-of-order sequence number 0-1-2720 with existing
 * 0-1-5166"). `held` is its binlog state (MariaDB gtid_binlog_state, MySQL gtid_executed), not gtid_slave_pos: a
 * parallel replica paused at 0-1-879 read gtid_slave_pos 0-1-1972 after its old master came back and died again,
 * while its data and binlog stood at 879 (chaos seed 70380).
 */
export async function nextRelayGtidHeld(
  conn: SqlConnection,
  d: Dialect,
  s: ReplicaStatus,
  held: string,
  ahead?: RelayAhead,
): Promise<string | undefined> {
  const next = ahead ?? (await relayAhead(conn, d, s));
  const gtid = 'gtid' in next ? next.gtid : undefined;
  if (!gtid || gtid === 'anonymous' || !held) return undefined;
  // Held when the binlog state has it (MariaDB: per domain and origin server) — nothing of it is extra.
  return extraTransactions(d.version.flavor, gtid, held).length ? undefined : gtid;
}

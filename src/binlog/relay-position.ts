import type { Dialect } from '../dialect/dialect.js';
import type { Coordinates } from '../domain/coordinates.js';
import type { ReplicaStatus } from '../domain/server-state.js';
import type { ConnectionSet, SqlConnection } from '../topology/connection.js';
import type { ProbedCluster } from '../topology/probe.js';
import { gtidOf, masterRotate, parseEventRow, type LogEvent } from './binlog-events.js';
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
 * RELAY_LOG_FILE MariaDB takes the received file's name until the SQL thread passes a Rotate). Undefined when
 * that relay file names none before it.
 */
export async function executedFromRelay(
  conn: SqlConnection,
  d: Dialect,
  s: ReplicaStatus,
): Promise<Coordinates | undefined> {
  let masterFile: string | undefined;
  let at: Coordinates | undefined;
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
    }
    return false;
  });
  return at;
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
): Promise<string | undefined> {
  const events = async (file: string, from: number): Promise<LogEvent[]> =>
    (await conn.query(d.logEventsSql('relay', file, from, 0, HEAD_EVENTS))).map(parseEventRow);
  let batch = await events(s.relayLog.file, s.relayLog.position);
  // The SQL thread may stand at the end of a relay file: the next transaction is in the next one.
  const next = batch.find((e) => e.type === 'Rotate' && !masterRotate(e));
  if (next && !batch.some((e) => gtidOf(e))) batch = await events(next.info.split(';pos=')[0]?.trim() ?? '', 4);
  const gtid = batch.map(gtidOf).find((g) => g && g !== 'anonymous');
  if (!gtid || !held) return undefined;
  // Held when the binlog state has it (MariaDB: per domain and origin server) — nothing of it is extra.
  return extraTransactions(d.version.flavor, gtid, held).length ? undefined : gtid;
}

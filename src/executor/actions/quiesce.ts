import { compareCoordinates, formatCoordinates } from '../../binlog/coordinates.js';
import type { Dialect } from '../../dialect/dialect.js';
import type { SqlConnection } from '../../topology/connection.js';
import { nextRelayGtidHeld, relayAhead, type RelayAhead } from '../../binlog/relay-position.js';
import { gtidOf, replicaStatus, sendAll, threadErrors, WRITE_MS } from '../server-reads.js';
import type { ReplicaStatus } from '../../domain/server-state.js';
import type { ActionOutcome, Handler } from '../types.js';
import { type Look, poll } from '../waits.js';

/** How long the SQL thread must idle at the end of its relay log, with nothing moving, to count as drained. */
const IDLE_MS = 500;

export const catchUp: Handler<'catch-up'> = async (step, ctx) => {
  const conn = ctx.conn(step.host);
  const d = ctx.dialect(step.host);
  const end = ctx.outputCoordinates(step.action.masterEnd.step);
  if (!end) throw new Error(`no final position from step ${step.action.masterEnd.step}`);
  await conn.query(step.action.startIo, WRITE_MS);
  return poll(
    `received up to ${formatCoordinates(end)}`,
    ctx.config.timeouts.drain,
    async (): Promise<Look<ActionOutcome>> => {
      const s = await replicaStatus(conn, d);
      if (s?.received.file && compareCoordinates(s.received, end) >= 0) {
        return { done: { detail: `received up to ${formatCoordinates(s.received)}` } };
      }
      return { waiting: `at ${formatCoordinates(s?.received)}; ${threadErrors(s) || s?.ioState}` };
    },
  );
};

export const resumeSql: Handler<'resume-sql'> = async (step, ctx) => {
  const conn = ctx.conn(step.host);
  const d = ctx.dialect(step.host);
  const held = await relayHeld(conn, d, await replicaStatus(conn, d, { raw: true }));
  if (held) return { detail: `not started: ${held}`, alreadyDone: true };
  const keep = step.action.keepRelayLog;
  if (keep) {
    // The plan names the SQL thread's exact place in the relay log: only valid if nothing moved since.
    const s = await replicaStatus(conn, d);
    if (s?.sqlRunning && s.gtidMode === 'No')
      return { detail: 'already applying its relay log by file position', alreadyDone: true };
    const now = s?.relayLog;
    const moved = now?.file !== keep.at.file || now.position !== keep.at.position;
    if (!s || s.sqlRunning || s.ioRunning !== 'No' || moved) {
      throw new Error(
        `replication state changed since the probe (relay log at ${formatCoordinates(now)}, planned ` +
          `${formatCoordinates(keep.at)}); left as it is`,
      );
    }
    await sendAll(conn, [keep.change, step.action.startSql]);
    return { detail: `applying its relay log from ${formatCoordinates(keep.at)}` };
  }
  await conn.query(step.action.startSql, WRITE_MS);
  return { detail: 'SQL thread running' };
};

/**
 * Lifts a delay without losing the relay log: both threads are stopped, the SQL thread's place is read, and
 * the CHANGE names it (switching to file positioning keeps the relay log where GTID mode would discard it).
 */
export const liftDelay: Handler<'lift-delay'> = async (step, ctx) => {
  const conn = ctx.conn(step.host);
  const d = ctx.dialect(step.host);
  await sendAll(conn, [step.action.stopIo, step.action.stopSql]);
  const s = await replicaStatus(conn, d);
  if (!s?.relayLog.file) throw new Error('reports no relay log position; left stopped');
  await sendAll(conn, [d.keepRelayLogWithoutDelay(s.relayLog), step.action.startSql]);
  return { detail: `delay of ${s.sqlDelay} s lifted; applying its relay log from ${formatCoordinates(s.relayLog)}` };
};

export const stopIoThread: Handler<'stop-io-thread'> = async (step, ctx) => {
  const { stopIo, setReadOnly } = step.action;
  await sendAll(ctx.conn(step.host), [...(setReadOnly ?? []), stopIo]);
  return { detail: setReadOnly ? 'read-only, IO thread stopped' : 'ok' };
};

export const stopReplication: Handler<'stop-replication'> = async (step, ctx) => {
  const { stop, restoreGtid } = step.action;
  await sendAll(ctx.conn(step.host), [stop, ...(restoreGtid ? [restoreGtid] : [])]);
  return { detail: restoreGtid ? 'stopped; positioned by GTID again' : 'ok' };
};

/**
 * Waits until the SQL thread has applied everything in the relay log: Exec = Read coordinates, or (when those
 * cannot be trusted, or the relay log ends in half a transaction because the master died mid-send) the SQL
 * thread idling at the end of its relay log with nothing moving for a while. A replica found with both threads
 * stopped and nothing left to apply (a backup replica, an operator's STOP SLAVE) is drained already.
 */
export const drainRelayLog: Handler<'drain-relay-log'> = async (step, ctx) => {
  const conn = ctx.conn(step.host);
  const d = ctx.dialect(step.host);
  let idleSince = 0;
  let last = '';
  return poll('relay log applied', ctx.config.timeouts.drain, async (): Promise<Look<ActionOutcome>> => {
    // Raw: a stale executed figure (executedIsStale) never equals the received one, so it waits for idling; the
    // steps that compare or map positions read it corrected.
    const s = await replicaStatus(conn, d, { raw: true });
    if (!s) throw new Error('not a replica any more');
    const applied = s.executed.file === s.received.file && s.executed.position === s.received.position;
    if (step.action.trustCoordinates && applied) {
      const stopped = s.sqlRunning ? '' : ' — its threads were already stopped';
      return { done: { detail: `applied everything received (${formatCoordinates(s.executed)})${stopped}` } };
    }
    if (!s.sqlRunning && !s.lastSqlError) {
      // The status just read: no second round trip for it. With nothing being received, a SQL thread at the end
      // of its relay log has applied everything: its coordinates may say otherwise after a delay was lifted by
      // relay-log position (MariaDB then counts the old master's position on from the received one; chaos seed
      // 70707: executed mysql-bin.000002:26828705, received 23840017, its relay log applied to the end).
      const ahead = s.ioRunning === 'No' && s.relayLog.file ? await relayAhead(conn, d, s) : undefined;
      if (ahead && 'end' in ahead) {
        const at = formatCoordinates(s.relayLog);
        return { done: { detail: `nothing left to apply: its SQL thread stands at the end of its relay log (${at})` } };
      }
      const held = await relayHeld(conn, d, s, ahead);
      if (held) return { done: { detail: `nothing left to apply: ${held}` } };
    }
    if (!s.sqlRunning) {
      // Never restart it here: with GTID positioning a start while both threads are stopped discards the relay log.
      throw new Error(
        s.lastSqlError
          ? `SQL thread stopped with an error: ${s.lastSqlError}`
          : 'the SQL thread stopped while applying its relay log; left as it is',
      );
    }
    const at = `${formatCoordinates(s.relayLog)} ${formatCoordinates(s.executed)} ${await appliedGtid(conn, d)}`;
    const idle = /read all relay log/i.test(s.sqlState) && at === last;
    idleSince = idle ? idleSince || Date.now() : 0;
    last = at;
    if (idleSince && Date.now() - idleSince > IDLE_MS)
      return { done: idleOutcome(s, step.action.trustCoordinates, at) };
    return { waiting: `at ${at}, received ${formatCoordinates(s.received)}` };
  });
};

/**
 * Why a stopped SQL thread has nothing left to apply although its coordinates say otherwise: the next transaction of
 * its relay log is one it already holds (see nextRelayGtidHeld). Undefined when the thread runs or it does not.
 */
async function relayHeld(
  conn: SqlConnection,
  d: Dialect,
  s: ReplicaStatus | undefined,
  ahead?: RelayAhead,
): Promise<string | undefined> {
  if (!s || s.sqlRunning || !s.relayLog.file) return undefined;
  const held = await gtidOf(conn, d.binlogStateSql());
  const gtid = await nextRelayGtidHeld(conn, d, s, held, ahead);
  return gtid
    ? `its relay log's next transaction ${gtid} is already in its binlog (${held}): an earlier run's salvage applied it`
    : undefined;
}

const appliedGtid = (conn: SqlConnection, d: Dialect): Promise<string> => gtidOf(conn, d.appliedGtidSql());

function idleOutcome(
  s: { received: { file: string; position: number }; executed: { file: string; position: number } },
  trustCoordinates: boolean,
  at: string,
): ActionOutcome {
  const partial = trustCoordinates && compareCoordinates(s.received, s.executed) > 0;
  return {
    detail: partial
      ? `applied every complete transaction (${formatCoordinates(s.executed)}); the relay log ends in an incomplete ` +
        `one up to ${formatCoordinates(s.received)}, which the old master never finished sending`
      : `applied its whole relay log (now at ${at.split(' ').pop()})`,
  };
}

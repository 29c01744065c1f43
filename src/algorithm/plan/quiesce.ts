import { compareCoordinates, formatCoordinates } from '../../binlog/coordinates.js';
import { gtidRelation } from '../../binlog/gtid.js';
import { flavorOf, receivedGtid } from '../replica-facts.js';
import type { ReplicaHost } from '../../domain/server-state.js';
import type { Step } from '../plan-types.js';
import { dialectOf, type PlanContext } from './context.js';
import type { Fence } from './fence.js';

/** For each replica, the step that left it stopped with its relay log applied (what later steps build on). */
export type Stopped = Map<string, Step>;

/** Both threads stopped and nothing received left to apply: a drained replica (a backup, an operator's reflex). */
export function isDrainedAndStopped(r: ReplicaHost): boolean {
  const s = r.replica;
  return !s.sqlRunning && s.ioRunning === 'No' && !hasUnapplied(r);
}

/**
 * Received but not applied: by the old master's coordinates, or by GTIDs — a CHANGE MASTER that names the relay
 * log (keepRelayLogAt, left half-way by a failed run) sets the received coordinates back to the executed ones
 * while the relay log still holds the rest; the received GTIDs (Gtid_IO_Pos) still say it.
 */
const hasUnapplied = (r: ReplicaHost) => unappliedByCoordinates(r) || unappliedByGtid(r);

const unappliedByCoordinates = (r: ReplicaHost) =>
  !!r.replica.received.file && compareCoordinates(r.replica.received, r.replica.executed) > 0;

const unappliedByGtid = (r: ReplicaHost) =>
  !!r.replica.gtidReceived && gtidRelation(flavorOf(r), receivedGtid(r), r.gtidApplied ?? '') === 'ahead';

/**
 * Quiesce: stop receiving first, then let each SQL thread apply everything already received, then stop.
 * Stopping both threads at once would throw received events away. A paused SQL thread is resumed while its
 * IO thread still runs: with MASTER_USE_GTID, MariaDB discards the relay log when a thread starts while both
 * are stopped, so a replica found with both stopped and events left to apply first switches to file
 * positioning at its SQL thread's exact place in the relay log. Delayed replicas are only stopped: their
 * relay log is hours of deliberate lag, and nobody waits for it.
 */
export function quiesceReplicas(ctx: PlanContext, fence: Fence): Stopped {
  const { analysis: a } = ctx;
  const oldAlive = !!a.oldMaster.state?.reachable;
  const resumed = new Map<string, Step>();
  /** Replicas whose coordinates cannot say they are drained: their relay log is applied by file position. */
  const relayOnly = new Set<string>();
  for (const r of a.replicas) {
    const step = resumeStep(ctx, r, oldAlive, fence);
    if (!step) continue;
    resumed.set(r.name, step);
    // Coordinates that show nothing left (a CHANGE MASTER naming the relay log reset them) cannot say when
    // the relay log is applied either.
    const coordinatesBlind = !unappliedByCoordinates(r) && unappliedByGtid(r);
    if (step.action.kind !== 'resume-sql' || step.action.keepRelayLog || coordinatesBlind) {
      relayOnly.add(r.name);
    }
  }
  const stopIo = new Map<string, Step>();
  for (const r of [...a.replicas, ...a.delayed]) {
    const sql = dialectOf(r).stopIoThread();
    // A writable replica is made read-only before it stops: nothing is written there while the run works (a
    // write would be an errant transaction), and a run that stops half-way leaves no second writer behind.
    const setReadOnly = r.readOnly === false ? dialectOf(r).setReadOnly(true) : undefined;
    const step = ctx.list.add({
      phase: 'stop-io',
      host: r.name,
      title: setReadOnly ? 'Make it read-only and stop the IO thread' : 'Stop the IO thread',
      action: { kind: 'stop-io-thread', stopIo: sql, ...(setReadOnly ? { setReadOnly } : {}) },
      sql: [...(setReadOnly ?? []), sql],
      why: setReadOnly
        ? 'it is writable (read_only off): nothing may be written here now; then freezes what it has received'
        : 'freezes what this replica has received',
      after: [...fence.gate, resumed.get(r.name)],
    });
    stopIo.set(r.name, step);
  }
  const drained = new Map(a.replicas.map((r) => [r.name, drainStep(ctx, r, !relayOnly.has(r.name), stopIo)]));
  const stopped: Stopped = new Map();
  for (const r of [...a.replicas, ...a.delayed]) {
    const delayed = a.delayed.includes(r);
    const after = delayed ? stopIo.get(r.name) : drained.get(r.name);
    stopped.set(r.name, stopStep(ctx, r, { delayed, relayOnly: relayOnly.has(r.name), after }));
  }
  return stopped;
}

function drainStep(ctx: PlanContext, r: ReplicaHost, trustCoordinates: boolean, stopIo: Map<string, Step>): Step {
  const until = trustCoordinates ? 'Exec = Read coordinates, or ' : '';
  return ctx.list.add({
    phase: 'drain',
    host: r.name,
    title: 'Apply the relay log to its end',
    action: { kind: 'drain-relay-log', trustCoordinates },
    sql: [
      `${dialectOf(r).replicaStatusSql()} -- repeated until ${until}the SQL thread idles at the end of its ` +
        `relay log, at most ${ctx.config.timeouts.drain} s (a replica already stopped with nothing left is drained)`,
    ],
    why: 'every received transaction must be applied before replicas are compared',
    after: [stopIo.get(r.name)],
  });
}

function stopStep(
  ctx: PlanContext,
  r: ReplicaHost,
  o: { delayed: boolean; relayOnly: boolean; after: Step | undefined },
): Step {
  const stop = dialectOf(r).stopReplication();
  // It was switched to file positioning only to keep its relay log: back to GTID, as it was found, so a
  // run that stops before repointing leaves a GTID cluster behind. Not in a run that positions by file: the
  // switch would replace its executed coordinates with the received ones, which the mapping step reads (chaos
  // seed 70707: the end of a transaction the old master never finished sending, mapped nowhere).
  const gtidRun = ctx.analysis.positioning.mode === 'gtid';
  const restoreGtid = o.relayOnly && gtidRun && byGtid(ctx, r) ? dialectOf(r).useGtidPositioning() : undefined;
  return ctx.list.add({
    phase: 'stop',
    host: r.name,
    title: restoreGtid ? 'Stop replication and return to GTID positioning' : 'Stop replication',
    action: { kind: 'stop-replication', stop, ...(restoreGtid ? { restoreGtid } : {}) },
    sql: [stop, ...(restoreGtid ? [restoreGtid] : [])],
    why: o.delayed
      ? `a delayed replica (MASTER_DELAY ${r.replica.sqlDelay} s) is not waited for: it follows the new master later`
      : 'replication from the old master ends here',
    after: [o.after],
  });
}

/** The step that lets a replica apply what it received, when it is not applying it already; else undefined. */
function resumeStep(ctx: PlanContext, r: ReplicaHost, oldAlive: boolean, fence: Fence): Step | undefined {
  const rs = r.replica;
  const rd = dialectOf(r);
  if (rs.sqlDelay > 0) {
    const stopIo = rd.stopIoThread();
    const stopSql = rd.stopSqlThread();
    const startSql = rd.startSqlThread();
    return ctx.list.add({
      phase: 'start-sql',
      host: r.name,
      title: 'Lift its replication delay and apply its relay log',
      action: { kind: 'lift-delay', stopIo, stopSql, startSql },
      sql: [
        stopIo,
        stopSql,
        `${rd.keepRelayLogWithoutDelay(rs.relayLog)} -- at the SQL thread's place once stopped`,
        startSql,
      ],
      why:
        `it is delayed by ${rs.sqlDelay} s and must take part (the target, or --lift-delay): its relay log is ` +
        'applied now, kept by switching to file positioning at the SQL thread’s exact place',
      after: fence.gate,
    });
  }
  if (rs.sqlRunning) return undefined;
  const bothStopped = !oldAlive && rs.ioRunning === 'No';
  if (bothStopped && !hasUnapplied(r)) return undefined;
  const startSql = rd.startSqlThread();
  if (bothStopped && byGtid(ctx, r)) {
    const change = rd.keepRelayLogAt(rs.relayLog);
    const pending = `${formatCoordinates(rs.executed)}..${formatCoordinates(rs.received)}`;
    return ctx.list.add({
      phase: 'start-sql',
      host: r.name,
      title: 'Apply its relay log by file position',
      action: { kind: 'resume-sql', startSql, keepRelayLog: { at: rs.relayLog, change } },
      sql: [change, startSql],
      why:
        `both threads are stopped with ${pending} received but not applied; starting a thread in GTID mode ` +
        'would discard that relay log',
      after: fence.gate,
    });
  }
  return ctx.list.add({
    phase: 'start-sql',
    host: r.name,
    title: 'Resume the paused SQL thread',
    action: { kind: 'resume-sql', startSql },
    sql: [startSql],
    why: 'its relay log holds received transactions that must be applied',
    after: fence.gate,
  });
}

/**
 * The replica is to replicate by GTID after this run: it does now, or the plan positions by GTID and it was left
 * on file positioning with GTIDs still to apply (a run that failed half-way through keepRelayLogAt; the relay log
 * is then kept again, at the SQL thread's place, and GTID positioning restored once it is applied).
 */
function byGtid(ctx: PlanContext, r: ReplicaHost): boolean {
  if (r.replica.gtidMode !== 'No') return true;
  return ctx.analysis.positioning.mode === 'gtid' && unappliedByGtid(r);
}

import { compareCoordinates, formatCoordinates, type Coordinates } from '../binlog/coordinates.js';
import { mapPosition } from '../binlog/position-mapping.js';
import type { Dialect } from '../dialect/dialect.js';
import type { Plan, Step, StepAction } from '../algorithm/plan-types.js';
import { ServerLogs } from '../binlog/log-reader.js';
import type { HostState } from '../topology/server-state.js';
import { errorText } from '../errors.js';
import type { SqlConnection } from '../topology/connection.js';
import type { ActionContext, ActionOutcome } from './step-actions.js';
import {
  binlogEnd,
  one,
  POLL_MS,
  replicaStatus,
  replicatesFrom,
  sleep,
  stopIfBroken,
  threadErrors,
} from './sql-helpers.js';

type Of<K extends StepAction['kind']> = Extract<StepAction, { kind: K }>;

/**
 * Waits until the SQL thread has executed up to `at` in its source's binlog (see stopIfBroken: a broken
 * replica ends the wait early). A thread that stopped by itself at an UNTIL position counts as arrived there.
 */
export async function waitForPosition(
  conn: SqlConnection,
  d: Dialect,
  at: Coordinates,
  seconds: number,
): Promise<void> {
  const deadline = Date.now() + seconds * 1000;
  const check = stopIfBroken(formatCoordinates(at));
  for (;;) {
    const r = (await one(conn, d.waitForPositionSql(at, 1), 60_000)).r;
    if (r !== null && r !== undefined && Number(r) >= 0) return;
    const s = await replicaStatus(conn, d);
    if (s?.executed.file && compareCoordinates(s.executed, at) >= 0) return;
    check(s);
    if (s && !s.sqlRunning)
      throw new Error(`the SQL thread stopped at ${formatCoordinates(s.executed)}, before ${formatCoordinates(at)}`);
    if (Date.now() > deadline)
      throw new Error(
        `did not reach ${formatCoordinates(at)} within ${seconds} s (at ${formatCoordinates(s?.executed)}${threadErrors(s) ? `; ${threadErrors(s)}` : ''})`,
      );
    if (r === null || r === undefined) await sleep(POLL_MS); // -1 already waited its second; NULL answers at once
  }
}

/** By file, the best replica is the one that executed furthest in the old master's binlog. Records its own binlog end. */
export async function confirmBestByFile(step: Step, a: Of<'confirm-best'>, ctx: ActionContext): Promise<ActionOutcome> {
  const conn = ctx.conn(step.host);
  const d = ctx.dialect(step.host);
  const mine = (await replicaStatus(conn, d))?.executed;
  if (!mine?.file) throw new Error(`${step.host} reports no executed old-master coordinates`);
  const problems: string[] = [];
  for (const name of a.candidates) {
    if (name === step.host || !ctx.isLive(name)) continue;
    const other = (await replicaStatus(ctx.conn(name), ctx.dialect(name)))?.executed;
    if (other?.file && compareCoordinates(other, mine) > 0)
      problems.push(
        `${name} executed up to ${formatCoordinates(other)}, beyond ${step.host}'s ${formatCoordinates(mine)}`,
      );
  }
  const masterEnd = a.masterEnd ? ctx.outputCoordinates(a.masterEnd.step) : undefined;
  if (masterEnd && compareCoordinates(mine, masterEnd) < 0)
    problems.push(
      `the old master wrote up to ${formatCoordinates(masterEnd)}, but ${step.host} executed only up to ${formatCoordinates(mine)}`,
    );
  if (problems.length)
    throw new Error(
      `${problems.join('; ')}. Nothing was repointed; replication is stopped. Re-run mmmf: it re-probes and chooses again.`,
    );
  const end = await binlogEnd(conn, d);
  if (!end) throw new Error(`${step.host} has no binary log (log_bin OFF?)`);
  return {
    detail: `executed the most (old master ${formatCoordinates(mine)}); its own binlog ends at ${formatCoordinates(end)}`,
    output: { coordinates: end },
  };
}

/** Where in the best replica's binlog this replica must start; refused (with the reason) when the evidence does not agree. */
export async function mapPositionStep(step: Step, a: Of<'map-position'>, ctx: ActionContext): Promise<ActionOutcome> {
  const s = await replicaStatus(ctx.conn(step.host), ctx.dialect(step.host));
  if (!s) throw new Error('not a replica any more');
  if (s.sqlRunning || s.ioRunning === 'Yes')
    throw new Error('replication is running again: its position is not fixed; left as it is');
  const x = s.executed;
  if (!x.file) throw new Error(`${step.host} reports no executed old-master coordinates; left stopped`);
  const bestEnd = ctx.outputCoordinates(a.bestEnd.step);
  if (!bestEnd) throw new Error(`no binlog end of ${a.best} from step ${a.bestEnd.step}`);
  const bs = await replicaStatus(ctx.conn(a.best), ctx.dialect(a.best));
  if (!bs?.relayLog.file) throw new Error(`${a.best} reports no relay log`);
  const logs = ctx.logs(a.best);
  const relay = await logs.relayCovering(bs.relayLog.file, x);
  const after = relay.transactions.filter((t) => compareCoordinates(t.end, x) > 0).length;
  const binlog = await logs.binlogTail(after + 1);
  const own = await ctx.logs(step.host).binlogTail(1);
  const m = mapPosition({
    replica: step.host,
    best: a.best,
    executed: x,
    relay,
    binlog: binlog.transactions,
    binlogComplete: binlog.complete,
    binlogEnd: bestEnd,
    ...(own.transactions.length ? { lastExecuted: own.transactions.at(-1)! } : {}),
  });
  if (!m.ok) throw new Error(`${m.reason}. ${step.host} is left stopped`);
  return {
    detail: `old master ${formatCoordinates(x)} = ${a.best} ${formatCoordinates(m.coordinates)}, ${m.behind} transaction${m.behind === 1 ? '' : 's'} behind. Evidence: ${m.evidence.join('; ')}`,
    output: { coordinates: m.coordinates },
  };
}

/**
 * Replicates from the best replica, from the mapped position up to exactly its end. A run killed in the middle
 * left this replica replicating from the best one: it continues from where it stopped, never from the mapped
 * position again (that would apply transactions twice).
 */
export async function equalizeByFile(
  step: Step,
  a: Of<'equalize'>,
  ctx: ActionContext,
  materialize: (sql: string) => string,
): Promise<ActionOutcome> {
  const conn = ctx.conn(step.host);
  const d = ctx.dialect(step.host);
  const until = ctx.outputCoordinates(a.until.step);
  const from = ctx.outputCoordinates(a.from!.step);
  if (!until || !from) throw new Error(`no coordinates from steps ${a.until.step} and ${a.from!.step}`);
  const src = ctx.config.hosts.find((h) => h.name === a.source)!;
  if (compareCoordinates(from, until) >= 0)
    return { detail: `already at ${a.source}'s end ${formatCoordinates(until)}`, alreadyDone: true };
  // Stop first: a replica left replicating by a killed run keeps applying, and its position must not move
  // between reading it and starting again from it (that would apply transactions twice).
  await conn.query(d.stopReplication(), 30_000);
  const s = await replicaStatus(conn, d);
  const resumed = replicatesFrom(s, src) && !!s.executed.file && compareCoordinates(s.executed, from) >= 0;
  const start = resumed ? s.executed : from;
  if (compareCoordinates(start, until) >= 0)
    return { detail: `already at ${a.source}'s end ${formatCoordinates(until)}`, alreadyDone: true };
  const [change, startUntil, , stop] = step.sql.map(materialize);
  await conn.query(
    resumed
      ? materialize(
          d.changeSourceFile(
            { host: src.host, port: src.port, user: ctx.config.replication.user, password: '' },
            start,
            true,
          ),
        )
      : change!,
    30_000,
  );
  await conn.query(startUntil!, 30_000);
  try {
    await waitForPosition(conn, d, until, ctx.config.timeouts.equalize);
  } catch (err) {
    await conn.query(stop!, 30_000);
    throw new Error(`${errorText(err)}; left stopped`);
  }
  await conn.query(stop!, 30_000);
  return {
    detail: `replicated ${a.source} ${formatCoordinates(start)}..${formatCoordinates(until)}${resumed ? ' (continuing an interrupted run)' : ''}`,
  };
}

/**
 * Before anything changes: by file, the target must be mappable through the best replica's relay log, or the
 * run would stop half-way with replication stopped everywhere. Read-only; a refusal names what to do instead.
 * (The other replicas are checked at run time: one that cannot be mapped is left stopped, the rest go on.)
 */
export async function targetMappingRefusal(
  plan: Plan,
  states: HostState[],
  conns: Map<string, SqlConnection>,
  dialects: Map<string, Dialect>,
): Promise<string | undefined> {
  if (plan.positioning !== 'file' || plan.best === plan.target || plan.nothingToDo) return undefined;
  const best = states.find((s) => s.name === plan.best);
  const target = states.find((s) => s.name === plan.target);
  const conn = conns.get(plan.best);
  const x = target?.replica?.executed;
  if (!best?.replica?.relayLog.file || !conn || !x?.file) return undefined;
  const from = await new ServerLogs(conn, dialects.get(plan.best)!).relayReaches(best.replica.relayLog.file, x);
  if (from && compareCoordinates(from, x) <= 0) return undefined;
  return (
    `${plan.target} cannot be brought up to ${plan.best} by file: ${plan.best}'s relay log ${from ? `only goes back to ${formatCoordinates(from)}` : "no longer names the old master's binlog file"}, ` +
    `after ${plan.target}'s position ${formatCoordinates(x)} (older relay logs were purged: relay_log_purge=ON?). Fail over to ${plan.best} instead (--failover-to ${plan.best}), then re-clone or repoint ${plan.target}.`
  );
}

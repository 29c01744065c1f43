import { compareCoordinates, formatCoordinates, type Coordinates } from '../binlog/coordinates.js';
import { gtidAhead, gtidMissing, gtidRelation, gtidUnion } from '../binlog/gtid.js';
import { quote, REDACTED, type Dialect } from '../dialect/dialect.js';
import type { Step, StepAction, StepRef } from '../algorithm/plan-types.js';
import { errorText } from '../errors.js';
import type { ResolvedConfig } from '../topology/config-types.js';
import type { SqlConnection } from '../topology/connection.js';
import type { ReplicaStatus } from '../topology/server-state.js';
import { runFenceHook } from '../safety/hooks.js';
import { runRemote } from '../vip/remote.js';
import { vipAddArgv, vipCheckArgv, vipRemoveArgv } from '../vip/vip-commands.js';
import type { ServerLogs } from '../binlog/log-reader.js';
import {
  binlogEnd,
  gtidOf,
  one,
  POLL_MS,
  replicaStatus,
  replicatesFrom,
  sleep,
  stopIfBroken,
  threadErrors,
} from './sql-helpers.js';
import { confirmBestByFile, equalizeByFile, mapPositionStep, waitForPosition } from './file-positioning.js';

/** What a step produced for later steps (e.g. a GTID position) and a one-line account for the operator. */
export interface ActionOutcome {
  detail: string;
  output?: { gtid?: string; coordinates?: Coordinates };
  /** The step found nothing to do (it is idempotent): reported as skipped, not failed. */
  alreadyDone?: boolean;
}

export interface ActionContext {
  config: ResolvedConfig;
  conn(host: string): SqlConnection;
  dialect(host: string): Dialect;
  output(ref: StepRef): string;
  outputCoordinates(step: number): Coordinates | undefined;
  /** Hosts still taking part (not dropped after a failure). */
  isLive(host: string): boolean;
  /** What this step recorded before a killed run died inside it (a resumed run must keep it). */
  checkpointed(): { gtid?: string; coordinates?: Coordinates } | undefined;
  /** Records a value in the journal before the step goes on, so a run killed inside the step keeps it. */
  checkpoint(output: { gtid?: string; coordinates?: Coordinates }): void;
  /** One server's binlog and relay log, read lazily and shared by every step of the run. */
  logs(host: string): ServerLogs;
}

/** Waits until this server has applied `gtid` (see stopIfBroken: a broken replica ends the wait early). */
async function waitForGtid(conn: SqlConnection, d: Dialect, gtid: string, seconds: number): Promise<void> {
  const deadline = Date.now() + seconds * 1000;
  const check = stopIfBroken(gtid);
  for (;;) {
    const r = await one(conn, d.waitForGtidSql(gtid, 1), 60_000);
    if (Number(r.r) === 0) return;
    const s = await replicaStatus(conn, d);
    check(s);
    if (Date.now() > deadline)
      throw new Error(`did not reach ${gtid} within ${seconds} s${threadErrors(s) ? `: ${threadErrors(s)}` : ''}`);
  }
}

/**
 * The printed statement made executable: the redacted replication password and the run-time values named
 * `<gtid from step N>` are filled in. Everything else is sent exactly as printed.
 */
export function materialize(sql: string, ctx: ActionContext): string {
  const valid = { gtid: /^[\w:,-]*$/, file: /^[\w.-]+$/, pos: /^\d+$/ };
  return sql
    .replaceAll(quote(REDACTED), quote(ctx.config.replication.password))
    .replace(
      /'<(file) from step (\d+)>'|<(gtid|pos) from step (\d+)>/g,
      (_, fk: 'file' | undefined, fn: string, k: 'gtid' | 'pos', n: string) => {
        const key = fk ?? k;
        const step = Number(fk ? fn : n);
        const v = ctx.output({ step, key });
        if (!valid[key].test(v)) throw new Error(`unexpected ${key} value from step ${step}: ${v}`);
        return key === 'file' ? quote(v) : v;
      },
    );
}

/** Runs one step against its host. Throws with an operator-readable message when the step fails. */
export async function runAction(step: Step, ctx: ActionContext): Promise<ActionOutcome> {
  // Steps that do not talk SQL (the host's database may be down): the VIP over SSH, the fence hook.
  const remote = await runRemoteAction(step, ctx);
  if (remote) return remote;
  const conn = ctx.conn(step.host);
  const d = ctx.dialect(step.host);
  const t = ctx.config.timeouts;
  const a = step.action;
  // oxlint-disable-next-line typescript/switch-exhaustiveness-check -- split over two switches until the executor's action table replaces them
  switch (a.kind) {
    case 'promote': {
      // A run killed inside this step may already have opened writes: the position it recorded before that
      // stays the one replicas start from (reading it again now could skip writes made since).
      const earlier = a.recordEnd ? ctx.checkpointed()?.coordinates : undefined;
      let coordinates = earlier;
      for (const sql of step.sql) {
        const rows = await conn.query(materialize(sql, ctx), 30_000);
        if (!a.recordEnd || coordinates || !sql.startsWith(d.binlogStatusSql())) continue;
        // Recorded before writes open: every replica starts replicating from exactly here.
        coordinates = d.parseBinlogStatus(rows[0]);
        if (!coordinates) break; // never open writes without the position replicas must start from
        ctx.checkpoint({ coordinates });
      }
      if (a.recordEnd && !coordinates) throw new Error('the new master has no binary log position (log_bin OFF?)');
      const when = earlier ? 'recorded before the interrupted run opened writes' : 'when writes opened';
      return coordinates
        ? { detail: `writable; binlog at ${formatCoordinates(coordinates)} ${when}`, output: { coordinates } }
        : { detail: 'ok' };
    }
    case 'fence-read-only':
    case 'stop-io-thread':
    case 'stop-replication': {
      for (const sql of step.sql) await conn.query(materialize(sql, ctx), 30_000);
      return { detail: 'ok' };
    }
    case 'kill-clients': {
      const rows = await conn.query(d.clientConnectionsSql(), 10_000);
      let killed = 0;
      for (const r of rows) {
        try {
          await conn.query(d.killConnection(Number(r.id)), 10_000);
          killed++;
        } catch (err) {
          // The connection ended by itself between listing and killing: that is what we wanted.
          if ((err as { errno?: number }).errno !== 1094) throw err;
        }
      }
      return { detail: `killed ${killed} client connection${killed === 1 ? '' : 's'}` };
    }
    case 'record-master-end': {
      const coordinates = await binlogEnd(conn, d);
      const gtid = await gtidOf(conn, d.binlogGtidSql());
      if (!coordinates) throw new Error('the old master has no binary log position (log_bin OFF?)');
      return { detail: `${formatCoordinates(coordinates)}, GTID ${gtid || '(none)'}`, output: { gtid, coordinates } };
    }
    case 'catch-up': {
      const end = ctx.outputCoordinates(a.masterEnd.step);
      if (!end) throw new Error(`no final position from step ${a.masterEnd.step}`);
      await conn.query(d.startIoThread(), 30_000);
      const deadline = Date.now() + t.drain * 1000;
      for (;;) {
        const s = await replicaStatus(conn, d);
        if (s && s.received.file && compareCoordinates(s.received, end) >= 0)
          return { detail: `received up to ${formatCoordinates(s.received)}` };
        if (Date.now() > deadline)
          throw new Error(
            `did not receive up to ${formatCoordinates(end)} within ${t.drain} s (at ${formatCoordinates(s?.received)}; ${threadErrors(s) || s?.ioState})`,
          );
        await sleep(POLL_MS);
      }
    }
    case 'resume-sql': {
      if (a.relayLog) {
        // The plan names the SQL thread's exact place in the relay log: only valid if nothing moved since.
        const s = await replicaStatus(conn, d);
        if (s?.sqlRunning && s.gtidMode === 'No')
          return { detail: 'already applying its relay log by file position', alreadyDone: true };
        const now = s?.relayLog;
        if (
          !s ||
          s.sqlRunning ||
          s.ioRunning !== 'No' ||
          now?.file !== a.relayLog.file ||
          now.position !== a.relayLog.position
        ) {
          throw new Error(
            `replication state changed since the probe (relay log at ${formatCoordinates(now)}, planned ${formatCoordinates(a.relayLog)}); left as it is`,
          );
        }
      }
      for (const sql of step.sql) await conn.query(materialize(sql, ctx), 30_000);
      return {
        detail: a.relayLog ? `applying its relay log from ${formatCoordinates(a.relayLog)}` : 'SQL thread running',
      };
    }
    case 'drain-relay-log':
      return drain(conn, d, t.drain, a.trustCoordinates);
    case 'confirm-best': {
      if (a.byFile) return confirmBestByFile(step, a, ctx);
      // gtid_current_pos, not gtid_slave_pos: a former master holds its own writes only in its binlog.
      const f = d.version.flavor;
      const best = gtidUnion(f, '', await gtidOf(conn, d.currentGtidSql()));
      const problems: string[] = [];
      for (const name of a.candidates) {
        if (name === step.host || !ctx.isLive(name)) continue;
        const other = await gtidOf(ctx.conn(name), ctx.dialect(name).currentGtidSql());
        const rel = gtidRelation(f, best, other);
        if (rel === 'behind' || rel === 'diverged')
          problems.push(`${name} has ${gtidMissing(f, other, best).join(', ')} which ${step.host} lacks`);
      }
      if (a.masterEnd) {
        const end = ctx.output(a.masterEnd);
        const rel = gtidRelation(f, best, end);
        if (rel === 'behind' || rel === 'diverged')
          problems.push(`the old master has ${gtidMissing(f, end, best).join(', ')} which ${step.host} never received`);
      }
      if (problems.length) {
        throw new Error(
          `${problems.join('; ')}. Nothing was repointed; replication is stopped. Re-run mmmf: it re-probes and chooses again.`,
        );
      }
      return { detail: `holds everything (${best})`, output: { gtid: best } };
    }
    case 'map-position':
      return mapPositionStep(step, a, ctx);
    case 'equalize': {
      if (a.from) return equalizeByFile(step, a, ctx, (sql) => materialize(sql, ctx));
      const until = ctx.output(a.until);
      const missing = gtidAhead(d.version.flavor, until, await gtidOf(conn, d.currentGtidSql()));
      if (missing === 0) return { detail: `already holds ${until}`, alreadyDone: true };
      const [change, startUntil, , stop] = step.sql.map((sql) => materialize(sql, ctx));
      await conn.query(d.stopReplication(), 30_000);
      await conn.query(change!, 30_000);
      await conn.query(startUntil!, 30_000);
      try {
        await waitForGtid(conn, d, until, t.equalize);
      } catch (err) {
        await conn.query(stop!, 30_000);
        throw new Error(`${errorText(err)}; left stopped`);
      }
      await conn.query(stop!, 30_000);
      return { detail: `applied ${missing} transaction${missing === 1 ? '' : 's'} from ${a.source}, now at ${until}` };
    }
    case 'repoint': {
      if (a.at) {
        // By file, a second CHANGE MASTER would go back to the recorded position and apply transactions twice:
        // a replica already pointed at the new master (a resumed run) is only started.
        const s = await replicaStatus(conn, d);
        if (
          replicatesFrom(
            s,
            ctx.config.hosts.find((h) => h.name === a.source)!,
          )
        ) {
          for (const sql of [...d.setReadOnly(true), d.startReplication()]) await conn.query(sql, 30_000);
          return {
            detail: `was already pointed at ${a.source} (at ${formatCoordinates(s.executed)}): only started it`,
          };
        }
      }
      for (const sql of step.sql) await conn.query(materialize(sql, ctx), 30_000);
      return {
        detail: `replicating from ${a.source}${a.at ? ` from ${formatCoordinates(ctx.outputCoordinates(a.at.step))}` : ''}`,
      };
    }
    case 'verify-replica': {
      const deadline = Date.now() + t.verify * 1000;
      let s: ReplicaStatus | undefined;
      for (;;) {
        s = await replicaStatus(conn, d);
        if (s && s.ioRunning === 'Yes' && s.sqlRunning) break;
        if (
          (s?.lastIoError || s?.lastSqlError) &&
          !(s?.ioRunning === 'Connecting' && !s?.lastSqlError && Date.now() < deadline)
        ) {
          throw new Error(threadErrors(s));
        }
        if (Date.now() > deadline)
          throw new Error(
            `replication threads not running after ${t.verify} s (IO ${s?.ioRunning ?? '-'}, SQL ${s?.sqlRunning ? 'Yes' : 'No'})`,
          );
        await sleep(POLL_MS);
      }
      if (a.byFile) {
        const end = await binlogEnd(ctx.conn(a.source), ctx.dialect(a.source));
        if (!end) throw new Error(`${a.source} has no binary log position`);
        await waitForPosition(conn, d, end, t.verify);
        return { detail: `IO and SQL threads running, caught up with ${a.source} at ${formatCoordinates(end)}` };
      }
      const srcGtid = await gtidOf(ctx.conn(a.source), ctx.dialect(a.source).binlogGtidSql());
      if (a.formerMaster) {
        for (;;) {
          const rel = gtidRelation(d.version.flavor, await gtidOf(conn, d.currentGtidSql()), srcGtid);
          if (rel === 'equal' || rel === 'ahead') break;
          if (Date.now() > deadline)
            throw new Error(`running but not caught up with ${a.source} (${srcGtid}) after ${t.verify} s`);
          await sleep(POLL_MS);
        }
      } else await waitForGtid(conn, d, srcGtid, t.verify);
      return { detail: `IO and SQL threads running, caught up with ${a.source} at ${srcGtid || '(empty)'}` };
    }
    default:
      throw new Error(`no SQL action for ${a.kind}`);
  }
}

/** Actions that work over SSH or locally, never over SQL: the host's database may be down. */
export const REMOTE_ACTIONS: ReadonlySet<StepAction['kind']> = new Set([
  'vip-remove',
  'vip-add',
  'vip-verify',
  'fence-hook',
]);

async function runRemoteAction(step: Step, ctx: ActionContext): Promise<ActionOutcome | undefined> {
  const a = step.action;
  const vip = ctx.config.vip;
  const host = (name: string) => ctx.config.hosts.find((h) => h.name === name);
  const iface = (name: string) => host(name)?.vipInterface ?? vip!.interface;
  const timeout = ctx.config.timeouts.connect;
  // oxlint-disable-next-line typescript/switch-exhaustiveness-check -- split over two switches until the executor's action table replaces them
  switch (a.kind) {
    case 'vip-remove': {
      const h = host(step.host)!;
      const r = await runRemote(h, vipRemoveArgv(vip!.address, iface(h.name)), timeout);
      if (!r.ok)
        throw new Error(
          `could not remove the VIP ${vip!.address} from ${h.name} over SSH (${r.out || `exit ${r.code}`}): if that host comes back it may still answer for the VIP — remove it there by hand`,
        );
      return { detail: `${vip!.address} is not on ${h.name}` };
    }
    case 'vip-add': {
      const h = host(step.host)!;
      const r = await runRemote(h, vipAddArgv(vip!.address, iface(h.name)), timeout);
      if (!r.ok)
        throw new Error(
          `could not add the VIP ${vip!.address} on ${h.name} over SSH (${r.out || `exit ${r.code}`}): applications cannot reach the new master through it`,
        );
      // Read it back: an exit code of 0 is not proof enough that the address is there.
      const check = await runRemote(h, vipCheckArgv(vip!.address, iface(h.name)), timeout);
      if (check.out.split('\n').pop() !== 'yes')
        throw new Error(`added the VIP ${vip!.address} on ${h.name}, but reading it back says '${check.out}'`);
      return { detail: `${vip!.address} on ${h.name}, gratuitous ARP sent` };
    }
    case 'vip-verify': {
      const answers = await Promise.all(
        ctx.config.hosts.map(async (h) => {
          const r = await runRemote(h, vipCheckArgv(vip!.address, iface(h.name)), timeout);
          return { name: h.name, holds: r.ok ? r.out.split('\n').pop() === 'yes' : undefined };
        }),
      );
      const holders = answers.filter((x) => x.holds).map((x) => x.name);
      const unknown = answers.filter((x) => x.holds === undefined).map((x) => x.name);
      const note = unknown.length ? `; not reachable over SSH, so not checked: ${unknown.join(', ')}` : '';
      if (holders.length !== 1 || holders[0] !== a.holder)
        throw new Error(`the VIP is held by [${holders.join(', ')}], expected only ${a.holder}${note}`);
      return { detail: `only ${a.holder} holds ${vip!.address}${note}` };
    }
    case 'fence-hook': {
      const old = host(step.host);
      const outcome = await runFenceHook(ctx.config, step.host, old ? `${old.host}:${old.port}` : '');
      if (!outcome.ok) throw new Error(`fence hook ${outcome.detail}: the old master may still take writes`);
      return { detail: `fence hook: ${outcome.detail}` };
    }
    default:
      return undefined;
  }
}

/**
 * Waits until the SQL thread has applied everything in the relay log: Exec = Read coordinates, or (when
 * those cannot be trusted, or the relay log ends in half a transaction because the master died mid-send)
 * the SQL thread idling at the end of its relay log with nothing moving for a while.
 */
async function drain(
  conn: SqlConnection,
  d: Dialect,
  seconds: number,
  trustCoordinates: boolean,
): Promise<ActionOutcome> {
  const deadline = Date.now() + seconds * 1000;
  let idleSince = 0;
  let last = '';
  for (;;) {
    const s = await replicaStatus(conn, d);
    if (!s) throw new Error('not a replica any more');
    if (!s.sqlRunning) {
      // Never restart it here: with GTID positioning a start while both threads are stopped discards the relay log.
      throw new Error(
        s.lastSqlError
          ? `SQL thread stopped with an error: ${s.lastSqlError}`
          : 'the SQL thread stopped while applying its relay log; left as it is',
      );
    }
    if (trustCoordinates && s.executed.file === s.received.file && s.executed.position === s.received.position) {
      return { detail: `applied everything received (${formatCoordinates(s.executed)})` };
    }
    const [g] = await conn.query(d.appliedGtidSql(), 10_000);
    const at = `${formatCoordinates(s.relayLog)} ${formatCoordinates(s.executed)} ${String(g?.gtid ?? '')}`;
    if (/read all relay log/i.test(s.sqlState) && at === last) {
      if (!idleSince) idleSince = Date.now();
      if (Date.now() - idleSince > 500) {
        const partial = trustCoordinates && compareCoordinates(s.received, s.executed) > 0;
        return {
          detail: partial
            ? `applied every complete transaction (${formatCoordinates(s.executed)}); the relay log ends in an incomplete one up to ${formatCoordinates(s.received)}, which the old master never finished sending`
            : `applied its whole relay log (now at ${String(g?.gtid ?? '')})`,
        };
      }
    } else idleSince = 0;
    last = at;
    if (Date.now() > deadline)
      throw new Error(
        `relay log not applied within ${seconds} s (at ${at}, received ${formatCoordinates(s.received)})`,
      );
    await sleep(POLL_MS);
  }
}

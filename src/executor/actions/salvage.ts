import type { Transaction } from '../../binlog/binlog-events.js';
import { formatCoordinates } from '../../binlog/coordinates.js';
import { slavePosAfter } from '../../binlog/binlog-file/gtid-coverage.js';
import { locateSalvage } from '../../binlog/binlog-file/locate-salvage.js';
import {
  gtidRanges,
  refusedReport,
  remainingSlices,
  reportOf,
  type SalvageReport,
} from '../../binlog/binlog-file/salvage-report.js';
import type { SalvageFrom, SalvageLocation } from '../../binlog/binlog-file/salvage-types.js';
import { fixGtidSlavePosSql, liftSuperReadOnly } from '../../dialect/salvage-dialect.js';
import { binlogSince, endEarlierApply } from '../salvage-apply.js';
import {
  OldMasterAlive,
  reachOldMaster,
  proveNoServer,
  SalvageRefused,
  type OldMasterHost,
} from '../salvage-remote.js';
import { errorText } from '../../errors.js';
import { applySalvage } from '../salvage-run.js';
import { binlogEnd, gtidOf, one, READ_MS, replicaStatus, WRITE_MS } from '../server-reads.js';
import type { ActionContext, ActionOutcome, Handler, SalvageStart, StepOutput } from '../types.js';

type SalvageStep = Parameters<Handler<'salvage'>>[0];

/** Where a salvage's time went, for its detail line: what a slow one waited on (SSH, decoding, the apply). */
class Laps {
  private t = performance.now();
  private readonly laps: string[] = [];
  lap(name: string, detail?: string): void {
    const now = performance.now();
    this.laps.push(`${name} ${Math.round(now - this.t)} ms${detail ? ` [${detail}]` : ''}`);
    this.t = now;
  }
  toString(): string {
    return this.laps.join(', ');
  }
}

/**
 * Salvages what only the dead old master's binlog holds into the best replica (see the 'salvage' action). A
 * salvage that cannot happen, or fails before a single transaction is applied, is refused: nothing applied, the
 * best replica's position passed on, the failover goes on as without it. Once part is applied, a failure fails
 * the step (nothing is promoted): run mmmf again, it resumes after what was applied; a run resumed with
 * --no-salvage keeps what was applied and goes on. A resumed run ends the killed run's apply session first.
 * Its own server running again on the old master's host is never a dead master: that fails the step.
 */
export const salvage: Handler<'salvage'> = async (step, ctx) => {
  const start = ctx.checkpointed()?.salvageStart;
  const conn = ctx.conn(step.host);
  const ended = start ? await endEarlierApply(conn, ctx.dialect(step.host)) : undefined;
  if (!ctx.config.salvage) {
    const off = '--no-salvage: the salvage stops here';
    return start
      ? conclude(step, ctx, start, { location: undefined, refusals: [off], ended })
      : refused(step, ctx, off);
  }
  try {
    const laps = new Laps();
    const read = await readDeadMaster(step, ctx, start, laps);
    return await applyLocation(step, ctx, { ...read, start, ended, laps });
  } catch (err) {
    if (err instanceof OldMasterAlive) throw err;
    const began = ctx.checkpointed()?.salvageStart;
    const applied = began ? (await binlogSince(conn, ctx.dialect(step.host), began.binlogEnd)).length : 0;
    if (applied > 0) throw err;
    const why = err instanceof SalvageRefused ? err.message : `nothing was applied: ${errorText(err)}`;
    return refused(step, ctx, why, err instanceof SalvageRefused ? err.location : undefined);
  }
};

/** Nothing salvaged: the best replica's position is handed on as it was, with the reason. */
function refused(step: SalvageStep, ctx: ActionContext, why: string, location?: SalvageLocation): ActionOutcome {
  const base = location ? reportOf(location, hostsOf(step)) : refusedReport(hostsOf(step), []);
  return {
    detail: `nothing salvaged from ${step.action.oldMaster}: ${why}`,
    output: { ...passOn(step, ctx), salvage: { ...base, outcome: 'refused', transactions: 0, refusals: [why] } },
  };
}

const hostsOf = (step: SalvageStep) => ({ oldMaster: step.action.oldMaster, appliedTo: step.host });

/** The best replica's position before the salvage, handed on unchanged when nothing is applied. */
function passOn(step: SalvageStep, ctx: ActionContext): StepOutput {
  const a = step.action;
  if (!a.byFile) return { gtid: ctx.output(a.before) };
  const c = ctx.outputCoordinates(a.before.step);
  if (!c) throw new Error(`step ${a.before.step} produced no binlog position`);
  return { coordinates: c };
}

interface Read {
  host: OldMasterHost;
  location: SalvageLocation;
  slavePos: string;
  checked: string;
}

/**
 * From the best replica's position (replication stopped: it must not move), reads the old master's binlog over
 * SSH once no server is proved to run for it. Refused when the host cannot be read or the binlog may not be
 * salvaged (encrypted, purged start, ...).
 */
async function readDeadMaster(
  step: SalvageStep,
  ctx: ActionContext,
  start: SalvageStart | undefined,
  laps: Laps,
): Promise<Read> {
  const a = step.action;
  const conn = ctx.conn(step.host);
  const d = ctx.dialect(step.host);
  const s = await replicaStatus(conn, d);
  if (!s) throw new Error(`${step.host} no longer replicates: its position in ${a.oldMaster}'s binlog is unknown`);
  if (s.sqlRunning || s.ioRunning !== 'No') {
    throw new Error(`${step.host}'s replication runs again: its position is not fixed; nothing salvaged`);
  }
  // What replication applied here (MariaDB gtid_slave_pos, MySQL gtid_executed; '' without GTIDs): each
  // transaction read is checked against it, and a resumed run keeps the one read before the apply.
  const slavePos = start?.slavePos ?? (await gtidOf(conn, d.appliedGtidSql()));
  const from: SalvageFrom | undefined = s.executed.file
    ? { file: s.executed.file, position: s.executed.position, ...(slavePos ? { gtid: slavePos } : {}) }
    : slavePos
      ? { gtid: slavePos }
      : undefined;
  if (!from) throw new SalvageRefused(`${step.host} reports no position in ${a.oldMaster}'s binlog`);
  const old = ctx.config.hosts.find((h) => h.name === a.oldMaster);
  if (!old) throw new Error(`no host ${a.oldMaster} in the config`);
  const connect = ctx.config.timeouts.connect;
  const host = await reachOldMaster(old, a, connect);
  const checked = await proveNoServer(host, old.port, connect);
  laps.lap('SSH and no server');
  const location = await locateSalvage(host.source, { from, maxBytes: a.maxBytes }).catch((err: unknown) => {
    throw new SalvageRefused(`reading ${old.name}'s binlog over SSH failed: ${(err as Error).message}`);
  });
  laps.lap('read and check');
  if (location.refusal) {
    throw new SalvageRefused(`${location.refusal.reason}: ${location.refusal.detail}`, location);
  }
  return { host, location, slavePos, checked };
}

/** What a resumed run reads must be what the run it resumes read: the old master's binlog has not changed. */
function sameAsStarted(location: SalvageLocation, start: SalvageStart): string | undefined {
  const t = location.transactions;
  const said = (n: number, first?: string, last?: string, end?: SalvageStart['endsAt']) =>
    `${n} transactions, ${first ?? '-'}..${last ?? '-'}, ending at ${formatCoordinates(end)}`;
  const now = said(t.length, t[0]?.gtid, t.at(-1)?.gtid, location.endsAt);
  const then = said(start.transactions, start.first, start.last, start.endsAt);
  return now === then ? undefined : `now ${now}; the run this one resumes read ${then}`;
}

/** The transactions in the best replica's binlog since the salvage began must be the first of the salvaged ones. */
function appliedPrefix(applied: Transaction[], location: SalvageLocation | undefined, host: string): void {
  const salvaged = location?.transactions;
  const extra = salvaged && applied.length > salvaged.length;
  const wrong = applied.findIndex((t, i) => {
    const want = salvaged?.[i]?.gtid;
    return !!want && !!t.gtid && t.gtid.toLowerCase() !== want.toLowerCase();
  });
  if (extra || wrong >= 0) {
    const at = wrong >= 0 ? `transaction ${wrong + 1} is ${applied[wrong]!.gtid}, not ${salvaged?.[wrong]?.gtid}` : '';
    throw new Error(
      `${host}'s binlog since the salvage began holds ${applied.length} transactions, not the first of the ` +
        `${salvaged?.length ?? 0} salvaged ones${at ? ` (${at})` : ''}: something else wrote there. Nothing more ` +
        'is applied; see its binlog',
    );
  }
}

/** Applies what is left of the location, verifies the replica advanced by exactly it, and concludes. */
async function applyLocation(
  step: SalvageStep,
  ctx: ActionContext,
  r: Read & { start: SalvageStart | undefined; ended: string | undefined; laps: Laps },
): Promise<ActionOutcome> {
  const conn = ctx.conn(step.host);
  const d = ctx.dialect(step.host);
  const { location } = r;
  if (r.start) {
    const differs = sameAsStarted(location, r.start);
    if (differs) throw new Error(`${step.action.oldMaster}'s binlog changed since the salvage began: ${differs}`);
  }
  if (!location.transactions.length) {
    const report = reportOf(location, hostsOf(step));
    const why = `${step.host} already holds everything ${step.action.oldMaster}'s binlog has (${r.checked})`;
    return {
      detail: `nothing to salvage: ${why}`,
      output: { ...passOn(step, ctx), salvage: report },
      alreadyDone: true,
    };
  }
  const binlogStart = r.start?.binlogEnd ?? (await binlogEnd(conn, d));
  if (!binlogStart) throw new SalvageRefused(`${step.host} has no binary log (log_bin OFF)`);
  const before = r.start ? await binlogSince(conn, d, binlogStart) : [];
  appliedPrefix(before, location, step.host);
  const start: SalvageStart = r.start ?? {
    binlogEnd: binlogStart,
    slavePos: r.slavePos,
    transactions: location.transactions.length,
    ...(location.transactions[0]?.gtid ? { first: location.transactions[0].gtid } : {}),
    ...(location.transactions.at(-1)?.gtid ? { last: location.transactions.at(-1)!.gtid } : {}),
    ...(location.endsAt ? { endsAt: location.endsAt } : {}),
  };
  const remaining = remainingSlices(location, before.length);
  if (remaining.length) {
    const lift = liftSuperReadOnly(d);
    const superReadOnly = lift && Number((await one(conn, lift.read, READ_MS)).s) === 1 ? lift : undefined;
    await applySalvage(step, ctx, {
      slices: remaining,
      prove: () => proveNoServer(r.host, r.host.host.port, ctx.config.timeouts.connect),
      lap: (name, detail) => r.laps.lap(name, detail),
      ...(r.start ? {} : { journal: start }),
      ...(superReadOnly ? { superReadOnly } : {}),
    });
  }
  const done = await conclude(step, ctx, start, {
    location,
    refusals: [],
    ended: r.ended,
    alreadyApplied: before.length,
  });
  r.laps.lap('read back');
  return { ...done, detail: `${done.detail} (took: ${String(r.laps)})` };
}

/**
 * Reads back what the best replica holds since the salvage began (exactly the salvaged transactions, or a first
 * part of them when it could not finish), sets MariaDB's gtid_slave_pos after them, and hands on its position.
 */
async function conclude(
  step: SalvageStep,
  ctx: ActionContext,
  start: SalvageStart,
  o: { location: SalvageLocation | undefined; refusals: string[]; ended: string | undefined; alreadyApplied?: number },
): Promise<ActionOutcome> {
  const conn = ctx.conn(step.host);
  const d = ctx.dialect(step.host);
  const applied = await binlogSince(conn, d, start.binlogEnd);
  appliedPrefix(applied, o.location, step.host);
  if (!o.refusals.length && applied.length !== start.transactions) {
    throw new Error(
      `${step.host} advanced by ${applied.length} transactions, not the ${start.transactions} salvaged: ` +
        'run mmmf again (it resumes after what was applied)',
    );
  }
  // MariaDB only (MySQL's gtid_executed holds the replayed GTIDs by itself).
  const fix = d.isMariadb
    ? fixGtidSlavePosSql(
        d,
        slavePosAfter(
          start.slavePos,
          applied.map((t) => t.gtid),
        ),
      )
    : undefined;
  if (fix && applied.length) await conn.query(fix, WRITE_MS);
  const end = step.action.byFile ? await binlogEnd(conn, d) : undefined;
  if (step.action.byFile && !end) throw new Error(`${step.host} reports no binlog position`);
  const output: StepOutput = end ? { coordinates: end } : { gtid: await gtidOf(conn, d.currentGtidSql()) };
  const report = summarize(step, o.location, applied, o);
  return { detail: describe(report, o.ended), output: { ...output, salvage: report } };
}

function summarize(
  step: SalvageStep,
  location: SalvageLocation | undefined,
  applied: Transaction[],
  o: { refusals: string[]; alreadyApplied?: number },
): SalvageReport {
  const base = location ? reportOf(location, hostsOf(step)) : refusedReport(hostsOf(step), []);
  const partial = o.refusals.length
    ? {
        transactions: applied.length,
        gtids: gtidRanges(applied.map((t) => ({ file: '', start: 0, end: 0, gtid: t.gtid || undefined, serverId: 0 }))),
        refusals: [...o.refusals, `${applied.length} applied before it stopped`],
      }
    : {};
  return {
    ...base,
    outcome: applied.length ? 'applied' : 'refused',
    ...partial,
    ...(o.alreadyApplied ? { alreadyApplied: o.alreadyApplied } : {}),
  };
}

function describe(r: SalvageReport, ended: string | undefined): string {
  const what = [...r.gtids, ...r.positions].join(', ');
  const torn = r.tornTailBytes ? `; torn tail of ${r.tornTailBytes} bytes dropped` : '';
  const stop = r.notSalvaged ? `; NOT salvaged from ${r.notSalvaged.at} on: ${r.notSalvaged.detail}` : '';
  const resumed = r.alreadyApplied ? ` (${r.alreadyApplied} of them applied by the run this one resumes)` : '';
  const refused = r.refusals.length ? `; stopped: ${r.refusals.join('; ')}` : '';
  const tail = `${resumed}${torn}${stop}${refused}${ended ? `; ${ended}` : ''}`;
  return `salvaged ${r.transactions} transactions from ${r.oldMaster} (${what})${tail}`;
}

import { binlogBaseName } from './binlog-source.js';
import type { SalvageLocation, SalvageSlice, SalvagedTransaction } from './salvage-types.js';

// What a salvage says about itself (the summary, --json, the journal) and how it continues after a part was
// applied. Pure: over what locateSalvage found.

/**
 * The account of one salvage, as the report shows it. `outcome`: 'applied' (transactions applied, or all of
 * them found applied by a run this one resumes), 'nothing' (the replica had everything), 'refused' (nothing may
 * be salvaged: `refusals` say why; the failover goes on as without salvage), 'failed' (the step failed: the
 * failover stopped before promoting anyone; `refusals` holds why), 'not-run' (a step before it did not succeed).
 *
 * @example { outcome: 'applied', oldMaster: 'db1', appliedTo: 'db2', transactions: 27, gtids: ['0-1-1501..1527'],
 *   positions: ['mysql-bin.000012:4711..9120'], tornTailBytes: 311, refusals: [], bytesRead: 19873 }
 */
export interface SalvageReport {
  outcome: 'applied' | 'nothing' | 'refused' | 'failed' | 'not-run';
  oldMaster: string;
  appliedTo: string;
  transactions: number;
  /** Salvaged GTIDs as ranges per domain and origin server ('0-1-1501..1527', 'uuid:12-40'). */
  gtids: string[];
  /** Salvaged old-master coordinates, one range per binlog file ('mysql-bin.000012:4711..9120'). */
  positions: string[];
  /** Bytes after the last complete transaction (a write the old master never finished): dropped. */
  tornTailBytes: number;
  /** Why the salvage ends before the end of the log (a damaged event, the byte budget), and what is lost. */
  notSalvaged?: { at: string; reason: string; detail: string; filesAfter: string[] };
  refusals: string[];
  /** A resumed run: how many of them the run it resumes had applied already. */
  alreadyApplied?: number;
  bytesRead: number;
}

/** The report of what a location holds (before anything is applied). */
export function reportOf(location: SalvageLocation, hosts: { oldMaster: string; appliedTo: string }): SalvageReport {
  const refusals = location.refusal ? [`${location.refusal.reason}: ${location.refusal.detail}`] : [];
  const torn = [location.tornTail, ...location.earlierTornTails].reduce((n, t) => n + (t?.bytes ?? 0), 0);
  const stop = location.stop;
  return {
    outcome: refusals.length ? 'refused' : location.transactions.length ? 'applied' : 'nothing',
    ...hosts,
    transactions: location.transactions.length,
    gtids: gtidRanges(location.transactions),
    positions: positionRanges(location.transactions),
    tornTailBytes: torn,
    ...(stop
      ? {
          notSalvaged: {
            at: `${binlogBaseName(stop.file)}:${stop.offset}`,
            reason: stop.reason,
            detail: stop.detail,
            filesAfter: stop.filesAfter.map(binlogBaseName),
          },
        }
      : {}),
    refusals,
    bytesRead: location.bytesRead,
  };
}

/** A report for a salvage refused before anything was read (no SSH, a server running, ...). */
export function refusedReport(hosts: { oldMaster: string; appliedTo: string }, refusals: string[]): SalvageReport {
  const none = { transactions: 0, gtids: [], positions: [], tornTailBytes: 0, bytesRead: 0 };
  return { outcome: 'refused', ...hosts, ...none, refusals };
}

/** Consecutive GTIDs of one origin as ranges: MariaDB '0-1-5..9', MySQL 'uuid:5-9'. */
export function gtidRanges(ts: SalvagedTransaction[]): string[] {
  const out: string[] = [];
  let run: { prefix: string; mysql: boolean; from: number; to: number } | undefined;
  const flush = () => {
    if (!run) return;
    const { prefix, mysql, from, to } = run;
    out.push(from === to ? `${prefix}${from}` : mysql ? `${prefix}${from}-${to}` : `${prefix}${from}..${to}`);
    run = undefined;
  };
  for (const t of ts) {
    const m = t.gtid ? /^(.*[-:])(\d+)$/.exec(t.gtid) : null;
    if (!m) {
      flush();
      continue;
    }
    const prefix = m[1]!;
    const seq = Number(m[2]);
    if (run && run.prefix === prefix && seq === run.to + 1) run.to = seq;
    else {
      flush();
      run = { prefix, mysql: prefix.endsWith(':'), from: seq, to: seq };
    }
  }
  flush();
  return out;
}

/** The salvaged bytes of each file as 'file:start..end'. */
export function positionRanges(ts: SalvagedTransaction[]): string[] {
  const byFile = new Map<string, { from: number; to: number }>();
  for (const t of ts) {
    const f = binlogBaseName(t.file);
    const r = byFile.get(f);
    if (r) r.to = t.end;
    else byFile.set(f, { from: t.start, to: t.end });
  }
  return [...byFile].map(([f, r]) => `${f}:${r.from}..${r.to}`);
}

/**
 * The slices still to replay once the first `applied` transactions are on the replica: the slices that start
 * after them, and the one they end in cut right after its `applied`-th transaction (its header kept: every
 * stream starts with its file's format description). Example: 5 transactions in slices of 2 and 3, applied 3 →
 * the second slice from its second transaction on.
 */
export function remainingSlices(location: SalvageLocation, applied: number): SalvageSlice[] {
  if (applied <= 0) return location.slices;
  const next = location.transactions[applied];
  if (!next) return [];
  const out: SalvageSlice[] = [];
  for (const s of location.slices) {
    const first = location.transactions.findIndex((x) => x.file === s.file && x.start === s.from);
    if (first >= applied) out.push(s);
    else if (s.file === next.file && s.from < next.start && next.start < s.to)
      out.push({ ...s, from: next.start, body: s.body.subarray(next.start - s.from) });
  }
  return out;
}

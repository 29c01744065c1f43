import type { RelayStream, Transaction } from './binlog-events.js';
import { compareCoordinates, formatCoordinates } from './coordinates.js';
import type { Coordinates } from '../domain/coordinates.js';
import { accept, type Outcome, refuse } from '../domain/outcome.js';

/** What the best replica B's logs say, read far enough back for one lagging replica L. */
export interface MappingInput {
  replica: string;
  best: string;
  /** L's executed old-master coordinates, after its relay log has been applied. */
  executed: Coordinates;
  /** B's relay log in old-master terms, read back to `executed` or as far as it still exists. */
  relay: RelayStream;
  /** B's last binlog transactions, oldest first; `binlogComplete` when there are no older ones to read. */
  binlog: Transaction[];
  binlogComplete: boolean;
  /** B's own binlog end (SHOW MASTER STATUS after replication stopped). */
  binlogEnd: Coordinates;
  /** L's own last transaction, from its binlog: the transaction just before the cut must be this one. */
  lastExecuted?: Transaction;
}

/** Where a lagging replica continues in the best replica's binlog, and why mmmf is sure of it. Example:
 * `{ coordinates: { file: 'mysql-bin.000004', position: 8812 }, behind: 312, evidence: [...] }` */
export interface MappedPosition {
  coordinates: Coordinates;
  behind: number;
  evidence: string[];
}

/** A mapped position, or (refused) the one reason it cannot be mapped. */
export type Mapping = Outcome<MappedPosition>;

const key = (c: Coordinates) => `${c.file}:${c.position}`;
export const describeTrx = (t: Transaction | undefined) =>
  !t
    ? '(none)'
    : [
        t.gtid && `GTID ${t.gtid}`,
        t.summary && `"${t.summary.length > 60 ? `${t.summary.slice(0, 57)}...` : t.summary}"`,
      ]
        .filter(Boolean)
        .join(' ') || `${t.events} events`;

/**
 * Pure: where in B's own binlog the first transaction L lacks starts. Counts B's whole transactions after L's
 * executed coordinates in B's relay log (which keeps the old master's positions), takes as many from the end
 * of B's binlog, and accepts the cut only when the evidence agrees: the counted transactions match one by one,
 * and the one before the cut is L's own last transaction. Anything missing or contradicting is a refusal with
 * the reason; mmmf never guesses a position.
 */
export function mapPosition(m: MappingInput): Mapping {
  const x = m.executed;
  const cannot = (why: string): Mapping =>
    refuse([`cannot map ${m.replica}'s position ${formatCoordinates(x)} into ${m.best}'s binlog: ${why}`]);
  const uncovered = relayGapAt(m);
  if (uncovered) return cannot(uncovered);
  const after = m.relay.transactions.filter((t) => compareCoordinates(t.end, x) > 0);
  const before = m.relay.transactions.filter((t) => compareCoordinates(t.end, x) <= 0).at(-1);
  const n = after.length;
  if (m.binlog.length < n) {
    return cannot(
      `${m.best}'s relay log has ${n} transactions after it but its binlog only ${m.binlog.length}` +
        (m.binlogComplete ? ' (binlogs purged, or log_slave_updates was off)' : ''),
    );
  }
  const tail = m.binlog.slice(m.binlog.length - n);
  const differs = tail.findIndex((t, i) => t.signature !== after[i]?.signature);
  if (differs >= 0) {
    const t = tail[differs];
    return cannot(
      `transaction ${differs + 1} of ${n} differs between ${m.best}'s relay log (${describeTrx(after[differs])}) ` +
        `and its binlog (${describeTrx(t)} at ${formatCoordinates(t?.start)}): local writes, ` +
        `replication filters or out-of-order commits on ${m.best}`,
    );
  }
  const beforeCut = m.binlog[m.binlog.length - n - 1];
  const wrongCut = cutDisagrees(m, before, beforeCut);
  if (wrongCut) return cannot(wrongCut);
  const evidence = [
    `${formatCoordinates(x)} ends ${before ? `the transaction ${describeTrx(before)}` : 'a log header'} ` +
      `in ${m.best}'s relay log`,
    n
      ? `the ${n} transaction${n === 1 ? '' : 's'} after it in ${m.best}'s relay log match the last ${n} of ` +
        `its binlog one by one (first: ${describeTrx(after[0])})`
      : `${m.best} has nothing after it`,
    `the transaction before the cut is ${m.replica}'s own last one (${describeTrx(m.lastExecuted)})`,
  ];
  return accept({ coordinates: tail[0]?.start ?? m.binlogEnd, behind: n, evidence });
}

/**
 * Pure: why the best replica's binlog does not end where its relay log does, or undefined: its last transaction is
 * not the relay log's last one, so transactions reached it outside replication — a salvage of the dead master's
 * binlog by an earlier, failed run (chaos seed 70167). Counting back from the binlog's end would then cut in the
 * wrong place; the lagging replica's own last transaction is looked up instead.
 */
export function appliedBeyondRelay(
  relayed: Transaction | undefined,
  logged: Transaction | undefined,
  best: string,
): string | undefined {
  if (!relayed || !logged || relayed.signature === logged.signature) return undefined;
  return (
    `${best}'s binlog ends with ${describeTrx(logged)}, not with its relay log's last transaction ` +
    `(${describeTrx(relayed)}): it holds transactions applied outside replication (salvaged by an earlier run?)`
  );
}

/** Why B's relay log cannot say where L's position is: no coordinates, purged too far, or not at a boundary. */
function relayGapAt(m: MappingInput): string | undefined {
  const x = m.executed;
  if (!x.file) return `${m.replica} reports no executed old-master coordinates`;
  const purged =
    '(older relay logs were purged: relay_log_purge=ON?). ' + `Re-clone ${m.replica} from the new master afterwards`;
  if (!m.relay.from) {
    return `${m.best}'s relay log no longer says which old-master binlog file its events come from ${purged}`;
  }
  if (compareCoordinates(m.relay.from, x) > 0) {
    return `${m.best}'s relay log only goes back to ${formatCoordinates(m.relay.from)} ${purged}`;
  }
  if (!m.relay.boundaries.some((b) => key(b) === key(x))) {
    return (
      `${formatCoordinates(x)} is not between two transactions in ${m.best}'s relay log, so the two replicas ` +
      'did not receive the same stream'
    );
  }
  return undefined;
}

/** The cut is right only when the transaction before it is L's own last one (and the relay log's too). */
function cutDisagrees(m: MappingInput, before: Transaction | undefined, beforeCut: Transaction | undefined) {
  if (!m.lastExecuted) {
    return (
      `${m.replica} has no transaction in its own binlog to check the cut against (log_bin OFF, or its binlogs ` +
      'purged)'
    );
  }
  if (!beforeCut || beforeCut.signature !== m.lastExecuted.signature) {
    return (
      `the transaction before the cut in ${m.best}'s binlog (${describeTrx(beforeCut)}) is not ` +
      `${m.replica}'s own last one (${describeTrx(m.lastExecuted)})`
    );
  }
  if (before && before.signature !== beforeCut.signature) {
    return (
      `${m.best}'s relay log has ${describeTrx(before)} just before ${formatCoordinates(m.executed)} but its ` +
      `binlog has ${describeTrx(beforeCut)} before the cut`
    );
  }
  return undefined;
}

/** Where a lagging replica's own last transactions were found in the best replica's binlog (read newest first). */
export interface BinlogSearch {
  /** The transaction matching the replica's own last one; undefined when not found. */
  anchor?: Transaction;
  /** Every transaction after it in the best replica's binlog, oldest first. */
  after: Transaction[];
  /** How it was found: 'GTID 0-1-9', or a run of n transaction signatures. */
  by: string;
  /** How many places matched (a run of signatures must occur exactly once). */
  matches: number;
}

const mariadbGtid = (g: string) => {
  const m = /^(\d+)-(\d+)-(\d+)$/.exec(g);
  return m ? { domain: Number(m[1]), seq: Number(m[3]) } : undefined;
};

/**
 * Pure: maps a lagging replica L without the best replica B's relay log (purged: relay_log_purge=ON is the
 * server default). L's own last transaction is looked up in B's binlog — by its GTID (MariaDB writes one for
 * every transaction, whatever the positioning), else by a run of L's last transactions' signatures that
 * occurs exactly once — and the cut is right after it. Refused when it is missing, ambiguous, or when B's
 * binlog after it holds transactions of another GTID domain or out of order (then "after it" is not "what L
 * lacks").
 */
export function mapByOwnLastTransaction(m: {
  replica: string;
  best: string;
  executed: Coordinates;
  lastExecuted?: Transaction;
  found: BinlogSearch;
  relayWhy: string;
}): Mapping {
  const cannot = (why: string): Mapping =>
    refuse([
      `cannot map ${m.replica}'s position ${formatCoordinates(m.executed)} into ${m.best}'s binlog: ${m.relayWhy}, ` +
        `and ${why}`,
    ]);
  const own = m.lastExecuted;
  if (!own) return cannot(`${m.replica} has no transaction in its own binlog to look for (log_bin OFF, or purged)`);
  const { anchor, after, by, matches } = m.found;
  if (!anchor || matches === 0)
    return cannot(`its last transaction (${describeTrx(own)}) is not in ${m.best}'s binlog`);
  if (matches > 1)
    return cannot(`its last transactions occur ${matches} times in ${m.best}'s binlog (${by}): ambiguous`);
  if (anchor.signature !== own.signature) {
    return cannot(
      `${describeTrx(anchor)} in ${m.best}'s binlog is not the same transaction as ${m.replica}'s own last one ` +
        `(${describeTrx(own)})`,
    );
  }
  const at = mariadbGtid(anchor.gtid);
  if (at) {
    let seq = at.seq;
    for (const t of after) {
      const g = mariadbGtid(t.gtid);
      if (!g || g.domain !== at.domain || g.seq <= seq) {
        return cannot(
          `${m.best}'s binlog after ${anchor.gtid} holds ${describeTrx(t)}, out of order or of another domain, so ` +
            `what follows it is not exactly what ${m.replica} lacks`,
        );
      }
      seq = g.seq;
    }
  }
  const n = after.length;
  return accept({
    coordinates: anchor.end,
    behind: n,
    evidence: [
      `${m.relayWhy}: mapped through ${m.best}'s binlog instead`,
      `${m.replica}'s own last transaction (${describeTrx(own)}) is in ${m.best}'s binlog once, ` +
        `found by ${by}, ending at ` +
        `${formatCoordinates(anchor.end)}`,
      n
        ? `${n} transaction${n === 1 ? '' : 's'} follow it there (first: ${describeTrx(after[0])})`
        : `nothing follows it`,
    ],
  });
}

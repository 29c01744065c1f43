import { createHash, hash as oneShotHash } from 'node:crypto';
import { compareCoordinates } from './coordinates.js';
import type { Coordinates } from '../domain/coordinates.js';

/**
 * One row of SHOW BINLOG EVENTS / SHOW RELAYLOG EVENTS. In a relay log `pos` is the relay log's own position
 * and `endPos` the OLD MASTER's binlog position after the event (0 for events the replica wrote itself).
 * Example: `{ file: 'relay-bin.000006', pos: 684, type: 'Gtid', serverId: 1, endPos: 427, info: 'BEGIN GTID 0-1-9' }`
 */
/** Rows per SHOW ... EVENTS page: large enough to keep round trips few, small enough to keep memory flat. */
export const PAGE_ROWS = 5000;

export interface LogEvent {
  file: string;
  pos: number;
  type: string;
  serverId: number;
  endPos: number;
  info: string;
}

/** A whole transaction as read from one log, with a signature that is equal for the same transaction in any log. */
export interface Transaction {
  /** Where its first event starts in the log it was read from. */
  start: Coordinates;
  /** Own binlog: where it ends. Relay log: the old master's coordinates after it. */
  end: Coordinates;
  /** MariaDB `0-1-9`, MySQL `uuid:9` or `anonymous`; '' when the log has no GTID events. */
  gtid: string;
  /** Hash of what the transaction does (statements, annotations, tables, row-event kinds), not where it sits. */
  signature: string;
  /** First statement or annotation, shortened: for messages. */
  summary: string;
  /** Tables its row events touch (from Table_map events), for messages. */
  tables: string[];
  events: number;
}

/** What a relay log holds, in the old master's coordinates. */
export interface RelayStream {
  /** The earliest old-master position the relay log read still describes; undefined when it names none. */
  from?: Coordinates;
  /** Every old-master position where the SQL thread can stand: between transactions and after meta events. */
  boundaries: Coordinates[];
  transactions: Transaction[];
  /** A last transaction the old master never finished sending (it died mid-send): never applied anywhere. */
  partial?: Transaction;
}

/** Events that describe the log itself, never part of a transaction. */
const META = new Set([
  'Format_desc',
  'Rotate',
  'Gtid_list',
  'Previous_gtids',
  'Binlog_checkpoint',
  'Stop',
  'Start_encryption',
  'Heartbeat',
  'Heartbeat_log',
  'Incident',
  'Ignorable',
  'Transaction_payload',
]);
const ROWS = /^(Write|Update|Delete|Partial_update)_rows/;

export function parseEventRow(row: Record<string, unknown>): LogEvent {
  return {
    file: String(row.Log_name ?? ''),
    pos: Number(row.Pos ?? 0),
    type: String(row.Event_type ?? ''),
    serverId: Number(row.Server_id ?? 0),
    endPos: Number(row.End_log_pos ?? 0),
    info:
      row.Info === null || row.Info === undefined
        ? ''
        : Buffer.isBuffer(row.Info)
          ? row.Info.toString('latin1')
          : String(row.Info),
  };
}

/** The GTID an event names, or undefined when it is not a GTID event. */
export function gtidOf(e: LogEvent): string | undefined {
  if (e.type === 'Anonymous_Gtid') return 'anonymous';
  if (e.type !== 'Gtid') return undefined;
  const maria = /GTID (\d+-\d+-\d+)/.exec(e.info);
  if (maria) return maria[1];
  const mysql = /GTID_NEXT\s*=\s*'([^']+)'/i.exec(e.info);
  return mysql ? (mysql[1]!.toUpperCase() === 'ANONYMOUS' ? 'anonymous' : mysql[1]!.toLowerCase()) : '';
}

/**
 * What an event contributes to a transaction's signature. Positions, table ids, xids and group-commit ids differ
 * between servers for the same transaction and are left out; statements, annotations and tables are kept.
 */
function token(e: LogEvent): string | undefined {
  if (e.type === 'Gtid' || e.type === 'Anonymous_Gtid')
    return `GTID ${gtidOf(e)}${/^BEGIN\b/.test(e.info) ? ' BEGIN' : ''}`;
  if (e.type === 'Xid' || e.type === 'XA_prepare') return e.type === 'Xid' ? 'COMMIT' : `XA_PREPARE`;
  if (e.type === 'Query') {
    const q = e.info.trim();
    return q === 'COMMIT' || q.startsWith('COMMIT /*') ? 'COMMIT' : `Q ${q}`;
  }
  if (e.type === 'Annotate_rows' || e.type === 'Rows_query') return `S ${e.info}`;
  if (e.type === 'Table_map') return `T ${/\(([^)]*)\)\s*$/.exec(e.info)?.[1] ?? e.info}`;
  const rows = ROWS.exec(e.type);
  if (rows) return `R ${rows[1]}`;
  if (e.type === 'Intvar' || e.type === 'User_var' || e.type === 'Rand') return `V ${e.info}`;
  return undefined;
}

// 'ROLLBACK TO SAVEPOINT' stays inside its transaction; a statement merely containing the word is no end either.
const ends = (e: LogEvent) =>
  e.type === 'Xid' ||
  e.type === 'XA_prepare' ||
  (e.type === 'Query' && /^(COMMIT|ROLLBACK)(\s*\/\*.*\*\/)?$/s.test(e.info.trim()));

/**
 * Groups a stream of events into whole transactions. A transaction opens at a GTID event, a `BEGIN`, or any
 * event that belongs to one; it closes at Xid/COMMIT/ROLLBACK, or after its only statement when it never began
 * (DDL, or a MariaDB `GTID x-y-z` without BEGIN). Works the same for MariaDB and MySQL logs.
 */
export class TransactionGrouper {
  private open?: {
    start: Coordinates;
    gtid: string;
    /**
     * What the signature hashes: the tokens, one per line, hashed once when the transaction is handed out (a
     * large transaction's are folded into `hash` as they pass 64 KB, so memory stays flat).
     */
    tokens: string[];
    size: number;
    hash?: ReturnType<typeof createHash>;
    summary: string;
    tables: Set<string>;
    events: number;
    multi: boolean;
    last: string;
    end: Coordinates;
  };

  constructor(private readonly emit: (t: Transaction) => void) {}

  /** `end` is where this event ends in the coordinates the caller wants transactions to carry. */
  feed(e: LogEvent, end: Coordinates): void {
    if (META.has(e.type)) return;
    const tok = token(e);
    const isGtid = e.type === 'Gtid' || e.type === 'Anonymous_Gtid';
    if (isGtid && this.open) this.reset(); // a GTID event always opens a new transaction
    if (!this.open) {
      this.open = {
        start: { file: e.file, position: e.pos },
        gtid: gtidOf(e) ?? '',
        tokens: [],
        size: 0,
        summary: '',
        tables: new Set(),
        events: 0,
        multi: isGtid ? /^BEGIN\b/.test(e.info) : false,
        last: '',
        end,
      };
    }
    const t = this.open;
    t.events++;
    t.end = end;
    if (tok && tok !== t.last) addToken(t, tok); // consecutive row events of one statement count once
    if (tok) t.last = tok;
    if (
      !t.summary &&
      (e.type === 'Annotate_rows' || e.type === 'Rows_query' || (e.type === 'Query' && !/^BEGIN$/.test(e.info.trim())))
    ) {
      t.summary = e.info.slice(0, 400).replace(/\s+/g, ' ').slice(0, 100); // not the whole of a megabyte statement
    }
    if (e.type === 'Table_map') {
      const table = /\(([^)]+)\)\s*$/.exec(e.info)?.[1];
      if (table) t.tables.add(table);
    }
    if (e.type === 'Query' && e.info.trim() === 'BEGIN') {
      t.multi = true;
      return;
    }
    if (
      isGtid ||
      e.type === 'Intvar' ||
      e.type === 'User_var' ||
      e.type === 'Rand' ||
      e.type === 'Table_map' ||
      e.type === 'Annotate_rows' ||
      e.type === 'Rows_query'
    )
      return;
    if (ends(e) || (!t.multi && e.type === 'Query') || (!t.multi && ROWS.test(e.type) && /STMT_END_F/.test(e.info)))
      this.close();
  }

  /** A transaction has begun and not ended (cheap: no hashing). */
  get isOpen(): boolean {
    return this.open !== undefined;
  }

  /** Where the open transaction's last event so far ends. */
  get openEnd(): Coordinates | undefined {
    return this.open?.end;
  }

  /** The transaction still open at the end of the stream, if any. */
  pending(): Transaction | undefined {
    return this.open ? this.snapshot(this.open) : undefined;
  }

  private close(): void {
    this.emit(this.snapshot(this.open!));
    this.open = undefined;
  }

  /** Forgets a transaction that will never be completed (its sender died, the stream moved on). */
  reset(): void {
    this.open = undefined;
  }

  private snapshot(t: NonNullable<TransactionGrouper['open']>): Transaction {
    return {
      start: t.start,
      end: t.end,
      gtid: t.gtid,
      // One hash per transaction (a hash object per event was most of the mapping's CPU on a 10,000 backlog),
      // one-shot unless tokens were folded already: the same SHA-1 of the same text, without a hash object.
      signature: t.hash
        ? t.hash.copy().update(joined(t.tokens)).digest('hex')
        : oneShotHash('sha1', joined(t.tokens), 'hex'),
      summary: t.summary,
      tables: [...t.tables],
      events: t.events,
    };
  }
}

const FOLD_BYTES = 65_536;
const joined = (tokens: string[]) => (tokens.length ? `${tokens.join('\n')}\n` : '');

function addToken(t: { tokens: string[]; size: number; hash?: ReturnType<typeof createHash> }, tok: string): void {
  t.tokens.push(tok);
  t.size += tok.length + 1;
  if (t.size < FOLD_BYTES) return;
  t.hash = (t.hash ?? createHash('sha1')).update(joined(t.tokens));
  t.tokens = [];
  t.size = 0;
}

/** Whole transactions of a server's own binlog, in order (events of one or more files, in order). */
export function binlogTransactions(events: Iterable<LogEvent>): { transactions: Transaction[]; partial?: Transaction } {
  const transactions: Transaction[] = [];
  const g = new TransactionGrouper((t) => transactions.push(t));
  for (const e of events) g.feed(e, { file: e.file, position: e.endPos });
  const partial = g.pending();
  return { transactions, ...(partial ? { partial } : {}) };
}

const baseName = (file: string) => file.replace(/\.\d+$/, '');

/**
 * Where a Rotate event in a relay log points in the OLD MASTER's binlog ('mysql-bin.000003;pos=4'), or
 * undefined for anything else, including the relay log's own Rotate to its next file (told apart by the
 * file it names).
 */
export function masterRotate(e: LogEvent): Coordinates | undefined {
  const to = rotateTarget(e);
  return to && baseName(to.file) !== baseName(e.file) ? to : undefined;
}

/** The relay log's own Rotate: the next relay file's name; undefined for anything else (a master Rotate too). */
export function relayRotate(e: LogEvent): string | undefined {
  const to = rotateTarget(e);
  return to && baseName(to.file) === baseName(e.file) ? to.file : undefined;
}

function rotateTarget(e: LogEvent): Coordinates | undefined {
  if (e.type !== 'Rotate') return undefined;
  const [file, pos] = e.info.split(';pos=');
  return { file: (file ?? '').trim(), position: Number(pos ?? 4) };
}

/**
 * Follows relay-log events (one or more files, in order, fed one at a time) in old-master terms. The relay
 * log's own Rotate (to its next file) is told apart from the old master's by the file it names. Events before
 * the first master Rotate cannot be placed in the old master's binlog and are ignored.
 *
 * `keepAfter` bounds memory on big relay logs: only what a mapping from that position on can use is kept
 * (boundaries from it, transactions ending after it, and the one transaction ending at or before it).
 */
export class RelayFollower {
  private readonly out: RelayStream = { boundaries: [], transactions: [] };
  private masterFile?: string;
  private readonly g: TransactionGrouper;

  constructor(private readonly keepAfter?: Coordinates) {
    this.g = new TransactionGrouper((t) => {
      const txs = this.out.transactions;
      // Only the newest transaction at or before keepAfter is kept: it is the one just before the cut.
      if (this.keepAfter && compareCoordinates(t.end, this.keepAfter) <= 0 && txs.length) txs.pop();
      txs.push(t);
      this.boundary(t.end);
    });
  }

  private boundary(c: Coordinates): void {
    if (!this.keepAfter || compareCoordinates(c, this.keepAfter) >= 0) this.out.boundaries.push(c);
  }

  feed(e: LogEvent): void {
    const g = this.g;
    if (e.type === 'Rotate') {
      const to = masterRotate(e);
      if (!to) return; // the relay log moving to its next file
      // A real rotate ends the old file there; a fake one (sent on connect) has no end position.
      if (this.masterFile && e.endPos > 0 && !g.isOpen) this.boundary({ file: this.masterFile, position: e.endPos });
      // A reconnect that resumes in the middle of a transaction continues it; anything else means what was
      // half-received before will never be completed.
      const open = g.openEnd;
      const resumes = open && e.endPos === 0 && open.file === to.file && open.position === to.position;
      if (!resumes) g.reset();
      this.masterFile = to.file;
      this.out.from ??= to;
      if (!resumes) this.boundary(to);
      return;
    }
    if (!this.masterFile) return;
    // Written by the replica itself (e.g. the master's format event copied at a relay rotation).
    if (e.endPos === 0) return;
    const end = { file: this.masterFile, position: e.endPos };
    const before = this.out.transactions.at(-1);
    g.feed(e, end);
    const closed = this.out.transactions.at(-1) !== before;
    if (!closed && !g.isOpen) this.boundary(end); // a meta event between transactions: the SQL thread can stand here
  }

  /** What was followed so far, with the transaction still open (if any) as `partial`. */
  result(): RelayStream {
    const partial = this.g.pending();
    return {
      ...this.out,
      boundaries: [...this.out.boundaries],
      transactions: [...this.out.transactions],
      ...(partial ? { partial } : {}),
    };
  }
}

/** Reads relay-log events (one or more files, in order) into old-master terms: see RelayFollower. */
export function relayStream(events: Iterable<LogEvent>, keepAfter?: Coordinates): RelayStream {
  const f = new RelayFollower(keepAfter);
  for (const e of events) f.feed(e);
  return f.result();
}

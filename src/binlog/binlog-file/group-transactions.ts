import type { EventInfo } from './event-bodies.js';
import { EventType, META_EVENTS } from './event-types.js';
import { writesGtidEvents, type FormatDescription } from './format-description.js';
import type { BadEvent, ScannedEvent } from './scan-events.js';

/**
 * One complete transaction of a binlog file: bytes [start, end) replay it whole.
 * Example: `{ start: 1030, end: 1412, gtid: '0-1-17', serverId: 1, events: 5 }`; MySQL: `gtid: '3e11fa47-…:23'`;
 * `gtid` is undefined for MySQL anonymous transactions and logs without GTIDs.
 */
export interface BinlogTransaction {
  start: number;
  end: number;
  gtid: string | undefined;
  /** The server that originally wrote it (the header of its first event). */
  serverId: number;
  events: number;
}

/**
 * Transactions in a run of events. Example: `{ transactions: [...], complete: 1800, open: 1800, bad: undefined }`. `complete` is where the last complete transaction or log event ends;
 * `open` is the start of a transaction whose end is not among the events (the run stopped inside it).
 */
export interface Grouping {
  transactions: BinlogTransaction[];
  complete: number;
  open: number | undefined;
  bad: BadEvent | undefined;
}

interface Open {
  start: number;
  gtid: string | undefined;
  serverId: number;
  events: number;
  /** 'head': after the GTID, before the first statement decides; 'body': between BEGIN and its end. */
  phase: 'head' | 'body';
  /** MySQL 8.0+: what the GTID event says the whole transaction's length is. */
  length: number | undefined;
}

/** The statement's first words, for the checks below ('COMMIT', 'ROLLBACK TO SAVEPOINT a', ...). */
function head(info: EventInfo): string {
  return info.kind === 'query' ? info.statement.replace(/^\/\*.*?\*\/\s*/s, '').toUpperCase() : '';
}

/** COMMIT, ROLLBACK and XA COMMIT/ROLLBACK end a transaction; ROLLBACK TO SAVEPOINT does not. */
function endsTransaction(statement: string): boolean {
  return (
    /^COMMIT\b/.test(statement) ||
    (/^ROLLBACK\b/.test(statement) && !/^ROLLBACK\s+(WORK\s+)?TO\b/.test(statement)) ||
    /^XA\s+(COMMIT|ROLLBACK)\b/.test(statement)
  );
}

/** BEGIN, XA START, and MySQL 8's atomic CREATE TABLE ... SELECT open a multi-event transaction. */
function beginsTransaction(statement: string): boolean {
  return (
    /^BEGIN\b/.test(statement) || /^XA\s+(START|BEGIN)\b/.test(statement) || statement.endsWith('START TRANSACTION')
  );
}

const CONTEXT_EVENTS: ReadonlySet<number> = new Set([EventType.INTVAR, EventType.RAND, EventType.USER_VAR]);
const GTID_EVENTS: ReadonlySet<number> = new Set([EventType.GTID, EventType.ANONYMOUS_GTID, EventType.MARIADB_GTID]);
const QUERY_EVENTS: ReadonlySet<number> = new Set([
  EventType.QUERY,
  EventType.MARIADB_QUERY_COMPRESSED,
  EventType.EXECUTE_LOAD_QUERY,
]);

/**
 * Where each event leaves the transaction it belongs to: 'end' when it completes it, 'body' when it is inside.
 * In the head (after a MySQL GTID event or a MariaDB standalone one), the first statement decides: BEGIN opens a
 * body, any other statement (DDL) is the whole transaction, and so is a compressed payload event.
 */
function step(open: Open, ev: ScannedEvent): 'end' | 'body' | 'head' {
  const type = ev.header.type;
  const statement = head(ev.info);
  if (type === EventType.XID || type === EventType.XA_PREPARE) return 'end';
  if (open.phase === 'body') return QUERY_EVENTS.has(type) && endsTransaction(statement) ? 'end' : 'body';
  if (CONTEXT_EVENTS.has(type)) return 'head';
  if (type === EventType.TRANSACTION_PAYLOAD) return 'end';
  if (!QUERY_EVENTS.has(type)) return 'body';
  return beginsTransaction(statement) ? 'body' : 'end';
}

/**
 * Groups checked events into transactions. Example: `groupTransactions(run.events, format, format.end)`.
 * Stops at the first event that cannot be where it is (see BadEvent), like the scanner.
 */
export function groupTransactions(events: ScannedEvent[], format: FormatDescription, from: number): Grouping {
  const gtidsOnly = writesGtidEvents(format);
  const transactions: BinlogTransaction[] = [];
  let complete = from;
  let open: Open | undefined;
  const result = (bad?: BadEvent): Grouping => ({ transactions, complete, open: open?.start, bad });
  for (const ev of events) {
    const { type, offset, size } = ev.header;
    const end = offset + size;
    if (!open) {
      if (META_EVENTS.has(type)) {
        complete = end;
        continue;
      }
      const opened = openAt(ev, format.flavor, gtidsOnly);
      if (!opened) return result(orphan(ev));
      open = opened;
      if (GTID_EVENTS.has(type)) continue;
    } else if (META_EVENTS.has(type) || GTID_EVENTS.has(type)) {
      return result(unterminated(open, ev));
    }
    open.events += open.start === offset ? 0 : 1;
    const next = step(open, ev);
    if (next !== 'end') {
      open.phase = next;
      continue;
    }
    if (open.length !== undefined && open.length !== 0 && open.length !== end - open.start)
      return result(lengthMismatch(open, end));
    transactions.push({ start: open.start, end, gtid: open.gtid, serverId: open.serverId, events: open.events });
    complete = end;
    open = undefined;
  }
  return result();
}

/** A transaction that starts at `ev`: a GTID event, or (logs without GTIDs) BEGIN or a lone statement. */
function openAt(ev: ScannedEvent, flavor: FormatDescription['flavor'], gtidsOnly: boolean): Open | undefined {
  const { type, offset, serverId } = ev.header;
  const base = { start: offset, serverId, events: 1, length: undefined };
  if (ev.info.kind === 'gtid') {
    // A MariaDB GTID event stands for BEGIN, unless FL_STANDALONE says one statement (DDL) follows, alone.
    const phase = flavor === 'mariadb' && !ev.info.standalone ? 'body' : 'head';
    return { ...base, gtid: ev.info.gtid, phase, length: ev.info.transactionLength };
  }
  if (gtidsOnly) return undefined;
  if (QUERY_EVENTS.has(type) || CONTEXT_EVENTS.has(type)) return { ...base, gtid: undefined, phase: 'head' };
  return undefined;
}

function orphan(ev: ScannedEvent): BadEvent {
  return {
    offset: ev.header.offset,
    reason: 'orphan',
    detail: `event type ${ev.header.type} at ${ev.header.offset} belongs to no transaction (read from inside one?)`,
  };
}

function unterminated(open: Open, ev: ScannedEvent): BadEvent {
  return {
    offset: open.start,
    reason: 'unterminated',
    detail: `the transaction at ${open.start}${open.gtid ? ` (${open.gtid})` : ''} has no end before the event at ${ev.header.offset}`,
  };
}

function lengthMismatch(open: Open, end: number): BadEvent {
  return {
    offset: open.start,
    reason: 'transaction-length',
    detail: `the transaction at ${open.start} (${open.gtid ?? 'anonymous'}) ends at ${end}, its GTID event says ${open.start + (open.length ?? 0)}`,
  };
}

import { EventType, META_EVENTS } from './event-types.js';
import { readFormatDescription, type FormatDescription, type HeaderProblem } from './format-description.js';
import { groupTransactions, type BinlogTransaction } from './group-transactions.js';
import { scanEvents, type BadEvent } from './scan-events.js';

/**
 * What a run of a binlog file's bytes holds, every event checked (length, next-position chain, CRC32, type).
 * Example: `{ transactions: [{ start: 330, end: 702, gtid: '0-1-5', ... }], completeEnd: 702, trailing: 0,
 * bad: undefined, rotate: { file: 'mysql-bin.000002', position: 4 }, stopped: false, boundaries: [256, 330, 702] }`
 */
export interface BinlogRead {
  transactions: BinlogTransaction[];
  /** End of the last complete transaction or log event: everything before it is whole and checked. */
  completeEnd: number;
  /**
   * Bytes after `completeEnd` with no bad event among them: a transaction or event the bytes end inside.
   * At the end of a file that is a torn tail (a write the server never finished); 0 when `bad` is set.
   */
  trailing: number;
  /** The first bad event: nothing at or after it is used. */
  bad: BadEvent | undefined;
  /** The Rotate event the run ends with: where the log goes on. */
  rotate: { file: string; position: number } | undefined;
  /** The run ends with a Stop event: the server shut down cleanly after it. */
  stopped: boolean;
  /** Every offset where a replica can stand: the start, and the end of each transaction and log event. */
  boundaries: number[];
}

/**
 * Reads the events of a file from offset `from`, given `bytes` holding the file from offset `base` on, and its
 * format description. Example: `readEvents(bytes, { base: 0, from: format.end, format })`.
 */
export function readEvents(
  bytes: Uint8Array,
  o: { base: number; from: number; format: FormatDescription },
): BinlogRead {
  const run = scanEvents(bytes, o);
  const grouping = groupTransactions(run.events, o.format, o.from);
  const bad = grouping.bad ?? run.bad;
  // Log events never sit inside a transaction (the grouping stops at one that does).
  const logEvents = run.events.filter((e) => META_EVENTS.has(e.header.type) && e.header.offset < grouping.complete);
  const ends = [...logEvents.map((e) => e.header.offset + e.header.size), ...grouping.transactions.map((t) => t.end)];
  const last = [...run.events].reverse().find((e) => e.header.offset + e.header.size === grouping.complete);
  const rotate = last?.info.kind === 'rotate' ? { file: last.info.file, position: last.info.position } : undefined;
  const stopped = last?.header.type === EventType.STOP;
  const boundaries = [o.from, ...ends.sort((a, b) => a - b)];
  return {
    transactions: grouping.transactions,
    completeEnd: grouping.complete,
    trailing: bad ? 0 : o.base + bytes.length - grouping.complete,
    bad,
    rotate,
    stopped,
    boundaries,
  };
}

/**
 * A whole binlog file read at once: its format description, then every event after it.
 * Example: `readBinlogFile(readFileSync('mysql-bin.000003'))` → `{ format: { flavor: 'mariadb', ... },
 * transactions: [...], trailing: 183, ... }` (183 bytes of torn tail).
 */
export function readBinlogFile(
  bytes: Uint8Array,
): (BinlogRead & { format: FormatDescription; problem?: undefined }) | { format?: undefined; problem: HeaderProblem } {
  const header = readFormatDescription(bytes);
  if (!header.format) return { problem: header.problem };
  const read = readEvents(bytes, { base: 0, from: header.format.end, format: header.format });
  return { ...read, format: header.format };
}

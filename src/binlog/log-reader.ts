import type { Dialect } from '../dialect/dialect.js';
import type { SqlConnection } from '../topology/connection.js';
import { binlogTransactions, masterRotate, parseEventRow, relayStream, type LogEvent, type RelayStream, type Transaction } from './binlog-events.js';
import { compareCoordinates, fileIndex, type Coordinates } from './coordinates.js';

/** Rows per SHOW ... EVENTS page: large enough to keep round trips few, small enough to keep memory flat. */
export const PAGE_ROWS = 5000;
const QUERY_MS = 60_000;
/** ER_ERROR_WHEN_EXECUTING_COMMAND: "Could not find target log" (purged) or "Wrong offset". */
const NO_SUCH_LOG = 1220;

/** Every event of one log file, read page by page with LIMIT; undefined when the file does not exist (any more). */
export async function readLogFile(conn: SqlConnection, d: Dialect, kind: 'binlog' | 'relay', file: string): Promise<LogEvent[] | undefined> {
  const events: LogEvent[] = [];
  let from = 4;
  let skip = 0;
  for (;;) {
    let rows;
    try {
      rows = await conn.query(d.logEventsSql(kind, file, from, skip, PAGE_ROWS), QUERY_MS);
    } catch (err) {
      if ((err as { errno?: number }).errno === NO_SUCH_LOG && events.length === 0) return undefined;
      throw err;
    }
    for (const r of rows) events.push(parseEventRow(r));
    if (rows.length < PAGE_ROWS) return events;
    from = events.at(-1)!.pos;
    skip = 1;
  }
}

const siblingFile = (file: string, index: number) => {
  const m = /^(.*\.)(\d+)$/.exec(file)!;
  return `${m[1]}${String(index).padStart(m[2]!.length, '0')}`;
};


/**
 * The binlog and relay log of one server, read lazily from the newest file backwards and only as far back as
 * asked. Calls are serialized, so replicas mapped in parallel share one read of the best replica's logs.
 */
export class ServerLogs {
  private relayFiles: LogEvent[][] = [];
  private relayOldest?: number;
  private relayGone = false;
  private binlogFiles?: string[];
  private binlogTrx: Transaction[][] = [];
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly conn: SqlConnection, private readonly d: Dialect) {}

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.queue.then(fn, fn);
    this.queue = next.catch(() => undefined);
    return next;
  }

  /**
   * The relay log in old-master terms, read back until it covers `x` (a file whose first master Rotate is at
   * or before x) or until older relay files no longer exist. `currentFile` is Relay_Log_File.
   */
  relayCovering(currentFile: string, x: Coordinates): Promise<RelayStream> {
    return this.serial(async () => {
      if (this.relayOldest === undefined) {
        const events = await readLogFile(this.conn, this.d, 'relay', currentFile);
        this.relayFiles = events ? [events] : [];
        this.relayOldest = fileIndex(currentFile);
        this.relayGone = !events;
      }
      const covers = () => {
        for (const events of this.relayFiles) {
          const r = events.map(masterRotate).find((c) => c !== undefined);
          if (r) return compareCoordinates(r, x) <= 0;
        }
        return false;
      };
      while (!covers() && !this.relayGone && this.relayOldest > 1) {
        const events = await readLogFile(this.conn, this.d, 'relay', siblingFile(currentFile, this.relayOldest - 1));
        if (!events) {
          this.relayGone = true;
          break;
        }
        this.relayOldest--;
        this.relayFiles.unshift(events);
      }
      return relayStream(this.relayFiles.flat());
    });
  }

  /** At least `n` of the last whole transactions of this server's binlog, oldest first (fewer when there are no more). */
  binlogTail(n: number): Promise<{ transactions: Transaction[]; complete: boolean }> {
    return this.serial(async () => {
      this.binlogFiles ??= (await this.conn.query(this.d.binaryLogsSql(), QUERY_MS)).map((r) => String(r.Log_name));
      const have = () => this.binlogTrx.reduce((s, t) => s + t.length, 0);
      while (have() < n && this.binlogTrx.length < this.binlogFiles.length) {
        const file = this.binlogFiles[this.binlogFiles.length - 1 - this.binlogTrx.length]!;
        const events = (await readLogFile(this.conn, this.d, 'binlog', file)) ?? [];
        this.binlogTrx.unshift(binlogTransactions(events).transactions);
      }
      return { transactions: this.binlogTrx.flat(), complete: this.binlogTrx.length === this.binlogFiles.length };
    });
  }
}

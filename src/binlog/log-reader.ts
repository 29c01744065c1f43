import type { Dialect } from '../dialect/dialect.js';
import type { SqlConnection } from '../topology/connection.js';
import {
  PAGE_ROWS,
  masterRotate,
  parseEventRow,
  RelayFollower,
  TransactionGrouper,
  type LogEvent,
  type RelayStream,
  type Transaction,
} from './binlog-events.js';
import { compareCoordinates, fileIndex } from './coordinates.js';
import type { Coordinates } from '../domain/coordinates.js';
import type { BinlogSearch } from './position-mapping.js';

export { PAGE_ROWS } from './binlog-events.js';
const QUERY_MS = 60_000;
/** ER_ERROR_WHEN_EXECUTING_COMMAND: "Could not find target log" (purged) or "Wrong offset". */
const NO_SUCH_LOG = 1220;

/**
 * Hands every event of one log file to `onEvent`, page by page with LIMIT (each page starts at the last
 * event's position, so a page costs the server no rescan from the file's start), from position 4 or `from` (an
 * event's start, or the file's end: no events). `onEvent` returns true to stop early; a small first page suits a
 * caller that expects to stop early. False when the file does not exist (any more). Once a whole page came back,
 * the next one is asked for before this one is handed on: the server reads it while mmmf groups the events (a
 * 10,000-transaction mapping reads about 40 pages of each log).
 */
export async function scanLogFile(
  conn: SqlConnection,
  d: Dialect,
  kind: 'binlog' | 'relay',
  file: string,
  onEvent: (e: LogEvent) => boolean | void,
  o: { firstPageRows?: number; from?: number } = {},
): Promise<boolean> {
  const page = (from: number, skip: number, rows: number) =>
    conn.query(d.logEventsSql(kind, file, from, skip, rows), QUERY_MS);
  let pageRows = o.firstPageRows ?? PAGE_ROWS;
  let pending = page(o.from ?? 4, 0, pageRows);
  let any = false;
  for (;;) {
    let rows;
    try {
      rows = await pending;
    } catch (err) {
      if ((err as { errno?: number }).errno === NO_SUCH_LOG && !any) return false;
      throw err;
    }
    const last = rows.at(-1);
    const full = rows.length === pageRows && last !== undefined;
    const after = Number(last?.Pos ?? 0);
    // Only after a page of the full size: a small first page is a caller expecting to stop within it.
    const next = full && pageRows === PAGE_ROWS ? page(after, 1, PAGE_ROWS) : undefined;
    // A page asked for ahead and not wanted (the caller stopped, or threw) finishes on its own, its failure unseen.
    void next?.catch(() => undefined);
    for (const r of rows) {
      any = true;
      if (onEvent(parseEventRow(r))) return true;
    }
    if (!full) return true;
    pending = next ?? page(after, 1, PAGE_ROWS);
    pageRows = PAGE_ROWS;
  }
}

const siblingFile = (file: string, index: number) => {
  const m = /^(.*\.)(\d+)$/.exec(file)!;
  return `${m[1]}${String(index).padStart(m[2]!.length, '0')}`;
};

/**
 * A relay file started by a (re)connect names the old master's position among its first few events: a small
 * first page.
 */
const HEAD_ROWS = 20;

/** Keeps only the last `n` items pushed (n = Infinity keeps all). */
function lastOf<T>(n: number): { push(x: T): void; items(): T[] } {
  const xs: T[] = [];
  return {
    push(x) {
      xs.push(x);
      if (xs.length > 2 * n + 1000) xs.splice(0, xs.length - n); // amortized: no shift per item
    },
    items: () => xs.slice(Math.max(0, xs.length - n)),
  };
}

/**
 * The binlog and relay log of one server, read lazily and only as far back as asked, keeping in memory only
 * what a mapping can use (not every event: relay logs and binlogs reach gigabytes). Calls are serialized, so
 * replicas mapped in parallel share the reads of the best replica's logs.
 */
export class ServerLogs {
  /** Relay file index -> the first old-master position it names (null: it names none). */
  private readonly firstRotates = new Map<number, Coordinates | null>();
  private relay?: { keepAfter: Coordinates; stream: RelayStream };
  private binlogFiles?: string[];
  private binlog?: { n: number; transactions: Transaction[]; complete: boolean };
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly conn: SqlConnection,
    private readonly d: Dialect,
  ) {}

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.queue.then(fn, fn);
    this.queue = next.catch(() => undefined);
    return next;
  }

  /**
   * The first old-master position relay file `index` names (a master Rotate: at its head after a reconnect,
   * further in after a master rotation; null when it names none); undefined when the file is gone. Reads the
   * file only up to that event, keeping nothing.
   */
  private async firstMasterRotate(currentFile: string, index: number): Promise<Coordinates | null | undefined> {
    if (!this.firstRotates.has(index)) {
      let found: Coordinates | null = null;
      const exists = await scanLogFile(
        this.conn,
        this.d,
        'relay',
        siblingFile(currentFile, index),
        (e) => {
          found = masterRotate(e) ?? null;
          return found !== null;
        },
        { firstPageRows: HEAD_ROWS },
      );
      if (!exists) return undefined;
      this.firstRotates.set(index, found);
    }
    return this.firstRotates.get(index);
  }

  /**
   * The relay files to read for `x`, oldest first: back from the current one to the first that names an
   * old-master position at or before x, else back to the oldest that still exists (the mapping then says
   * how far back the relay log reaches), with the first old-master position they name.
   */
  private async filesFor(currentFile: string, x: Coordinates): Promise<{ first: number; from?: Coordinates }> {
    const current = fileIndex(currentFile);
    let first = current + 1;
    let from: Coordinates | undefined;
    for (let i = current; i >= 1; i--) {
      const r = await this.firstMasterRotate(currentFile, i);
      if (r === undefined) break;
      first = i;
      if (r) from = r;
      if (r && compareCoordinates(r, x) <= 0) break;
    }
    return { first, ...(from ? { from } : {}) };
  }

  /**
   * The relay log in old-master terms, from far enough back to cover `x` (or as far as it still exists), up
   * to its end; only what a mapping from x on can use is kept. `currentFile` is Relay_Log_File.
   */
  relayCovering(currentFile: string, x: Coordinates): Promise<RelayStream> {
    return this.serial(async () => {
      // A stream kept for an earlier position also serves any later one.
      if (this.relay && compareCoordinates(this.relay.keepAfter, x) <= 0) return this.relay.stream;
      const follower = new RelayFollower(x);
      const { first } = await this.filesFor(currentFile, x);
      for (let i = first; i <= fileIndex(currentFile); i++) {
        if (!(await scanLogFile(this.conn, this.d, 'relay', siblingFile(currentFile, i), (e) => follower.feed(e)))) {
          throw new Error(
            `relay log file ${siblingFile(currentFile, i)} disappeared while being read (relay_log_purge?)`,
          );
        }
      }
      this.relay = { keepAfter: x, stream: follower.result() };
      return this.relay.stream;
    });
  }

  /**
   * The earliest old-master position the relay log still names when read back for `x` (undefined: none).
   * Reads only up to each file's first master Rotate: a cheap check before anything changes.
   */
  relayReaches(currentFile: string, x: Coordinates): Promise<Coordinates | undefined> {
    return this.serial(async () => (await this.filesFor(currentFile, x)).from);
  }

  /**
   * At least `n` of the last whole transactions of this server's binlog, oldest first (fewer when there are no
   * more).
   */
  binlogTail(n: number): Promise<{ transactions: Transaction[]; complete: boolean }> {
    return this.serial(async () => {
      if (this.binlog && this.binlog.n >= n) return this.binlog;
      this.binlogFiles ??= (await this.conn.query(this.d.binaryLogsSql(), QUERY_MS)).map((r) => String(r.Log_name));
      const files = this.binlogFiles;
      let transactions: Transaction[] = [];
      let read = 0;
      // Newest file first; of each, only the last transactions still wanted are kept.
      while (transactions.length < n && read < files.length) {
        const kept = lastOf<Transaction>(n - transactions.length);
        const g = new TransactionGrouper((t) => kept.push(t));
        await scanLogFile(this.conn, this.d, 'binlog', files[files.length - 1 - read]!, (e) =>
          g.feed(e, { file: e.file, position: e.endPos }),
        );
        transactions = [...kept.items(), ...transactions];
        read++;
      }
      this.binlog = { n, transactions, complete: read === files.length };
      return this.binlog;
    });
  }

  /**
   * Looks for a lagging replica's own last transactions (`own`, oldest first) in this server's binlog, newest
   * file first: by the last one's GTID when it has one (stops at the first match: GTIDs are unique), else by
   * the run of their signatures, counting every place it occurs (reads every file: a run must be unique).
   */
  findInBinlog(own: Transaction[]): Promise<BinlogSearch> {
    return this.serial(async () => {
      const last = own.at(-1);
      this.binlogFiles ??= (await this.conn.query(this.d.binaryLogsSql(), QUERY_MS)).map((r) => String(r.Log_name));
      const byGtid = !!last?.gtid && last.gtid !== 'anonymous';
      const by = byGtid ? `GTID ${last.gtid}` : `a run of ${own.length} transaction signatures`;
      let newer: Transaction[] = [];
      let found: { anchor: Transaction; after: Transaction[] } | undefined;
      let matches = 0;
      for (const file of [...this.binlogFiles].reverse()) {
        const txs: Transaction[] = [];
        const g = new TransactionGrouper((t) => txs.push(t));
        await scanLogFile(this.conn, this.d, 'binlog', file, (e) => g.feed(e, { file: e.file, position: e.endPos }));
        for (let i = txs.length - 1; i >= 0; i--) {
          const hit = byGtid
            ? txs[i]!.gtid === last.gtid
            : own.every((t, k) => txs[i - (own.length - 1) + k]?.signature === t.signature);
          if (!hit) continue;
          matches++;
          found ??= { anchor: txs[i]!, after: [...txs.slice(i + 1), ...newer] };
          if (byGtid) break;
        }
        if (byGtid && found) break;
        newer = [...txs, ...newer];
      }
      return { ...(found ?? { after: [] }), by, matches };
    });
  }
}

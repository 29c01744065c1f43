import { binlogBaseName, type BinlogSource } from './binlog-source.js';
import { BudgetReader, type FileHead } from './budget-reader.js';
import { receivedGtids, type ReceivedGtids } from './gtid-coverage.js';
import type { BinlogTransaction } from './group-transactions.js';
import type { FormatDescription } from './format-description.js';
import { readEvents, type BinlogRead } from './read-binlog.js';
import type { SalvageLocation, SalvageRefusal, SalvageRequest, SalvagedTransaction } from './salvage-types.js';
import { scanEvents, type BadEvent } from './scan-events.js';

// Finds what only the dead master's binlog holds: from where the best replica stands to the end of the last
// complete transaction, across rotated files in the index's order, every event checked. Pure over a BinlogSource.

type RefusingReason = 'encrypted' | 'unknown-event' | 'unsupported';
/** Bad events that forbid any salvage: a reader that cannot read an event cannot vouch for anything around it. */
function refusing(bad: BadEvent | undefined): bad is BadEvent & { reason: RefusingReason } {
  return bad?.reason === 'encrypted' || bad?.reason === 'unknown-event' || bad?.reason === 'unsupported';
}
/** What the first event at a file position looks like when the position is inside a transaction or an event. */
const MISALIGNED: ReadonlySet<BadEvent['reason']> = new Set(['orphan', 'crc', 'chain', 'length', 'malformed']);
// Each piece is one SSH round trip (a command run on the host): 16 MB keeps a 24 MB tail to two of them.
const DEFAULT_CHUNK = 16 * 1024 * 1024;

interface Walk {
  files: string[];
  reader: BudgetReader;
  req: SalvageRequest;
  received: ReceivedGtids | undefined;
  out: SalvageLocation;
  /** The first transaction the replica lacks has been found: every later one must be lacking too. */
  started: boolean;
}

type Outcome = 'next' | 'done' | SalvageRefusal;

/**
 * Example: `await locateSalvage(source, { from: { file: 'mysql-bin.000012', position: 4711 }, maxBytes: 64 << 20 })`
 * → `{ refusal: undefined, transactions: [...], slices: [...], tornTail: {...}, ... }`. Never throws for what the
 * files hold; only the source's own errors (a failed read) propagate.
 */
export async function locateSalvage(source: BinlogSource, req: SalvageRequest): Promise<SalvageLocation> {
  const reader = new BudgetReader(source, req.maxBytes, req.chunkBytes ?? DEFAULT_CHUNK);
  const out: SalvageLocation = {
    flavor: undefined,
    refusal: undefined,
    transactions: [],
    slices: [],
    tornTail: undefined,
    earlierTornTails: [],
    stop: undefined,
    skipped: 0,
    endsAt: undefined,
    bytesRead: 0,
  };
  const files = await source.listFiles();
  const start = files.length
    ? await findStart(files, reader, req)
    : { reason: 'no-binlogs' as const, detail: 'the binlog index lists no file' };
  if ('reason' in start) return finish(out, reader, start);
  out.flavor = start.head.format?.flavor;
  const received = req.from.gtid && out.flavor ? receivedGtids(out.flavor, req.from.gtid) : undefined;
  const walk: Walk = { files, reader, req, received, out, started: false };
  for (const [i, file] of files.entries()) {
    if (i < start.index) continue;
    const outcome = await salvageFile(walk, { i, file }, i === start.index ? start.offset : 0);
    if (outcome === 'done') break;
    if (outcome !== 'next') return finish(out, reader, outcome);
  }
  return finish(out, reader, undefined);
}

function finish(out: SalvageLocation, reader: BudgetReader, refusal: SalvageRefusal | undefined): SalvageLocation {
  out.bytesRead = reader.bytesRead;
  const last = out.transactions.at(-1);
  out.endsAt = last && { file: binlogBaseName(last.file), position: last.end };
  if (!refusal) return out;
  return { ...out, refusal, transactions: [], slices: [], stop: undefined, endsAt: undefined };
}

type Start = { index: number; offset: number; head: FileHead } | SalvageRefusal;

/** The file (and offset) to start reading at: the replica's coordinates, or the newest file its GTIDs cover. */
async function findStart(files: string[], reader: BudgetReader, req: SalvageRequest): Promise<Start> {
  const { from } = req;
  if (from.file !== undefined) {
    const file = files.find((f) => binlogBaseName(f) === binlogBaseName(from.file));
    if (file === undefined)
      return {
        reason: 'start-file-missing',
        file: from.file,
        detail: `${from.file} is not in the binlog index (purged, or another server's log)`,
      };
    return { index: files.indexOf(file), offset: from.position, head: await reader.head(file) };
  }
  for (const [i, file] of [...files.entries()].reverse()) {
    const head = await reader.head(file);
    // The newest file may be cut inside its own header (the server died creating it): it holds nothing.
    if (!head.format && head.problem?.reason === 'torn' && i === files.length - 1) continue;
    if (!head.format) return unreadable(file, head);
    const problem = head.problem && 'offset' in head.problem ? head.problem : undefined;
    if (refusing(problem)) return { reason: problem.reason, file, detail: problem.detail };
    if (head.priorGtids === undefined) {
      const why = problem?.detail ?? 'it has no Gtid_list/Previous_gtids event';
      return { reason: 'unsupported', file, detail: `${file} does not say which GTIDs came before it: ${why}` };
    }
    if (receivedGtids(head.format.flavor, from.gtid).hasAll(head.priorGtids)) return { index: i, offset: 0, head };
  }
  return {
    reason: 'start-purged',
    file: files[0],
    detail: `the replica lacks transactions older than the oldest binlog file, ${files[0]} (purged)`,
  };
}

function unreadable(file: string, head: FileHead): SalvageRefusal {
  const p = head.problem;
  return { reason: 'not-a-binlog', file, detail: `${file}: ${p?.detail ?? 'unreadable'}` };
}

/** Reads one file from `offset` (0: just after its format description) and takes what the replica lacks. */
async function salvageFile(walk: Walk, at: { i: number; file: string }, offset: number): Promise<Outcome> {
  const { files, reader, out } = walk;
  const { i, file } = at;
  const isLast = i === files.length - 1;
  const head = await reader.head(file);
  const format = head.format;
  if (!format) {
    if (isLast && head.problem?.reason === 'torn') {
      out.tornTail = { file, offset: 0, bytes: head.header.length };
      return 'done';
    }
    return unreadable(file, head);
  }
  if (walk.req.requireChecksums !== false && format.checksum === 'off')
    return { reason: 'no-checksum', file, detail: `${file} has no event checksums (binlog_checksum=NONE)` };
  const from = Math.max(offset, format.end);
  const aligned = await readAligned(reader, { file, format }, from, offset > format.end);
  if ('reason' in aligned) return aligned;
  const { read, data, base, atEof, minStart } = aligned;
  if (refusing(read.bad)) return { reason: read.bad.reason, file, detail: read.bad.detail };
  const taken = take(
    walk,
    file,
    read.transactions.filter((t) => t.start >= minStart),
  );
  if ('reason' in taken) return taken;
  const first = taken.at(0);
  const last = taken.at(-1);
  if (first && last) {
    const body = data.subarray(first.start - base, last.end - base);
    out.slices.push({
      file,
      headerEnd: head.header.length,
      from: first.start,
      to: last.end,
      header: head.header,
      body,
    });
  }
  return afterFile(walk, at, read, { atEof, inUse: format.inUse });
}

interface Aligned {
  read: BinlogRead;
  data: Buffer;
  base: number;
  atEof: boolean;
  /** Transactions starting before this are the replica's already. */
  minStart: number;
}

/**
 * Reads a file from `from`. A replica's position is normally a transaction boundary; when it is inside a
 * transaction (the replica received part of it) the file is read from its start to find where that transaction
 * begins: it is salvaged whole. A position that is no event boundary at all is refused.
 */
async function readAligned(
  reader: BudgetReader,
  { file, format }: { file: string; format: FormatDescription },
  from: number,
  check: boolean,
): Promise<Aligned | SalvageRefusal> {
  const got = await reader.readToEnd(file, from);
  if (check && got.bytes.length === 0 && got.atEof && (await reader.read(file, from - 1, 1)).bytes.length === 0)
    return { reason: 'position-beyond-end', file, detail: `${file} ends before position ${from}` };
  const read = readEvents(got.bytes, { base: from, from, format });
  const plain = { read, data: got.bytes, base: from, atEof: got.atEof, minStart: from };
  if (!check || read.bad?.offset !== from || !MISALIGNED.has(read.bad.reason)) return plain;
  const whole = await reader.readToEnd(file, format.end);
  const all = readEvents(whole.bytes, { base: format.end, from: format.end, format });
  // The event at the position is itself damaged: a stop there, nothing salvaged, said so by afterFile.
  if (all.bad?.offset === from) return plain;
  const events = scanEvents(whole.bytes, { base: format.end, from: format.end, format }).events;
  if (!events.some((e) => e.header.offset === from))
    return {
      reason: 'position-not-boundary',
      file,
      detail: `position ${from} of ${file} is not where an event starts${all.bad ? ` (${all.bad.detail})` : ''}`,
    };
  const around = all.transactions.find((t) => t.start < from && from < t.end);
  const minStart = around ? around.start : from;
  return { read: all, data: whole.bytes, base: format.end, atEof: whole.atEof, minStart };
}

/** Keeps the transactions the replica lacks; with a GTID position, they must all come after those it holds. */
function take(walk: Walk, file: string, transactions: BinlogTransaction[]): SalvagedTransaction[] | SalvageRefusal {
  const taken: SalvagedTransaction[] = [];
  for (const t of transactions) {
    if (walk.received && t.gtid === undefined && walk.req.from.file === undefined)
      return { reason: 'anonymous', file, detail: `the transaction at ${t.start} of ${file} has no GTID` };
    if (walk.received && t.gtid !== undefined && walk.received.has(t.gtid)) {
      if (walk.started)
        return {
          reason: 'not-a-prefix',
          file,
          detail: `the replica holds ${t.gtid} (at ${t.start} of ${file}) but not transactions before it`,
        };
      walk.out.skipped++;
      continue;
    }
    walk.started = true;
    taken.push({ file, start: t.start, end: t.end, gtid: t.gtid, serverId: t.serverId });
  }
  walk.out.transactions.push(...taken);
  return taken;
}

/** What the end of a file means: the next file, the end of the log, or a stop (bad event, budget). */
function afterFile(
  walk: Walk,
  { i, file }: { i: number; file: string },
  read: BinlogRead,
  o: { atEof: boolean; inUse: boolean },
): Outcome {
  const { files, out } = walk;
  const filesAfter = files.slice(i + 1);
  if (read.bad) {
    out.stop = { file, offset: read.bad.offset, reason: read.bad.reason, detail: read.bad.detail, filesAfter };
    return 'done';
  }
  if (!o.atEof) {
    const detail = `read budget of ${walk.req.maxBytes} bytes spent in ${file} at ${read.completeEnd}`;
    if (!walk.started) return { reason: 'budget', file, detail };
    out.stop = { file, offset: read.completeEnd, reason: 'budget', detail, filesAfter };
    return 'done';
  }
  const tail = read.trailing > 0 ? { file, offset: read.completeEnd, bytes: read.trailing } : undefined;
  const nextFile = files.at(i + 1);
  if (nextFile === undefined) {
    out.tornTail = tail;
    return 'done';
  }
  if (tail && !o.inUse) {
    const detail = `${file} was closed properly, yet ends inside a transaction at ${read.completeEnd}`;
    out.stop = { file, offset: read.completeEnd, reason: 'truncated', detail, filesAfter };
    return 'done';
  }
  // A file the server never closed (it crashed, restarted into a new file, and never truncates the old one):
  // its unfinished transaction was rolled back then; MariaDB may even reuse that GTID in the next file.
  if (tail) out.earlierTornTails.push(tail);
  const next = binlogBaseName(nextFile);
  if (read.rotate && read.rotate.file !== next) {
    const detail = `${file} rotates to ${read.rotate.file}, the index lists ${next} next`;
    out.stop = { file, offset: read.completeEnd, reason: 'rotate-mismatch', detail, filesAfter };
    return 'done';
  }
  return 'next';
}

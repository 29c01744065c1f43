import type { BinlogSource } from './binlog-source.js';
import { META_EVENTS } from './event-types.js';
import { readFormatDescription, type FormatDescription, type HeaderProblem } from './format-description.js';
import { scanEvents, type BadEvent, type ScannedEvent } from './scan-events.js';

/** Bytes read from a file, and whether the file ended within them (else the budget or the request did). */
export interface ReadResult {
  bytes: Buffer;
  atEof: boolean;
}

/**
 * The start of a binlog file: its format description, and the log events right after it (the Gtid_list or
 * Previous_gtids event that says which GTIDs came before the file), or why it cannot be used.
 */
export interface FileHead {
  format: FormatDescription | undefined;
  problem: HeaderProblem | BadEvent | undefined;
  /** MariaDB Gtid_list entries or a MySQL Previous_gtids set; undefined when the file has neither. */
  priorGtids: string[] | string | undefined;
  /** The file's first bytes: magic and format description, replayed before any of its events. */
  header: Buffer;
}

/** The first bytes of a file as read for its head, kept so that they are not read twice. */
interface Prefix {
  bytes: Buffer;
  atEof: boolean;
}

/** Enough for a format description and a Gtid_list of a few thousand domains and servers. */
const HEAD_BYTES = 64 * 1024;

/** Reads through a BinlogSource without ever reading more than `maxBytes` in total. */
export class BudgetReader {
  bytesRead = 0;
  private readonly heads = new Map<string, FileHead>();
  private readonly prefixes = new Map<string, Prefix>();

  constructor(
    private readonly source: BinlogSource,
    private readonly maxBytes: number,
    private readonly chunkBytes: number,
  ) {}

  get left(): number {
    return Math.max(0, this.maxBytes - this.bytesRead);
  }

  /** Up to `length` bytes from `offset` (fewer at the end of the file or of the budget). */
  async read(file: string, offset: number, length: number): Promise<ReadResult> {
    const parts: Buffer[] = [];
    let at = offset;
    let wanted = Math.min(length, this.left);
    while (wanted > 0) {
      const ask = Math.min(this.chunkBytes, wanted);
      const got = await this.source.read(file, at, ask);
      const part = Buffer.from(got.buffer, got.byteOffset, Math.min(got.byteLength, ask));
      this.bytesRead += part.length;
      parts.push(part);
      at += part.length;
      wanted -= part.length;
      if (part.length < ask) return { bytes: Buffer.concat(parts), atEof: true };
    }
    return { bytes: Buffer.concat(parts), atEof: false };
  }

  /** From `offset` to the end of the file, or as far as the budget goes (the head's bytes are not read again). */
  async readToEnd(file: string, offset: number): Promise<ReadResult> {
    const prefix = this.prefixes.get(file);
    if (!prefix || offset > prefix.bytes.length) return this.read(file, offset, Number.MAX_SAFE_INTEGER);
    const known = prefix.bytes.subarray(offset);
    if (prefix.atEof) return { bytes: known, atEof: true };
    const rest = await this.read(file, prefix.bytes.length, Number.MAX_SAFE_INTEGER);
    return { bytes: Buffer.concat([known, rest.bytes]), atEof: rest.atEof };
  }

  async head(file: string): Promise<FileHead> {
    const known = this.heads.get(file);
    if (known) return known;
    const head = await this.readHead(file);
    this.heads.set(file, head);
    return head;
  }

  private async readHead(file: string): Promise<FileHead> {
    let { bytes, atEof } = await this.read(file, 0, HEAD_BYTES);
    const fd = readFormatDescription(bytes);
    if (!fd.format) return { format: undefined, problem: fd.problem, priorGtids: undefined, header: bytes };
    const format = fd.format;
    let run = scanEvents(bytes, { base: 0, from: format.end, format });
    // A Gtid_list longer than the first read: read up to its end (its size is in its header).
    if (!atEof && run.tail >= 13 && !run.events.some((e) => !META_EVENTS.has(e.header.type))) {
      const size = bytes.readUInt32LE(run.end + 9);
      const more = await this.read(file, bytes.length, Math.max(0, run.end + size - bytes.length));
      bytes = Buffer.concat([bytes, more.bytes]);
      atEof = more.atEof;
      run = scanEvents(bytes, { base: 0, from: format.end, format });
    }
    this.prefixes.set(file, { bytes, atEof });
    const header = Buffer.from(bytes.subarray(0, format.end));
    return { format, problem: run.bad, priorGtids: priorGtids(run.events), header };
  }
}

/** The Gtid_list or Previous_gtids event among the log events that follow the format description. */
function priorGtids(events: ScannedEvent[]): string[] | string | undefined {
  for (const { header, info } of events) {
    if (!META_EVENTS.has(header.type)) return undefined;
    if (info.kind === 'gtid-list') return info.gtids;
    if (info.kind === 'previous-gtids') return info.gtidSet;
  }
  return undefined;
}

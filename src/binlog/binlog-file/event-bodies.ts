import { inflateSync } from 'node:zlib';
import { HEADER_LENGTH, readPackedInt, readUInt64, type EventHeader } from './event-header.js';
import { EventType } from './event-types.js';
import { postHeaderLength, type FormatDescription } from './format-description.js';

// Decoders for the few event bodies that decide where transactions start and end, and where a file goes on.
// Each returns undefined when the body is too short or inconsistent: the caller reports the event as malformed.

/** MariaDB GTID event flags (log_event.h, Gtid_log_event::FL_*). */
export const MARIADB_GTID_FLAGS = {
  STANDALONE: 1,
  GROUP_COMMIT_ID: 2,
  TRANSACTIONAL: 4,
  ALLOW_PARALLEL: 8,
  WAITED: 16,
  DDL: 32,
  PREPARED_XA: 64,
  COMPLETED_XA: 128,
} as const;

/**
 * What the grouping needs from one event. Examples: `{ kind: 'gtid', gtid: '0-1-42', standalone: false }`,
 * `{ kind: 'query', statement: 'COMMIT' }`, `{ kind: 'rotate', file: 'mysql-bin.000008', position: 4 }`.
 */
export type EventInfo =
  | { kind: 'gtid'; gtid: string | undefined; standalone: boolean; flags: number; transactionLength?: number }
  | { kind: 'query'; statement: string }
  | { kind: 'rotate'; file: string; position: number }
  | { kind: 'gtid-list'; gtids: string[] }
  | { kind: 'previous-gtids'; gtidSet: string }
  | { kind: 'unsupported'; detail: string }
  | { kind: 'other' };

/** The bytes after the common header and before the checksum, as [start, end) indexes into `buf`. */
interface Body {
  buf: Buffer;
  start: number;
  end: number;
}

/** Decodes what matters of the event at `at` in `buf`; `crcLength` is 4 when events carry a CRC32. */
export function decodeEvent(
  buf: Buffer,
  at: number,
  header: EventHeader,
  format: FormatDescription,
): EventInfo | undefined {
  const body: Body = {
    buf,
    start: at + HEADER_LENGTH,
    end: at + header.size - (format.checksum === 'crc32' ? 4 : 0),
  };
  if (body.end < body.start) return undefined;
  const post = postHeaderLength(format, header.type);
  switch (header.type) {
    case EventType.MARIADB_GTID:
      return mariadbGtid(body, header.serverId);
    case EventType.GTID:
    case EventType.ANONYMOUS_GTID:
      return mysqlGtid(body, post, header.type === EventType.ANONYMOUS_GTID);
    case EventType.QUERY:
    case EventType.EXECUTE_LOAD_QUERY:
      return query(body, post, false);
    case EventType.MARIADB_QUERY_COMPRESSED:
      return query(body, post, true);
    case EventType.ROTATE:
      return rotate(body, post);
    case EventType.MARIADB_GTID_LIST:
      return gtidList(body);
    case EventType.PREVIOUS_GTIDS:
      return previousGtids(body);
    default:
      return { kind: 'other' };
  }
}

function mariadbGtid({ buf, start, end }: Body, serverId: number): EventInfo | undefined {
  if (end - start < 13) return undefined;
  const seq = readUInt64(buf, start);
  if (seq === undefined) return undefined;
  const domain = buf.readUInt32LE(start + 8);
  const flags = buf.readUInt8(start + 12);
  return {
    kind: 'gtid',
    gtid: `${domain}-${serverId}-${seq}`,
    standalone: (flags & MARIADB_GTID_FLAGS.STANDALONE) !== 0,
    flags,
  };
}

/** 16 bytes as a lower-case UUID, 8-4-4-4-12. */
function uuid(buf: Buffer, at: number): string {
  const h = buf.subarray(at, at + 16).toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/**
 * MySQL GTID and anonymous GTID events: flags, source UUID, gno, then (5.7+) the logical clock, and (8.0+)
 * commit timestamps and the whole transaction's length in bytes, GTID event included.
 */
function mysqlGtid({ buf, start, end }: Body, post: number, anonymous: boolean): EventInfo | undefined {
  if (end - start < 25 || post < 25) return undefined;
  const gno = readUInt64(buf, start + 17);
  if (gno === undefined) return undefined;
  const gtid = anonymous ? undefined : `${uuid(buf, start + 1)}:${gno}`;
  const info: EventInfo = { kind: 'gtid', gtid, standalone: false, flags: buf.readUInt8(start) };
  let at = start + post;
  if (at + 7 > end) return info;
  // immediate_commit_timestamp: 7 bytes; its top bit says original_commit_timestamp (7 more bytes) follows.
  const hasOriginal = (buf.readUInt8(at + 6) & 0x80) !== 0;
  at += hasOriginal ? 14 : 7;
  const length = readPackedInt(buf, at, end);
  return length ? { ...info, transactionLength: length.value } : info;
}

/** Query events: thread id, exec time, schema length, error code, status variables; the statement at the end. */
function query({ buf, start, end }: Body, post: number, compressed: boolean): EventInfo | undefined {
  if (post < 11 || end - start < post) return undefined;
  const schemaLength = buf.readUInt8(start + 8);
  const statusLength = post >= 13 ? buf.readUInt16LE(start + 11) : 0;
  const textStart = start + post + statusLength + schemaLength + 1;
  if (textStart > end) return undefined;
  const raw = buf.subarray(textStart, end);
  const text = compressed ? inflateQuery(raw) : raw;
  if (!text) return undefined;
  return { kind: 'query', statement: statementShape(text) };
}

/** A long statement's first 200 and last 40 bytes: enough to see BEGIN, COMMIT or '... START TRANSACTION'. */
function statementShape(text: Buffer): string {
  const shape =
    text.length <= 240 ? text : Buffer.concat([text.subarray(0, 200), Buffer.from(' ... '), text.subarray(-40)]);
  return shape.toString('latin1').trim();
}

/**
 * MariaDB's compressed statements (log_bin_compress): one byte 0x8N, then N bytes of the uncompressed length
 * (big-endian), then a zlib stream.
 */
function inflateQuery(raw: Buffer): Buffer | undefined {
  const lead = raw[0];
  if (lead === undefined || (lead & 0xf0) !== 0x80) return undefined;
  const lengthBytes = lead & 0x07;
  if (lengthBytes < 1 || lengthBytes > 4 || raw.length < 1 + lengthBytes) return undefined;
  const expected = raw.readUIntBE(1, lengthBytes);
  try {
    const out = inflateSync(raw.subarray(1 + lengthBytes), { maxOutputLength: Math.max(1, expected) });
    return out.length === expected ? out : undefined;
  } catch {
    return undefined;
  }
}

function rotate({ buf, start, end }: Body, post: number): EventInfo | undefined {
  const fixed = post || 8;
  if (end - start < fixed) return undefined;
  const position = readUInt64(buf, start);
  if (position === undefined) return undefined;
  return { kind: 'rotate', position, file: buf.subarray(start + fixed, end).toString('utf8') };
}

/** MariaDB Gtid_list: the binlog state when the file was opened (last GTID per domain and server). */
function gtidList({ buf, start, end }: Body): EventInfo | undefined {
  if (end - start < 4) return undefined;
  const count = buf.readUInt32LE(start) & 0x0fffffff;
  if (end - start < 4 + count * 16) return undefined;
  const gtids: string[] = [];
  for (let i = 0, at = start + 4; i < count; i++, at += 16) {
    const seq = readUInt64(buf, at + 8);
    if (seq === undefined) return undefined;
    gtids.push(`${buf.readUInt32LE(at)}-${buf.readUInt32LE(at + 4)}-${seq}`);
  }
  return { kind: 'gtid-list', gtids };
}

/** MySQL Previous_gtids: the GTID set of every earlier file, as 'uuid:1-5:7-9,...'. Tagged sets are refused. */
function previousGtids({ buf, start, end }: Body): EventInfo | undefined {
  if (end - start < 8) return undefined;
  // MySQL 8.3+ marks the tagged format in the top byte of the count.
  if (buf[start + 7] !== 0) return { kind: 'unsupported', detail: 'a tagged GTID set (MySQL 8.3+) is not read' };
  const sids = readUInt64(buf, start);
  if (sids === undefined) return undefined;
  const parts: string[] = [];
  let at = start + 8;
  for (let i = 0; i < sids; i++) {
    if (at + 24 > end) return undefined;
    const source = uuid(buf, at);
    const n = readUInt64(buf, at + 16) ?? Infinity;
    at += 24;
    if (at + n * 16 > end) return undefined;
    const intervals: string[] = [];
    for (let k = 0; k < n; k++, at += 16) {
      const from = readUInt64(buf, at);
      const to = readUInt64(buf, at + 8); // exclusive
      if (from === undefined || to === undefined || to <= from) return undefined;
      intervals.push(to - 1 === from ? `${from}` : `${from}-${to - 1}`);
    }
    if (intervals.length) parts.push(`${source}:${intervals.join(':')}`);
  }
  return { kind: 'previous-gtids', gtidSet: parts.join(',') };
}

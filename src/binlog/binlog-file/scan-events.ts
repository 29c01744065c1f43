import { decodeEvent, type EventInfo } from './event-bodies.js';
import { asBuffer, HEADER_LENGTH, readHeader, type EventHeader } from './event-header.js';
import { EventType, eventTypeName, KNOWN_EVENTS } from './event-types.js';
import { eventCrcMatches, type FormatDescription } from './format-description.js';

/**
 * Why reading stopped at an event: nothing at or after `offset` is used.
 * - crc: the event's CRC32 does not match its bytes;
 * - length: its size field is impossible; chain: its next-position field is not its own end;
 * - unknown-event / encrypted / incident / unsupported: an event this reader must not step over;
 * - malformed: a body that does not decode; orphan: a transaction's event outside any transaction;
 * - unterminated: a transaction with no end before the next one or a log event;
 * - transaction-length: a MySQL GTID event's transaction length disagrees with where the transaction ends.
 * Example: `{ offset: 1893, reason: 'crc', detail: 'MARIADB_GTID event at 1893 fails its CRC32' }`
 */
export interface BadEvent {
  offset: number;
  reason:
    | 'crc'
    | 'length'
    | 'chain'
    | 'unknown-event'
    | 'encrypted'
    | 'incident'
    | 'unsupported'
    | 'malformed'
    | 'orphan'
    | 'unterminated'
    | 'transaction-length';
  detail: string;
}

/** One whole, checked event. Example: `{ header: { offset: 256, type: 162, ... }, info: { kind: 'gtid', ... } }` */
export interface ScannedEvent {
  header: EventHeader;
  info: EventInfo;
}

/**
 * The events found in a run of bytes. Example: `{ events: [...], end: 2021, tail: 0, bad: undefined }`. `end` is where the last whole event ends. Reading stops at the first
 * bad event (`bad`), or at the end of the bytes: `tail` is how many bytes there hold no whole event; at the end
 * of the file that is a torn write, before it the caller has to read more.
 */
export interface EventRun {
  events: ScannedEvent[];
  end: number;
  tail: number;
  bad: BadEvent | undefined;
}

/**
 * Reads events from file offset `from`, given `bytes` that hold the file from offset `base` on.
 * Example: `scanEvents(fileBytes, { base: 0, from: format.end, format })`.
 */
export function scanEvents(bytes: Uint8Array, o: { base: number; from: number; format: FormatDescription }): EventRun {
  const buf = asBuffer(bytes);
  const events: ScannedEvent[] = [];
  let at = o.from - o.base;
  for (;;) {
    const left = buf.length - at;
    if (left === 0) return { events, end: o.base + at, tail: 0, bad: undefined };
    const checked = checkEvent(buf, at, o.base, o.format);
    if ('bad' in checked) return { events, end: o.base + at, tail: 0, bad: checked.bad };
    if (!checked.event) return { events, end: o.base + at, tail: left, bad: undefined };
    events.push(checked.event);
    at += checked.event.header.size;
  }
}

/** True when every byte left is zero: a file extended by the file system whose data never reached the disk. */
function zeroFilled(buf: Buffer, at: number): boolean {
  for (let i = at; i < buf.length; i++) if (buf[i] !== 0) return false;
  return true;
}

/** The event at `at`, or `{ event: undefined }` when the bytes end before it does (a torn or unread tail). */
function checkEvent(
  buf: Buffer,
  at: number,
  base: number,
  format: FormatDescription,
): { event: ScannedEvent | undefined } | { bad: BadEvent } {
  const left = buf.length - at;
  if (left < HEADER_LENGTH || zeroFilled(buf, at)) return { event: undefined };
  const header = readHeader(buf, at, base);
  const crcLength = format.checksum === 'crc32' ? 4 : 0;
  const where = `${eventTypeName(header.type)} event at ${header.offset}`;
  if (header.size < HEADER_LENGTH + crcLength)
    return bad(header, 'length', `${where} claims an impossible size of ${header.size} bytes`);
  if (header.nextPosition !== (header.offset + header.size) % 2 ** 32)
    return bad(
      header,
      'chain',
      `${where} says the next event starts at ${header.nextPosition}, not ${header.offset + header.size}`,
    );
  if (header.size > left) return { event: undefined };
  if (crcLength && !eventCrcMatches(buf, at, header.size, header.type))
    return bad(header, 'crc', `${where} fails its CRC32`);
  const refused = refusedType(header, format, where);
  if (refused) return { bad: refused };
  const info = decodeEvent(buf, at, header, format);
  if (!info) return bad(header, 'malformed', `${where} does not decode`);
  if (info.kind === 'unsupported') return bad(header, 'unsupported', `${where}: ${info.detail}`);
  return { event: { header, info } };
}

function bad(header: EventHeader, reason: BadEvent['reason'], detail: string): { bad: BadEvent } {
  return { bad: { offset: header.offset, reason, detail } };
}

function refusedType(header: EventHeader, format: FormatDescription, where: string): BadEvent | undefined {
  const offset = header.offset;
  switch (header.type) {
    case EventType.MARIADB_START_ENCRYPTION:
      return { offset, reason: 'encrypted', detail: `${where}: the binlog is encrypted (encrypt_binlog)` };
    case EventType.INCIDENT:
      return { offset, reason: 'incident', detail: `${where}: the server recorded that events are missing here` };
    case EventType.GTID_TAGGED:
      return { offset, reason: 'unsupported', detail: `${where}: tagged GTIDs (MySQL 8.3+) are not read` };
    case EventType.FORMAT_DESCRIPTION:
      return { offset, reason: 'unsupported', detail: `${where}: a second format description (a relay log?)` };
    default:
      if (KNOWN_EVENTS[format.flavor].has(header.type)) return undefined;
      return {
        offset,
        reason: 'unknown-event',
        detail: `${where}: not an event this reader knows in a ${format.flavor} binlog`,
      };
  }
}

import { crc32 } from 'node:zlib';
import type { Flavor } from '../../domain/server-state.js';
import {
  asBuffer,
  FIRST_EVENT_OFFSET,
  FLAG_IN_USE,
  FLAGS_OFFSET,
  hasMagic,
  HEADER_LENGTH,
  readHeader,
} from './event-header.js';
import { EventType } from './event-types.js';

/**
 * What the Format Description Event (the first event of every binlog file) says about the events after it.
 * Example: `{ binlogVersion: 4, serverVersion: '10.11.6-MariaDB-log', flavor: 'mariadb', checksum: 'crc32',
 * inUse: true, headerLength: 19, postHeaderLengths: [56, 13, 0, 8, ...], createdAt: 1733112000, end: 256 }`
 */
export interface FormatDescription {
  binlogVersion: number;
  serverVersion: string;
  flavor: Flavor;
  createdAt: number;
  headerLength: number;
  /** Post-header length per event type: index `type - 1`. */
  postHeaderLengths: number[];
  /** binlog_checksum when the file was opened: every event after this one ends with a CRC32 when 'crc32'. */
  checksum: 'crc32' | 'off';
  /** The in-use flag: the server still had the file open (it is the current file, or the server died). */
  inUse: boolean;
  /** File offset right after the event: the first byte the replay tool needs after it. */
  end: number;
}

/**
 * Why the start of a file is not a binlog this reader can use.
 * Example: `{ reason: 'torn', detail: 'the file ends inside its format description event' }`
 */
export interface HeaderProblem {
  reason: 'torn' | 'not-a-binlog' | 'crc' | 'unsupported';
  detail: string;
}

const SERVER_VERSION_LENGTH = 50;
/** binlog_version, server_version, create_timestamp, header_length. */
const FIXED_PART = 2 + SERVER_VERSION_LENGTH + 4 + 1;

/** '5.7.40-log' → 50740. */
function versionNumber(version: string): number {
  const [major = 0, minor = 0, patch = 0] = (/^(\d+)\.(\d+)\.(\d+)/.exec(version) ?? []).slice(1).map(Number);
  return major * 10000 + minor * 100 + patch;
}

/** MySQL 5.6.1 and MariaDB 5.3 started writing the checksum algorithm (and a CRC) into this event. */
function checksumAware(version: string, flavor: Flavor): boolean {
  return versionNumber(version) >= (flavor === 'mariadb' ? 50300 : 50601);
}

/**
 * Whether every transaction in the file starts with a GTID event: MariaDB 10.0+, and MySQL 5.7.6+ (an anonymous
 * GTID event when gtid_mode is OFF). A transaction that starts otherwise was read from its middle.
 */
export function writesGtidEvents(format: FormatDescription): boolean {
  return versionNumber(format.serverVersion) >= (format.flavor === 'mariadb' ? 100000 : 50706);
}

/**
 * The CRC32 of an event, as the server computed it. The Format Description Event's is computed with the in-use
 * flag cleared: the server clears that flag in place when it closes the file, without rewriting the checksum.
 */
export function eventCrcMatches(buf: Buffer, at: number, size: number, type: number): boolean {
  const stored = buf.readUInt32LE(at + size - 4);
  if (type !== EventType.FORMAT_DESCRIPTION || (buf.readUInt8(at + FLAGS_OFFSET) & FLAG_IN_USE) === 0)
    return crc32(buf.subarray(at, at + size - 4)) === stored;
  const copy = Buffer.from(buf.subarray(at, at + size - 4));
  copy.writeUInt8(copy.readUInt8(FLAGS_OFFSET) & ~FLAG_IN_USE & 0xff, FLAGS_OFFSET);
  return crc32(copy) === stored;
}

/**
 * Reads the magic number and the Format Description Event from the first bytes of a binlog file.
 * Example: `readFormatDescription(firstKilobytes)` → `{ format: { flavor: 'mysql', checksum: 'crc32', ... } }`
 */
export function readFormatDescription(
  bytes: Uint8Array,
): { format: FormatDescription; problem?: undefined } | { format?: undefined; problem: HeaderProblem } {
  const buf = asBuffer(bytes);
  if (buf.length < FIRST_EVENT_OFFSET + HEADER_LENGTH) {
    const prefix = buf.subarray(0, Math.min(4, buf.length));
    if ([...prefix].every((b, i) => b === [0xfe, 0x62, 0x69, 0x6e][i]))
      return { problem: { reason: 'torn', detail: `only ${buf.length} bytes: the file ends inside its header` } };
    return { problem: { reason: 'not-a-binlog', detail: 'the file does not start with the binlog magic number' } };
  }
  if (!hasMagic(buf))
    return { problem: { reason: 'not-a-binlog', detail: 'the file does not start with the binlog magic number' } };
  const h = readHeader(buf, FIRST_EVENT_OFFSET, 0);
  if (h.type !== EventType.FORMAT_DESCRIPTION)
    return {
      problem: { reason: 'unsupported', detail: `the first event is type ${h.type}, not a format description` },
    };
  if (h.size < HEADER_LENGTH + FIXED_PART || h.nextPosition !== FIRST_EVENT_OFFSET + h.size)
    return { problem: { reason: 'not-a-binlog', detail: `format description event of impossible size ${h.size}` } };
  if (buf.length < FIRST_EVENT_OFFSET + h.size)
    return { problem: { reason: 'torn', detail: 'the file ends inside its format description event' } };
  return decodeBody(buf, h.size, (h.flags & FLAG_IN_USE) !== 0);
}

function decodeBody(
  buf: Buffer,
  size: number,
  inUse: boolean,
): { format: FormatDescription; problem?: undefined } | { format?: undefined; problem: HeaderProblem } {
  const at = FIRST_EVENT_OFFSET + HEADER_LENGTH;
  const serverVersion = buf
    .subarray(at + 2, at + 2 + SERVER_VERSION_LENGTH)
    .toString('latin1')
    .replace(/\0[\s\S]*$/, '');
  const flavor: Flavor = /mariadb/i.test(serverVersion) ? 'mariadb' : 'mysql';
  const binlogVersion = buf.readUInt16LE(at);
  const headerLength = buf.readUInt8(at + FIXED_PART - 1);
  if (binlogVersion !== 4 || headerLength !== HEADER_LENGTH)
    return { problem: { reason: 'unsupported', detail: `binlog version ${binlogVersion}, header ${headerLength}` } };
  if (versionNumber(serverVersion) < 50000)
    return { problem: { reason: 'unsupported', detail: `server version '${serverVersion}' (binlog v4 needs 5.0+)` } };
  // A checksum-aware server's format description always carries a valid CRC, even with binlog_checksum=NONE;
  // an older server's (no CRC) would match by chance once in 2^32.
  const crcMatches = eventCrcMatches(buf, FIRST_EVENT_OFFSET, size, EventType.FORMAT_DESCRIPTION);
  if (checksumAware(serverVersion, flavor) && !crcMatches)
    return { problem: { reason: 'crc', detail: 'the format description event fails its CRC32' } };
  const aware = crcMatches;
  const end = FIRST_EVENT_OFFSET + size;
  const algorithm = aware ? buf.readUInt8(end - 5) : 0;
  if (algorithm > 1) return { problem: { reason: 'unsupported', detail: `unknown checksum algorithm ${algorithm}` } };
  return {
    format: {
      binlogVersion,
      serverVersion,
      flavor,
      createdAt: buf.readUInt32LE(at + 2 + SERVER_VERSION_LENGTH),
      headerLength,
      postHeaderLengths: [...buf.subarray(at + FIXED_PART, end - (aware ? 5 : 0))],
      checksum: algorithm === 1 ? 'crc32' : 'off',
      inUse,
      end,
    },
  };
}

/** Post-header length of an event type, from the format description (0 for a type it does not list). */
export function postHeaderLength(format: FormatDescription, type: number): number {
  return format.postHeaderLengths[type - 1] ?? 0;
}

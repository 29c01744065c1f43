// The v4 event header every binlog event starts with (MySQL 5.0+, every MariaDB), and the byte helpers the
// event readers share. All integers are little-endian.

/** Every binlog file starts with these 4 bytes: 0xfe 'b' 'i' 'n'. */
export const BINLOG_MAGIC: readonly number[] = [0xfe, 0x62, 0x69, 0x6e];
/** Where the first event (the Format Description Event) starts. */
export const FIRST_EVENT_OFFSET = 4;
export const HEADER_LENGTH = 19;
/** Offset of the 2-byte flags field inside the header. */
export const FLAGS_OFFSET = 17;
/** LOG_EVENT_BINLOG_IN_USE_F: set in the Format Description Event while the server has the file open. */
export const FLAG_IN_USE = 0x1;

/**
 * One event header, with where the event sits in its file.
 * Example: `{ offset: 256, timestamp: 1733112000, type: 162, serverId: 1, size: 42, nextPosition: 298, flags: 8 }`
 */
export interface EventHeader {
  /** File offset of the event's first byte. */
  offset: number;
  timestamp: number;
  type: number;
  serverId: number;
  /** Whole event, header and checksum included. */
  size: number;
  /** log_pos: the file offset right after this event (modulo 2^32: the field is 4 bytes). */
  nextPosition: number;
  flags: number;
}

/** A Buffer view of the same memory (no copy), for its little-endian readers. */
export function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** The header at `at` in `buf`, whose byte 0 is file offset `base`. The caller checked 19 bytes are there. */
export function readHeader(buf: Buffer, at: number, base: number): EventHeader {
  return {
    offset: base + at,
    timestamp: buf.readUInt32LE(at),
    type: buf.readUInt8(at + 4),
    serverId: buf.readUInt32LE(at + 5),
    size: buf.readUInt32LE(at + 9),
    nextPosition: buf.readUInt32LE(at + 13),
    flags: buf.readUInt16LE(at + FLAGS_OFFSET),
  };
}

export function hasMagic(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && BINLOG_MAGIC.every((b, i) => bytes[i] === b);
}

/** An 8-byte unsigned integer as a number, or undefined beyond 2^53 (no sequence number gets there). */
export function readUInt64(buf: Buffer, at: number): number | undefined {
  const v = buf.readBigUInt64LE(at);
  return v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : undefined;
}

/**
 * MySQL's packed (length-encoded) integer: one byte below 251, else a marker byte and 2, 3 or 8 bytes.
 * Returns the value and the bytes it took, or undefined when it runs past `end`.
 */
export function readPackedInt(buf: Buffer, at: number, end: number): { value: number; length: number } | undefined {
  if (at >= end) return undefined;
  const first = buf.readUInt8(at);
  const width = first < 251 ? 0 : first === 252 ? 2 : first === 253 ? 3 : first === 254 ? 8 : -1;
  if (width < 0 || at + 1 + width > end) return undefined;
  if (width === 0) return { value: first, length: 1 };
  if (width === 8) {
    const v = readUInt64(buf, at + 1);
    return v === undefined ? undefined : { value: v, length: 9 };
  }
  return { value: buf.readUIntLE(at + 1, width), length: 1 + width };
}

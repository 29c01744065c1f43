// Exhaustive properties over real binlog files: a file cut at ANY offset (a master that died mid-write) yields
// exactly the complete transactions before the cut and never throws; ANY flipped byte in a file with CRC32
// checksums is caught at the event that holds it, and nothing from that event on is used.
import { describe, expect, it } from 'vitest';
import { readBinlogFile, type FormatDescription } from '../../src/binlog/binlog-file/index.js';
import { fixture } from './binlog-fixtures.js';

const FILES: [string, Buffer][] = [
  ['mariadb row, killed (in use)', fixture('mariadb', 'row', 'mysql-bin.000002')],
  ['mariadb statement, shut down', fixture('mariadb', 'statement', 'mysql-bin.000001')],
  ['mariadb compressed events', fixture('mariadb', 'compressed', 'mysql-bin.000001')],
  ['mysql 8.0.31 compressed payloads', fixture('mysql', 'mysql-bin.000057')],
  ['mysql 5.7.40 GTIDs', fixture('mysql', 'mysql-bin.000080')],
  ['mysql 8.0.28 in use', fixture('mysql', 'mysql-enum-string-set.000001')],
];

function wholeRead(bytes: Buffer) {
  const read = readBinlogFile(bytes);
  if (!read.format || read.bad) throw new Error('fixture does not read cleanly');
  return read;
}

describe('a file cut at every offset', () => {
  it.each(FILES)('%s: only the complete transactions before the cut, the rest a torn tail', (_name, bytes) => {
    const whole = wholeRead(bytes);
    let checked = 0;
    for (let cut = 0; cut <= bytes.length; cut++) {
      const read = readBinlogFile(bytes.subarray(0, cut));
      if (!read.format) {
        expect(cut).toBeLessThan(whole.format.end);
        expect(read.problem.reason).toBe('torn');
        continue;
      }
      const expected = whole.transactions.filter((t) => t.end <= cut);
      expect(read.transactions).toEqual(expected);
      expect(read.bad).toBeUndefined();
      expect(read.completeEnd).toBeGreaterThanOrEqual(expected.at(-1)?.end ?? whole.format.end);
      expect(read.completeEnd + read.trailing).toBe(cut);
      checked++;
    }
    expect(checked).toBe(bytes.length - whole.format.end + 1);
  });
});

describe('a flipped byte', () => {
  it.each(FILES)('%s: caught at the event that holds it, whatever the byte and the flip', (_name, bytes) => {
    const whole = wholeRead(bytes);
    const eventStart = eventStarts(bytes, whole.format.end);
    for (let at = 0; at < bytes.length; at++)
      for (const mask of [0x01, 0x80, 0xff]) {
        const copy = Buffer.from(bytes);
        copy[at] = copy[at]! ^ mask;
        const read = readBinlogFile(copy);
        if (at < whole.format.end) {
          expect(formatFlip(read.format, at, mask, whole.format.inUse)).toBe(true);
          continue;
        }
        const holder = eventStart.filter((s) => s <= at).at(-1)!;
        if (!read.format) throw new Error(`flip at ${at} broke the format description`);
        expect(read.bad?.offset).toBe(holder);
        expect(read.transactions.every((t) => t.end <= holder)).toBe(true);
      }
  });
});

/**
 * A flip inside the format description is refused (unreadable, CRC), except two: the in-use flag, which the
 * server leaves out of the CRC on purpose, and a version string turned into a pre-checksum server's, which the
 * salvage refuses as a file without checksums.
 */
function formatFlip(format: FormatDescription | undefined, at: number, mask: number, inUse: boolean): boolean {
  if (!format) return true;
  if (at === 4 + 17 && mask === 0x01) return format.inUse === !inUse;
  return format.checksum === 'off' && at >= 4 + 19 + 2 && at < 4 + 19 + 2 + 50;
}

/** Every event's start offset, from the whole file's own chain. */
function eventStarts(bytes: Buffer, from: number): number[] {
  const starts: number[] = [];
  for (let at = from; at < bytes.length; at += bytes.readUInt32LE(at + 9)) starts.push(at);
  return starts;
}

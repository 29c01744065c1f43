// Finding what to salvage from a dead master's binlogs, over real files: where the replica stands (file position
// or GTIDs), across a rotation through the index, and every reason to stop early or to salvage nothing.
import { execFileSync } from 'node:child_process';
import { crc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import {
  binlogBaseName,
  locateSalvage,
  parseBinlogIndex,
  resolveIndexEntry,
  readBinlogFile,
  replayBytes,
  type BinlogTransaction,
  type SalvageRequest,
} from '../../src/binlog/binlog-file/index.js';
import { fixture, memorySource, scenarioFiles } from './binlog-fixtures.js';

const MB = 1024 * 1024;

/** Every complete transaction of a scenario, in log order, with its file (what the reader finds). */
function allTransactions(files: Map<string, Buffer>): (BinlogTransaction & { file: string })[] {
  return [...files].flatMap(([file, bytes]) => {
    const read = readBinlogFile(bytes);
    if (!read.format) throw new Error(`${file} unreadable`);
    return read.transactions.map((t) => ({ ...t, file }));
  });
}

const gtids = (ts: { gtid?: string | undefined }[]) => ts.map((t) => t.gtid);

function locate(files: Map<string, Uint8Array>, req: Omit<SalvageRequest, 'maxBytes'> & { maxBytes?: number }) {
  return locateSalvage(memorySource(files), { maxBytes: 16 * MB, ...req });
}

describe('the binlog index', () => {
  it('lists its entries in order and resolves relative ones against its own folder', () => {
    const index = parseBinlogIndex('./mysql-bin.000001\r\n/var/log/mysql/mysql-bin.000002\n\n');
    expect(index).toEqual(['./mysql-bin.000001', '/var/log/mysql/mysql-bin.000002']);
    const at = '/var/lib/mysql/mysql-bin.index';
    expect(index.map((e) => resolveIndexEntry(at, e))).toEqual([
      '/var/lib/mysql/mysql-bin.000001',
      '/var/log/mysql/mysql-bin.000002',
    ]);
    expect(index.map(binlogBaseName)).toEqual(['mysql-bin.000001', 'mysql-bin.000002']);
  });
});

describe('salvage from a file position, across a rotation', () => {
  const files = scenarioFiles('row');
  const all = allTransactions(files);
  const after = (gtid: string) => all.slice(all.findIndex((t) => t.gtid === gtid) + 1);

  it('takes every complete transaction after the position, in order, from both files', async () => {
    const at = all.find((t) => t.gtid === '0-1-4')!;
    const got = await locate(files, { from: { file: 'mysql-bin.000001', position: at.end } });
    expect(got.refusal).toBeUndefined();
    expect(got.stop).toBeUndefined();
    expect(got.tornTail).toBeUndefined();
    expect(got.transactions).toEqual(
      after('0-1-4').map(({ file, start, end, gtid, serverId }) => ({ file, start, end, gtid, serverId })),
    );
    expect(got.slices.map((s) => s.file)).toEqual(['./mysql-bin.000001', './mysql-bin.000002']);
    expect(got.endsAt).toEqual({ file: 'mysql-bin.000002', position: files.get('./mysql-bin.000002')!.length });
  });

  it('gives each file its format description first, then exactly the bytes of its transactions', async () => {
    const at = all.find((t) => t.gtid === '0-1-4')!;
    const got = await locate(files, { from: { file: 'mysql-bin.000001', position: at.end } });
    for (const slice of got.slices) {
      const bytes = files.get(slice.file)!;
      const format = readBinlogFile(bytes).format!;
      expect(slice.headerEnd).toBe(format.end);
      expect(Buffer.from(slice.header)).toEqual(bytes.subarray(0, format.end));
      expect(Buffer.from(slice.body)).toEqual(bytes.subarray(slice.from, slice.to));
    }
  });

  it('feeds mariadb-binlog a stream it reads whole: the salvaged GTIDs, each committed', async () => {
    const at = all.find((t) => t.gtid === '0-1-4')!;
    const got = await locate(files, { from: { file: 'mysql-bin.000001', position: at.end } });
    const printed = got.slices.flatMap((slice) => {
      const out = execFileSync('mariadb-binlog', ['-'], { input: replayBytes(slice), encoding: 'latin1' });
      expect(out).not.toMatch(/ERROR/);
      return [...out.matchAll(/\tGTID (\d+-\d+-\d+)/g)].map((m) => m[1]);
    });
    expect(printed).toEqual(gtids(got.transactions));
  });

  it('takes a whole transaction when the position is inside it (the replica received part of it)', async () => {
    const multi = all.find((t) => t.gtid === '0-1-5')!;
    const gtidEnd = multi.start + 42; // the GTID event of this 10.11 file is 42 bytes
    const got = await locate(files, { from: { file: 'mysql-bin.000001', position: gtidEnd } });
    expect(got.refusal).toBeUndefined();
    expect(gtids(got.transactions)).toEqual(gtids(after('0-1-4')));
  });

  it('refuses a position that is no event boundary, one past the end, and a file not in the index', async () => {
    const at = all.find((t) => t.gtid === '0-1-4')!;
    const off = await locate(files, { from: { file: 'mysql-bin.000001', position: at.end + 3 } });
    expect(off.refusal?.reason).toBe('position-not-boundary');
    expect(off.transactions).toEqual([]);
    const beyond = await locate(files, { from: { file: 'mysql-bin.000002', position: 1 << 20 } });
    expect(beyond.refusal?.reason).toBe('position-beyond-end');
    const missing = await locate(files, { from: { file: 'mysql-bin.000000', position: 4 } });
    expect(missing.refusal?.reason).toBe('start-file-missing');
  });

  it('takes nothing when the replica already has everything', async () => {
    const size = files.get('./mysql-bin.000002')!.length;
    const got = await locate(files, { from: { file: 'mysql-bin.000002', position: size } });
    expect(got.refusal).toBeUndefined();
    expect(got.transactions).toEqual([]);
    expect(got.slices).toEqual([]);
  });
});

describe('salvage from a GTID position', () => {
  const files = scenarioFiles('row');
  const all = allTransactions(files);

  it('skips what the replica holds, per domain, and takes the rest across the rotation', async () => {
    const got = await locate(files, { from: { gtid: '0-1-6,1-1-1' } });
    expect(got.refusal).toBeUndefined();
    expect(gtids(got.transactions)).toEqual(['0-1-7', '0-1-8', '0-1-9', '0-1-10', '0-1-11']);
    expect(got.skipped).toBe(7);
  });

  it('starts in the newest file whose Gtid_list the replica covers, reading nothing older', async () => {
    const source = memorySource(files);
    const got = await locateSalvage(source, { from: { gtid: '0-1-9,1-1-1' }, maxBytes: 16 * MB });
    expect(gtids(got.transactions)).toEqual(['0-1-10', '0-1-11']);
    expect(new Set(source.calls.map((c) => c.file))).toEqual(new Set(['./mysql-bin.000002']));
  });

  it('refuses when the replica lacks transactions older than the oldest file (purged)', async () => {
    const purged = new Map([...files].filter(([f]) => f.endsWith('000002')));
    const got = await locate(purged, { from: { gtid: '0-1-3' } });
    expect(got.refusal?.reason).toBe('start-purged');
  });

  it('refuses when the replica holds a later transaction but not an earlier one (not one stream)', async () => {
    const got = await locate(files, { from: { gtid: '0-1-4,1-1-1' } });
    expect(got.refusal?.reason).toBe('not-a-prefix');
    expect(got.transactions).toEqual([]);
  });

  it('with file coordinates too, checks each transaction against the GTIDs', async () => {
    const at = all.find((t) => t.gtid === '0-1-4')!;
    const got = await locate(files, { from: { file: 'mysql-bin.000001', position: at.end, gtid: '0-1-5' } });
    expect(gtids(got.transactions)[0]).toBe('0-1-6');
    expect(got.skipped).toBe(1);
  });

  it('MySQL: skips the executed set, takes compressed transactions whole', async () => {
    const file = new Map([['binlog.000057', fixture('mysql', 'mysql-bin.000057')]]);
    const got = await locate(file, { from: { gtid: '76f3e7be-6720-11ed-9cad-0242ac110002:1-11' } });
    expect(got.flavor).toBe('mysql');
    expect(gtids(got.transactions)).toEqual([
      '76f3e7be-6720-11ed-9cad-0242ac110002:12',
      '76f3e7be-6720-11ed-9cad-0242ac110002:13',
    ]);
  });

  it('MySQL: refuses anonymous transactions when only GTIDs say where the replica is', async () => {
    const file = new Map([['binlog.000043', fixture('mysql', 'transaction_compression.000001')]]);
    const got = await locate(file, { from: { gtid: '357df524-4139-11ee-9979-b033ee13919e:1' } });
    expect(got.refusal?.reason).toBe('anonymous');
    const byPosition = await locate(file, { from: { file: 'binlog.000043', position: 4 } });
    expect(byPosition.transactions).toHaveLength(1);
  });
});

describe('what the dead master left half-written or broken', () => {
  const files = scenarioFiles('row');
  const last = './mysql-bin.000002';
  const lastBytes = files.get(last)!;
  const lastRead = readBinlogFile(lastBytes);
  const lastTrx = lastRead.format ? lastRead.transactions : [];

  it('drops a torn tail, cut anywhere in the last transaction, and says how many bytes', async () => {
    const final = lastTrx.at(-1)!;
    for (const cut of [final.start + 1, final.start + 42, final.end - 1]) {
      const torn = new Map(files).set(last, lastBytes.subarray(0, cut));
      const got = await locate(torn, { from: { gtid: '0-1-7,1-1-1' } });
      expect(gtids(got.transactions)).toEqual(gtids(lastTrx.slice(0, -1)));
      expect(got.tornTail).toEqual({ file: last, offset: final.start, bytes: cut - final.start });
      expect(got.stop).toBeUndefined();
    }
  });

  it('a flipped byte in the middle: salvages what precedes it, names the rest as not salvaged', async () => {
    const second = lastTrx[1]!;
    const flipped = Buffer.from(lastBytes);
    flipped[second.start + 60] = flipped[second.start + 60]! ^ 0x20;
    const got = await locate(new Map(files).set(last, flipped), { from: { gtid: '0-1-7,1-1-1' } });
    expect(gtids(got.transactions)).toEqual([lastTrx[0]!.gtid]);
    expect(got.stop).toMatchObject({ file: last, reason: 'crc', filesAfter: [] });
    expect(got.stop!.offset).toBeGreaterThanOrEqual(second.start);
    expect(got.stop!.offset).toBeLessThan(second.end);
  });

  it('a flipped byte in a rotated file stops there: the later file is named, not read', async () => {
    const first = './mysql-bin.000001';
    const bytes = Buffer.from(files.get(first)!);
    bytes[bytes.length - 10] = bytes[bytes.length - 10]! ^ 0x01; // inside the Rotate event
    const got = await locate(new Map(files).set(first, bytes), { from: { gtid: '0-1-6,1-1-1' } });
    expect(gtids(got.transactions)).toEqual(['0-1-7']);
    expect(got.stop).toMatchObject({ file: first, reason: 'crc', filesAfter: [last] });
  });

  it('a damaged event right at the position: a stop there, nothing salvaged', async () => {
    const second = lastTrx[1]!;
    const flipped = Buffer.from(lastBytes);
    flipped[second.start + 30] = flipped[second.start + 30]! ^ 0x01;
    const got = await locate(new Map(files).set(last, flipped), {
      from: { file: 'mysql-bin.000002', position: second.start },
    });
    expect(got.refusal).toBeUndefined();
    expect(got.transactions).toEqual([]);
    expect(got.stop).toMatchObject({ file: last, offset: second.start, reason: 'crc' });
  });

  it('refuses an unknown event type, even with a valid CRC', async () => {
    const bytes = Buffer.from(lastBytes);
    const at = lastTrx[1]!.start;
    bytes[at + 4] = 200;
    const size = bytes.readUInt32LE(at + 9);
    bytes.writeUInt32LE(crc32(bytes.subarray(at, at + size - 4)), at + size - 4);
    const got = await locate(new Map(files).set(last, bytes), { from: { gtid: '0-1-7,1-1-1' } });
    expect(got.refusal).toMatchObject({ reason: 'unknown-event', file: last });
    expect(got.transactions).toEqual([]);
  });

  it('refuses an encrypted binlog', async () => {
    const got = await locate(scenarioFiles('encrypted'), { from: { file: 'mysql-bin.000001', position: 4 } });
    expect(got.refusal?.reason).toBe('encrypted');
  });

  it('refuses files without checksums unless told to take them', async () => {
    const plain = scenarioFiles('nochecksum');
    const refused = await locate(plain, { from: { gtid: '0-1-5' } });
    expect(refused.refusal?.reason).toBe('no-checksum');
    const taken = await locate(plain, { from: { gtid: '0-1-5' }, requireChecksums: false });
    expect(gtids(taken.transactions)).toEqual(['0-1-6', '1-1-1', '0-1-7']);
  });

  it('a file left unfinished by an earlier crash (still flagged in use): its tail dropped, the next file read', async () => {
    const first = './mysql-bin.000001';
    const bytes = files.get(first)!;
    const cutOff = allTransactions(files).find((t) => t.gtid === '0-1-7')!; // the first file's last transaction
    const cut = cutOff.end - 20;
    const crashed = Buffer.from(bytes.subarray(0, cut));
    crashed.writeUInt16LE(crashed.readUInt16LE(21) | 1, 21); // in use: the server never closed it
    const got = await locate(new Map(files).set(first, crashed), { from: { gtid: '0-1-6,1-1-1' } });
    expect(got.earlierTornTails).toEqual([{ file: first, offset: cutOff.start, bytes: cut - cutOff.start }]);
    expect(gtids(got.transactions)).toEqual(gtids(lastTrx));
    // The same cut in a file the server closed properly is damage, not a crash: stop there.
    const closed = Buffer.from(bytes.subarray(0, cut));
    const stopped = await locate(new Map(files).set(first, closed), { from: { gtid: '0-1-6,1-1-1' } });
    expect(stopped.stop).toMatchObject({ reason: 'truncated', offset: cutOff.start, filesAfter: [last] });
    expect(stopped.transactions).toEqual([]);
  });

  it('stops at the read budget, and refuses when the budget runs out before anything to salvage', async () => {
    const small = await locate(files, {
      from: { file: 'mysql-bin.000002', position: 4 },
      maxBytes: 1200,
      chunkBytes: 100,
    });
    expect(small.stop?.reason).toBe('budget');
    expect(small.bytesRead).toBeLessThanOrEqual(1200);
    expect(gtids(small.transactions)).toEqual(gtids(lastTrx.filter((t) => t.end <= 1200)));
    const none = await locate(files, { from: { gtid: '0-1-9,1-1-1' }, maxBytes: 600, chunkBytes: 100 });
    expect(none.refusal?.reason).toBe('budget');
  });

  it('stops where the index and a Rotate event disagree on the next file', async () => {
    const swapped = new Map([...files, ['./mysql-bin.000003', lastBytes]]);
    swapped.delete(last);
    const got = await locate(swapped, { from: { gtid: '0-1-6,1-1-1' } });
    expect(got.stop?.reason).toBe('rotate-mismatch');
    expect(gtids(got.transactions)).toEqual(['0-1-7']);
  });
});

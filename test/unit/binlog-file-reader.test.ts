// The binlog reader over real binlog files: MariaDB 10.11 files made here (compared with what mariadb-binlog
// itself reads in them) and MySQL 5.7-9.x files from public test data (compared with the transaction lengths the
// MySQL server wrote into its own GTID events). See test/fixtures/binlog/*/README.md for where each file is from.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readBinlogFile, readFormatDescription } from '../../src/binlog/binlog-file/index.js';
import { EventType } from '../../src/binlog/binlog-file/event-types.js';
import { scanEvents } from '../../src/binlog/binlog-file/scan-events.js';
import { FIXTURES, fixture, indexOf } from './binlog-fixtures.js';

/** What mariadb-binlog printed for a file: each event's offset, end and its description line. */
function mariadbBinlogEvents(scenario: string, file: string): { at: number; end: number; text: string }[] {
  const lines = fixture('mariadb', scenario, `${file}.mariadb-binlog.txt`).toString('utf8').split('\n');
  const pending: number[] = [];
  const events: { at: number; end: number; text: string }[] = [];
  for (const line of lines) {
    const at = /^# at (\d+)$/.exec(line);
    if (at) pending.push(Number(at[1]));
    const ev = /end_log_pos (\d+)(?: CRC32 0x[0-9a-f]+)?\s+(.*)$/.exec(line);
    if (ev) events.push({ at: pending.shift()!, end: Number(ev[1]), text: ev[2]! });
  }
  return events;
}

/** Transactions as the event listing implies them: from a GTID event to the next GTID or log event. */
function impliedTransactions(events: { at: number; text: string }[], size: number) {
  const isLog = (t: string) => /^(Gtid list|Binlog checkpoint|Rotate|Stop)/.test(t);
  const out: { gtid: string; start: number; end: number }[] = [];
  events.forEach((e, k) => {
    const gtid = /^GTID (\d+-\d+-\d+)/.exec(e.text)?.[1];
    if (!gtid) return;
    const next = events.slice(k + 1).find((n) => n.text.startsWith('GTID ') || isLog(n.text));
    out.push({ gtid, start: e.at, end: next?.at ?? size });
  });
  return out;
}

const SCENARIOS = ['row', 'statement', 'nochecksum', 'compressed'];

describe('MariaDB binlog files written by MariaDB 10.11 here', () => {
  for (const scenario of SCENARIOS)
    for (const file of indexOf(scenario).map((e) => e.replace('./', ''))) {
      it(`${scenario}/${file}: every event and transaction where mariadb-binlog sees them`, () => {
        const bytes = fixture('mariadb', scenario, file);
        const read = readBinlogFile(bytes);
        if (!read.format) throw new Error(read.problem.detail);
        const oracle = mariadbBinlogEvents(scenario, file);
        const scanned = scanEvents(bytes, { base: 0, from: read.format.end, format: read.format }).events;
        expect([
          { at: 4, end: read.format.end },
          ...scanned.map((e) => ({ at: e.header.offset, end: e.header.offset + e.header.size })),
        ]).toEqual(oracle.map(({ at, end }) => ({ at, end })));
        expect(read.transactions.map(({ gtid, start, end }) => ({ gtid, start, end }))).toEqual(
          impliedTransactions(oracle, bytes.length),
        );
        expect(read.bad).toBeUndefined();
        expect(read.trailing).toBe(0);
        expect(read.format).toMatchObject({ flavor: 'mariadb', serverVersion: expect.stringMatching(/^10\.11\./) });
      });
    }

  it('reads the checksum setting, and the in-use flag only on files the server never closed', () => {
    const format = (scenario: string, file: string) => readFormatDescription(fixture('mariadb', scenario, file)).format;
    expect(format('row', 'mysql-bin.000001')).toMatchObject({ checksum: 'crc32', inUse: false });
    expect(format('row', 'mysql-bin.000002')).toMatchObject({ checksum: 'crc32', inUse: true }); // killed
    expect(format('statement', 'mysql-bin.000001')).toMatchObject({ inUse: false }); // shut down
    expect(format('nochecksum', 'mysql-bin.000001')).toMatchObject({ checksum: 'off', inUse: true });
  });

  it('ends a rotated file at its Rotate event and a shut-down file at its Stop event', () => {
    const rotated = readBinlogFile(fixture('mariadb', 'row', 'mysql-bin.000001'));
    expect(rotated.format && rotated.rotate).toEqual({ file: 'mysql-bin.000002', position: 4 });
    const stopped = readBinlogFile(fixture('mariadb', 'statement', 'mysql-bin.000001'));
    expect(stopped.format && stopped.stopped).toBe(true);
  });

  it('keeps ROLLBACK TO SAVEPOINT, user variables, RAND and a MyISAM COMMIT inside their transactions', () => {
    const read = readBinlogFile(fixture('mariadb', 'statement', 'mysql-bin.000001'));
    if (!read.format) throw new Error('unreadable');
    // The savepoint transaction: BEGIN is the GTID event, then 3 inserts, SAVEPOINT, ROLLBACK TO, and the Xid.
    expect(read.transactions.at(-1)).toMatchObject({ gtid: '0-1-12', events: 7 });
    const scanned = scanEvents(fixture('mariadb', 'statement', 'mysql-bin.000001'), {
      base: 0,
      from: read.format.end,
      format: read.format,
    }).events;
    const typesIn = (gtid: string) => {
      const t = read.transactions.find((x) => x.gtid === gtid)!;
      return scanned.filter((e) => e.header.offset >= t.start && e.header.offset < t.end).map((e) => e.header.type);
    };
    expect(typesIn('0-1-10')).toContain(EventType.USER_VAR);
    expect(typesIn('0-1-11')).toContain(EventType.RAND);
    expect(typesIn('0-1-7')).toEqual([EventType.MARIADB_GTID, EventType.QUERY, EventType.QUERY]); // MyISAM: COMMIT
  });

  it('reads compressed statements (log_bin_compress) to find where transactions end', () => {
    const read = readBinlogFile(fixture('mariadb', 'compressed', 'mysql-bin.000001'));
    expect(read.format && read.transactions.map((t) => t.gtid)).toContain('1-1-1');
  });

  it('reads a public MariaDB 10.5 file', () => {
    const read = readBinlogFile(fixture('mariadb', 'public', 'mariadb-bin.000001'));
    expect(read.format && read.transactions.map((t) => t.gtid)).toEqual(['0-1-1', '0-1-2']);
  });
});

const MYSQL = join(FIXTURES, 'mysql');
const mysqlFiles = readdirSync(MYSQL).filter((f) => !f.endsWith('.md'));

describe('MySQL binlog files from public test data', () => {
  it.each(mysqlFiles)('%s: transactions start at GTID events and end where the next begins', (file) => {
    const bytes = fixture('mysql', file);
    const read = readBinlogFile(bytes);
    if (!read.format) throw new Error(read.problem.detail);
    if (read.bad) return; // the refused files have tests of their own below
    const events = scanEvents(bytes, { base: 0, from: read.format.end, format: read.format }).events;
    const starts = events.filter((e) => e.info.kind === 'gtid').map((e) => e.header.offset);
    const logEvents = events.filter((e) => e.header.type === EventType.ROTATE || e.header.type === EventType.STOP);
    const ends = starts.map(
      (s) =>
        [...starts, ...logEvents.map((e) => e.header.offset), bytes.length]
          .filter((o) => o > s)
          .sort((a, b) => a - b)[0],
    );
    expect(read.transactions.map((t) => [t.start, t.end])).toEqual(starts.map((s, k) => [s, ends[k]]));
    expect(read.format.flavor).toBe('mysql');
  });

  it.each(mysqlFiles)('%s: every transaction is as long as MySQL 8+ says in its GTID event', (file) => {
    const bytes = fixture('mysql', file);
    const read = readBinlogFile(bytes);
    if (!read.format || read.bad) return;
    const events = scanEvents(bytes, { base: 0, from: read.format.end, format: read.format }).events;
    const lengths = new Map(
      events.flatMap((e) =>
        e.info.kind === 'gtid' && e.info.transactionLength ? [[e.header.offset, e.info.transactionLength]] : [],
      ),
    );
    if (!/^[89]\./.test(read.format.serverVersion)) expect(lengths.size).toBe(0);
    else expect(lengths.size).toBe(read.transactions.length);
    for (const t of read.transactions) if (lengths.has(t.start)) expect(t.end - t.start).toBe(lengths.get(t.start));
  });

  it('takes a compressed transaction (GTID + TRANSACTION_PAYLOAD) as one whole transaction', () => {
    const read = readBinlogFile(fixture('mysql', 'mysql-bin.000057'));
    expect(read.format?.serverVersion).toBe('8.0.31');
    expect(read.format && read.transactions.map((t) => [t.gtid, t.events])).toEqual([
      ['76f3e7be-6720-11ed-9cad-0242ac110002:11', 2],
      ['76f3e7be-6720-11ed-9cad-0242ac110002:12', 2],
      ['76f3e7be-6720-11ed-9cad-0242ac110002:13', 2],
    ]);
    const anonymous = readBinlogFile(fixture('mysql', 'transaction_compression.000001'));
    expect(anonymous.format && anonymous.transactions).toEqual([
      { start: 197, end: 431, gtid: undefined, serverId: 1, events: 2 },
    ]);
  });

  it('names MySQL GTIDs uuid:gno, and a DDL statement is a transaction of its own', () => {
    const read = readBinlogFile(fixture('mysql', 'rpl_atomic_ddl_rollback_full.000001'));
    expect(read.format && read.transactions.map((t) => [t.gtid?.replace(/^.*:/, ''), t.events])).toEqual([
      ['1', 2],
      ['2', 2],
      ['3', 2],
      ['4', 2],
    ]);
  });

  it('refuses what it cannot read: tagged GTIDs (MySQL 8.3+), and stops at an incident', () => {
    const tagged = readBinlogFile(fixture('mysql', 'binlog_transaction_with_GTID_TAG.000001'));
    expect(tagged.format && tagged.bad?.reason).toBe('unsupported');
    const incident = readBinlogFile(fixture('mysql', 'bug40482-bin.000001'));
    expect(incident.format && incident.bad).toMatchObject({ reason: 'incident', offset: 106 });
  });
});

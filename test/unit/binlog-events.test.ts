// Transaction boundaries and position mapping, from SHOW BINLOG/RELAYLOG EVENTS rows recorded on MariaDB 10.11
// (relay logs rotated at max_relay_log_size=4096, so a transaction spans two relay files), plus MySQL-style rows.
import { describe, expect, it } from 'vitest';
import {
  binlogTransactions,
  parseEventRow,
  relayStream,
  type LogEvent,
  type Transaction,
} from '../../src/binlog/binlog-events.js';
import { compareCoordinates, formatCoordinates } from '../../src/binlog/coordinates.js';
import {
  appliedBeyondRelay,
  mapByOwnLastTransaction,
  mapPosition,
  type MappingInput,
} from '../../src/binlog/position-mapping.js';

/** `file pos type server end info` lines, as the mariadb client prints SHOW ... EVENTS. */
const rows = (text: string): LogEvent[] =>
  text
    .trim()
    .split('\n')
    .map((l) => {
      const [Log_name, Pos, Event_type, Server_id, End_log_pos, ...info] = l.trim().split('\t');
      return parseEventRow({
        Log_name,
        Pos,
        Event_type,
        Server_id,
        End_log_pos,
        Info: info.join('\t').replace(/\\n/g, '\n'),
      });
    });

// Recorded on a replica (server 2) of server 1: the master rotated to mysql-bin.000002, then the relay log
// rotated in the middle of transaction 0-1-10 (relay-bin.000007 starts with a copy of the master's format event).
const RELAY = rows(`
relay-bin.000005	4	Format_desc	2	256	Server ver: 10.11.19-MariaDB-0+deb12u1-log, Binlog ver: 4
relay-bin.000005	256	Rotate	1	0	mysql-bin.000001;pos=4
relay-bin.000005	303	Format_desc	1	256	Server ver: 10.11.19-MariaDB-0+deb12u1-log, Binlog ver: 4
relay-bin.000005	555	Gtid	1	1513	GTID 0-1-8
relay-bin.000005	597	Query	1	1770	CREATE TABLE sbtest.t (id BIGINT PRIMARY KEY)
relay-bin.000005	854	Rotate	1	1817	mysql-bin.000002;pos=4
relay-bin.000005	901	Format_desc	1	256	Server ver: 10.11.19-MariaDB-0+deb12u1-log, Binlog ver: 4
relay-bin.000005	1153	Gtid_list	1	299	[0-1-8]
relay-bin.000005	1196	Binlog_checkpoint	1	342	mysql-bin.000001
relay-bin.000005	1239	Binlog_checkpoint	1	385	mysql-bin.000002
relay-bin.000005	1282	Gtid	1	427	BEGIN GTID 0-1-9
relay-bin.000005	1324	Intvar	1	459	INSERT_ID=1
relay-bin.000005	1356	Query	1	618	INSERT INTO sbtest.t (k, pad) VALUES (24632, "it's \\\\ \\"quoted\\" ROLLBACK")
relay-bin.000005	1515	Xid	1	649	COMMIT /* xid=57 */
relay-bin.000005	1546	Gtid	1	691	BEGIN GTID 0-1-10
relay-bin.000005	1588	Intvar	1	723	INSERT_ID=3
relay-bin.000005	1620	Query	1	882	INSERT INTO sbtest.t (k, pad) VALUES (95507, 'a\\nb')
relay-bin.000005	1779	Rotate	2	1826	relay-bin.000006;pos=4
relay-bin.000006	4	Format_desc	2	256	Server ver: 10.11.19-MariaDB-0+deb12u1-log, Binlog ver: 4
relay-bin.000006	256	Format_desc	1	0	Server ver: 10.11.19-MariaDB-0+deb12u1-log, Binlog ver: 4
relay-bin.000006	508	Query	1	987	UPDATE sbtest.t SET k = k + 1 WHERE id = 1
relay-bin.000006	613	Xid	1	1018	COMMIT /* xid=61 */
relay-bin.000006	644	Gtid	1	1060	BEGIN GTID 0-1-11
relay-bin.000006	686	Annotate_rows	1	1175	DELETE FROM sbtest.t WHERE id = 7
relay-bin.000006	801	Table_map	1	1227	table_id: 18 (sbtest.t)
relay-bin.000006	853	Delete_rows_v1	1	1350	table_id: 18 flags: STMT_END_F
relay-bin.000006	976	Xid	1	1381	COMMIT /* xid=65 */
relay-bin.000006	1007	Gtid	1	1423	BEGIN GTID 0-1-12
relay-bin.000006	1049	Intvar	1	1455	INSERT_ID=9
`);

// The same transactions in the replica's own binlog: other positions, xids and table ids.
const BINLOG = rows(`
mysql-bin.000004	4	Format_desc	2	256	Server ver: 10.11.19-MariaDB-0+deb12u1-log, Binlog ver: 4
mysql-bin.000004	256	Gtid_list	2	299	[0-1-7]
mysql-bin.000004	299	Binlog_checkpoint	2	342	mysql-bin.000004
mysql-bin.000004	342	Gtid	1	384	GTID 0-1-8
mysql-bin.000004	384	Query	1	641	CREATE TABLE sbtest.t (id BIGINT PRIMARY KEY)
mysql-bin.000004	641	Gtid	1	683	BEGIN GTID 0-1-9 cid=120
mysql-bin.000004	683	Intvar	1	715	INSERT_ID=1
mysql-bin.000004	715	Query	1	874	INSERT INTO sbtest.t (k, pad) VALUES (24632, "it's \\\\ \\"quoted\\" ROLLBACK")
mysql-bin.000004	874	Xid	1	905	COMMIT /* xid=12 */
mysql-bin.000004	905	Gtid	1	947	BEGIN GTID 0-1-10 cid=121
mysql-bin.000004	947	Intvar	1	979	INSERT_ID=3
mysql-bin.000004	979	Query	1	1138	INSERT INTO sbtest.t (k, pad) VALUES (95507, 'a\\nb')
mysql-bin.000004	1138	Query	1	1243	UPDATE sbtest.t SET k = k + 1 WHERE id = 1
mysql-bin.000004	1243	Xid	1	1274	COMMIT /* xid=13 */
mysql-bin.000004	1274	Gtid	1	1316	BEGIN GTID 0-1-11
mysql-bin.000004	1316	Annotate_rows	1	1431	DELETE FROM sbtest.t WHERE id = 7
mysql-bin.000004	1431	Table_map	1	1483	table_id: 33 (sbtest.t)
mysql-bin.000004	1483	Delete_rows_v1	1	1606	table_id: 33 flags: STMT_END_F
mysql-bin.000004	1606	Xid	1	1637	COMMIT /* xid=14 */
`);

describe('relay logs in old-master terms', () => {
  const s = relayStream(RELAY);

  it('follows the master across its rotation and the relay log across its own', () => {
    expect(s.from).toEqual({ file: 'mysql-bin.000001', position: 4 });
    expect(s.transactions.map((t) => `${t.gtid} ${t.end.file}:${t.end.position}`)).toEqual([
      '0-1-8 mysql-bin.000001:1770',
      '0-1-9 mysql-bin.000002:649',
      '0-1-10 mysql-bin.000002:1018',
      '0-1-11 mysql-bin.000002:1381',
    ]);
    // The transaction split across two relay files is one transaction.
    expect(s.transactions[2]!.events).toBe(5);
    // Half-received (the master died mid-send): never counted.
    expect(s.partial?.gtid).toBe('0-1-12');
  });

  it('knows every place the SQL thread can stand, and no place inside a transaction', () => {
    const at = s.boundaries.map((b) => `${b.file}:${b.position}`);
    expect(at).toEqual(
      expect.arrayContaining([
        'mysql-bin.000001:1770',
        'mysql-bin.000001:1817',
        'mysql-bin.000002:4',
        'mysql-bin.000002:385',
        'mysql-bin.000002:649',
        'mysql-bin.000002:1381',
      ]),
    );
    expect(at).not.toContain('mysql-bin.000002:882'); // inside 0-1-10
  });

  it('gives the same transaction the same signature in any log, and different ones different signatures', () => {
    const b = binlogTransactions(BINLOG).transactions;
    expect(b.map((t) => t.signature)).toEqual(s.transactions.map((t) => t.signature));
    expect(new Set(b.map((t) => t.signature)).size).toBe(4);
  });
});

describe('transaction boundaries', () => {
  it('groups MySQL-style, old-style and savepoint transactions, and a statement merely mentioning ROLLBACK', () => {
    const t = binlogTransactions(
      rows(`
binlog.000001	4	Format_desc	1	126	Server ver: 8.4.3, Binlog ver: 4
binlog.000001	126	Previous_gtids	1	157
binlog.000001	157	Anonymous_Gtid	1	236	SET @@SESSION.GTID_NEXT= 'ANONYMOUS'
binlog.000001	236	Query	1	315	BEGIN
binlog.000001	315	Rows_query	1	380	# INSERT INTO t VALUES ('ROLLBACK')
binlog.000001	380	Table_map	1	430	table_id: 90 (db.t)
binlog.000001	430	Write_rows	1	470	table_id: 90 flags: STMT_END_F
binlog.000001	470	Xid	1	501	COMMIT /* xid=9 */
binlog.000001	501	Gtid	1	580	SET @@SESSION.GTID_NEXT= '3E11FA47-71CA-11E1-9E33-C80AA9429562:23'
binlog.000001	580	Query	1	690	use \`db\`; CREATE TABLE u (a INT)
binlog.000001	690	Query	1	760	BEGIN
binlog.000001	760	Query	1	850	use \`db\`; SAVEPOINT s1
binlog.000001	850	Query	1	940	use \`db\`; INSERT INTO u VALUES (1)
binlog.000001	940	Query	1	1010	ROLLBACK TO SAVEPOINT s1
binlog.000001	1010	Query	1	1080	COMMIT
binlog.000001	1080	Rotate	1	1124	binlog.000002;pos=4
`),
    ).transactions;
    expect(t.map((x) => [x.gtid, x.start.position, x.end.position, x.events])).toEqual([
      ['anonymous', 157, 501, 6],
      ['3e11fa47-71ca-11e1-9e33-c80aa9429562:23', 501, 690, 2],
      ['', 690, 1080, 5],
    ]);
  });
});

describe('signatures of big transactions', () => {
  // A thousand statements in one transaction: every one of them counts, wherever it sits.
  const big = (changedAt: number, file: string) => {
    const ev: LogEvent[] = [{ file, pos: 4, type: 'Gtid', serverId: 1, endPos: 50, info: 'BEGIN GTID 0-1-7' }];
    for (let i = 0; i < 1000; i++)
      ev.push({
        file,
        pos: 50 + i,
        type: 'Query',
        serverId: 1,
        endPos: 51 + i,
        info: `INSERT INTO t VALUES (${i === changedAt ? -1 : i})`,
      });
    ev.push({ file, pos: 2000, type: 'Xid', serverId: 1, endPos: 2031, info: 'COMMIT /* xid=1 */' });
    const [t] = binlogTransactions(ev).transactions;
    expect(t?.events).toBe(1002);
    return t!.signature;
  };

  it('are equal for the same statements in any log, and differ when any one statement differs', () => {
    expect(big(-1, 'mysql-bin.000001')).toBe(big(-1, 'other-bin.000009'));
    for (const at of [0, 255, 256, 700, 999])
      expect(big(at, 'mysql-bin.000001'), `statement ${at}`).not.toBe(big(-1, 'mysql-bin.000001'));
  });
});

describe('position mapping', () => {
  const relay = relayStream(RELAY);
  const binlog = binlogTransactions(BINLOG).transactions;
  const base: MappingInput = {
    replica: 'db3',
    best: 'db2',
    executed: { file: 'mysql-bin.000002', position: 649 },
    relay,
    binlog,
    binlogComplete: false,
    binlogEnd: { file: 'mysql-bin.000004', position: 1637 },
    lastExecuted: binlog[1]!,
  };

  it('finds where the first missing transaction starts in the best replica binlog, with the evidence', () => {
    const m = mapPosition(base);
    expect(m).toMatchObject({
      ok: true,
      value: { coordinates: { file: 'mysql-bin.000004', position: 905 }, behind: 2 },
    });
    if (m.ok)
      expect(m.value.evidence.join('\n')).toMatch(/the 2 transactions after it .* match the last 2 of its binlog/);
    // Across the master's rotation: from the end of the old file (after the DDL) to the first transaction of the new one.
    expect(
      mapPosition({ ...base, executed: { file: 'mysql-bin.000001', position: 1770 }, lastExecuted: binlog[0]! }),
    ).toMatchObject({ ok: true, value: { coordinates: { position: 641 }, behind: 3 } });
    // Up to date: its place is the best replica's end.
    expect(
      mapPosition({ ...base, executed: { file: 'mysql-bin.000002', position: 1381 }, lastExecuted: binlog[3]! }),
    ).toMatchObject({ ok: true, value: { coordinates: { position: 1637 }, behind: 0 } });
  });

  it('names a best binlog that ends past its relay log (salvaged by an earlier run): counting back would cut late', () => {
    // Chaos seed 70167: a failed run salvaged the dead master's tail into db2; the next run's mapping counted the
    // relay log's transactions back from the binlog's end and compared the wrong ones (it refused, by luck).
    const salvaged = { ...binlog[3]!, gtid: '0-1-12', signature: 'salvaged', summary: 'INSERT salvaged' };
    expect(appliedBeyondRelay(relay.transactions.at(-1), binlog.at(-1), 'db2')).toBeUndefined();
    expect(appliedBeyondRelay(relay.transactions.at(-1), salvaged, 'db2')).toMatch(
      /^db2's binlog ends with GTID 0-1-12 "INSERT salvaged", not with its relay log's last transaction \(GTID 0-1-11 /,
    );
    expect(mapPosition({ ...base, binlog: [...binlog, salvaged] }).ok).toBe(false);
    // Looked up by db3's own last transaction instead, the cut is right and the salvaged one follows it.
    const m = mapByOwnLastTransaction({
      replica: 'db3',
      best: 'db2',
      executed: base.executed,
      lastExecuted: binlog[1]!,
      found: { anchor: binlog[1]!, after: [binlog[2]!, binlog[3]!, salvaged], by: 'GTID 0-1-9', matches: 1 },
      relayWhy: 'salvaged',
    });
    expect(m).toMatchObject({
      ok: true,
      value: { coordinates: { file: 'mysql-bin.000004', position: 905 }, behind: 3 },
    });
  });

  it('maps the same from a relay log followed only from the position on (bounded memory) as from all of it', () => {
    const places = [
      ...relay.boundaries,
      { file: 'mysql-bin.000002', position: 882 },
      { file: 'mysql-bin.000001', position: 100 },
    ];
    expect(places.length).toBeGreaterThan(6);
    for (const x of places) {
      for (const lastExecuted of binlog) {
        const input = { ...base, executed: x, lastExecuted };
        const bounded = relayStream(RELAY, x);
        expect(bounded.transactions.length).toBeLessThanOrEqual(
          relay.transactions.filter((t) => compareCoordinates(t.end, x) > 0).length + 1,
        );
        expect(mapPosition({ ...input, relay: bounded }), `${formatCoordinates(x)}`).toEqual(mapPosition(input));
      }
    }
  });

  it.each([
    [
      'relay logs purged',
      { relay: relayStream(RELAY.filter((e) => e.file !== 'relay-bin.000005')) },
      /no longer says which old-master binlog file.*purged/,
    ],
    [
      'not a transaction boundary',
      { executed: { file: 'mysql-bin.000002', position: 882 } },
      /not between two transactions/,
    ],
    [
      'a local write on the best replica',
      { binlog: [...binlog.slice(0, 3), { ...binlog[3]!, signature: 'local', summary: 'GRANT ...' }] },
      /transaction 2 of 2 differs .*local writes/,
    ],
    ['its own last transaction is another one', { lastExecuted: binlog[0]! }, /is not db3's own last one/],
    ['no own binlog to check against', { lastExecuted: undefined }, /no transaction in its own binlog/],
    ['the best binlog is too short', { binlog: binlog.slice(3), binlogComplete: true }, /its binlog only 1 .*purged/],
  ])('refuses when %s', (_, change, why) => {
    const m = mapPosition({ ...base, ...change });
    expect(m.ok).toBe(false);
    if (!m.ok) expect(m.refusals.join('; ')).toMatch(why);
  });
});

describe('position mapping without the relay log (by the replica’s own last transaction)', () => {
  const trx = (gtid: string, end: number, signature = `sig-${gtid}`): Transaction => ({
    start: { file: 'bin.000009', position: end - 100 },
    end: { file: 'bin.000009', position: end },
    gtid,
    signature,
    summary: `insert ${gtid}`,
    tables: [],
    events: 4,
  });
  const base = {
    replica: 'db3',
    best: 'db2',
    executed: { file: 'mysql-bin.000002', position: 882 },
    relayWhy: "db2's relay log only goes back to mysql-bin.000003:4 (older relay logs were purged)",
  };
  const found = (anchor: Transaction | undefined, after: Transaction[], matches = anchor ? 1 : 0) => ({
    ...(anchor ? { anchor } : {}),
    after,
    by: 'GTID 0-1-40',
    matches,
  });

  it('cuts right after it, and counts what follows', () => {
    const m = mapByOwnLastTransaction({
      ...base,
      lastExecuted: trx('0-1-40', 900),
      found: found(trx('0-1-40', 5000), [trx('0-1-41', 5100), trx('0-1-42', 5200)]),
    });
    expect(m).toMatchObject({ ok: true, value: { coordinates: { file: 'bin.000009', position: 5000 }, behind: 2 } });
    expect(m.ok && m.value.evidence.join(' ')).toMatch(/mapped through db2's binlog instead.*found by GTID 0-1-40/);
  });

  it.each([
    ['it is missing', { found: found(undefined, []) }, /is not in db2's binlog/],
    ['it is another transaction', { found: found(trx('0-1-40', 5000, 'other'), []) }, /not the same transaction/],
    ['the run occurs twice', { found: found(trx('0-1-40', 5000), [], 2) }, /occur 2 times .* ambiguous/],
    ['another domain follows', { found: found(trx('0-1-40', 5000), [trx('1-1-3', 5100)]) }, /another domain/],
    ['an older GTID follows', { found: found(trx('0-1-40', 5000), [trx('0-1-39', 5100)]) }, /out of order/],
    ['the replica has no own binlog', { lastExecuted: undefined }, /no transaction in its own binlog/],
  ])('refuses when %s', (_, change, why) => {
    const m = mapByOwnLastTransaction({
      ...base,
      lastExecuted: trx('0-1-40', 900),
      found: found(trx('0-1-40', 5000), []),
      ...change,
    });
    expect(m.ok).toBe(false);
    expect(!m.ok && m.refusals.join('; ')).toMatch(why);
    expect(!m.ok && m.refusals.join('; ')).toMatch(/relay log only goes back/);
  });
});

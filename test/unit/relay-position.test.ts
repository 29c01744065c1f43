// A MariaDB replica with parallel replication whose old master restarted into mysql-bin.000002 and sent nothing
// since reports the new file with the old file's position (chaos seed 83032). The relay log rows and status
// figures below were read from that replica.
import { describe, expect, it } from 'vitest';
import { dialectFor, parseVersion } from '../../src/dialect/dialect.js';
import {
  executedFromRelay,
  executedIsStale,
  nextRelayGtidHeld,
  withExecutedChecked,
} from '../../src/binlog/relay-position.js';
import type { ReplicaStatus } from '../../src/domain/server-state.js';
import { fakeConn } from './fixture-executor.js';

const d = dialectFor(parseVersion('10.11.19-MariaDB-0+deb12u1-log'));
const table = (text: string) =>
  text
    .trim()
    .split('\n')
    .map((l) => {
      const [Log_name, Pos, Event_type, Server_id, End_log_pos, Info] = l.split('\t');
      return { Log_name, Pos, Event_type, Server_id, End_log_pos, Info };
    });
const RELAY = table(`
relay-bin.000004	4	Format_desc	4	256	Server ver: 10.11.19-MariaDB-0+deb12u1-log, Binlog ver: 4
relay-bin.000004	256	Rotate	1	0	mysql-bin.000002;pos=4
relay-bin.000004	303	Format_desc	1	256	Server ver: 10.11.19-MariaDB-0+deb12u1-log, Binlog ver: 4
relay-bin.000004	555	Gtid_list	1	299	[0-1-1749]
relay-bin.000004	598	Binlog_checkpoint	1	342	mysql-bin.000002`);
const relayConn = () => fakeConn('test4', undefined, (sql) => (/SHOW RELAYLOG EVENTS/.test(sql) ? RELAY : [])).conn;

const status = (executed: number, relayPos: number): ReplicaStatus =>
  ({
    received: { file: 'mysql-bin.000002', position: 342 },
    executed: { file: 'mysql-bin.000002', position: executed },
    relayLog: { file: 'relay-bin.000004', position: relayPos },
  }) as ReplicaStatus;

describe('a stale executed position', () => {
  it('is read from the relay log where the SQL thread stands', async () => {
    const s = status(7902645, 641);
    expect(executedIsStale(s)).toBe(true);
    expect((await withExecutedChecked(relayConn(), d, s)).executed).toEqual({
      file: 'mysql-bin.000002',
      position: 342,
    });
  });

  it('stops at the SQL thread: only events before Relay_Log_Pos count', async () => {
    const s = status(7902645, 555);
    expect((await withExecutedChecked(relayConn(), d, s)).executed.position).toBe(256);
  });

  it('names the earlier master file the SQL thread is still in (after CHANGE MASTER TO RELAY_LOG_FILE)', async () => {
    // The lifted delayed replica of the same run, mid-drain: its relay-bin.000002 still holds mysql-bin.000001.
    const lifted = table(`
relay-bin.000002	4	Format_desc	4	256	Server ver: 10.11.19-MariaDB-0+deb12u1-log, Binlog ver: 4
relay-bin.000002	256	Rotate	1	0	mysql-bin.000001;pos=2526
relay-bin.000002	303	Format_desc	1	0	Server ver: 10.11.19-MariaDB-0+deb12u1-log, Binlog ver: 4
relay-bin.000002	555	Gtid	1	2568	BEGIN GTID 0-1-12
relay-bin.000002	597	Intvar	1	2600	INSERT_ID=1
relay-bin.000002	629	Query	1	3218	INSERT INTO sbtest.events (writer, seq) VALUES (1, 1)
relay-bin.000002	1247	Query	1	3334	INSERT INTO sbtest.ledger (writer, seq) VALUES (1, 1)
relay-bin.000002	1363	Xid	1	3365	COMMIT /* xid=119 */
relay-bin.000002	1394	Gtid	1	3407	BEGIN GTID 0-1-13`);
    const conn = fakeConn('test4', undefined, (sql) => (/SHOW RELAYLOG EVENTS/.test(sql) ? lifted : [])).conn;
    const s = { ...status(26336, 1394), relayLog: { file: 'relay-bin.000002', position: 1394 } };
    expect((await withExecutedChecked(conn, d, s)).executed).toEqual({ file: 'mysql-bin.000001', position: 3365 });
  });

  it('a relay file a size rotation began (no master Rotate): the received file, when none follows (seed 70707)', async () => {
    // A paused replica resumed by relay position: MariaDB set its executed figure to the received one (the end of
    // a transaction the old master never finished sending); its SQL thread stands at that transaction's start.
    const rotatedBySize = table(`
relay-bin.000768	4	Format_desc	2	256	Server ver: 10.11.19-MariaDB-0+deb12u1-log, Binlog ver: 4
relay-bin.000768	256	Gtid_list	2	299	[0-1-1583]
relay-bin.000768	299	Gtid	1	13157662	BEGIN GTID 0-1-1584 cid=7001
relay-bin.000768	341	Annotate_rows	1	13157742	INSERT INTO sbtest.ledger (writer, seq) VALUES (2, 520)
relay-bin.000768	421	Table_map	1	13157794	table_id: 18 (sbtest.ledger)
relay-bin.000768	473	Write_rows_v1	1	13157836	table_id: 18 flags: STMT_END_F
relay-bin.000768	515	Xid	1	13157867	COMMIT /* xid=6914 */
relay-bin.000768	2564	Gtid	1	13157909	BEGIN GTID 0-1-1585 cid=7002
relay-bin.000768	2606	Annotate_rows	1	13157989	INSERT INTO sbtest.events (writer, seq) VALUES (1, 521)`);
    const s = {
      received: { file: 'mysql-bin.000002', position: 13161060 },
      executed: { file: 'mysql-bin.000002', position: 13161060 },
      relayLog: { file: 'relay-bin.000768', position: 2564 },
    } as ReplicaStatus;
    // Answered from the position asked for, as the server does.
    const conn = (rows: ReturnType<typeof table>) =>
      fakeConn('test2', undefined, (sql) => {
        const from = Number(/ FROM (\d+)/.exec(sql)?.[1] ?? 4);
        return /SHOW RELAYLOG EVENTS/.test(sql) ? rows.filter((r) => Number(r.Pos) >= from) : [];
      }).conn;
    expect(await executedFromRelay(conn(rotatedBySize), d, s)).toEqual({
      file: 'mysql-bin.000002',
      position: 13157867,
    });
    // A master Rotate after it: the file it stands in is not known from here.
    const rotateAhead = [...rotatedBySize, ...table(`relay-bin.000768	2700	Rotate	1	0	mysql-bin.000003;pos=4`)];
    expect(await executedFromRelay(conn(rotateAhead), d, s)).toBeUndefined();
  });

  it('is refused, not guessed, when the relay log names no position before the SQL thread', async () => {
    await expect(withExecutedChecked(relayConn(), d, status(7902645, 256))).rejects.toThrow(
      /beyond the mysql-bin.000002:342 it received.*does not guess/,
    );
  });

  it('leaves a consistent status alone without reading the relay log', async () => {
    const { conn, sent } = fakeConn('test4');
    const s = status(300, 641);
    expect(executedIsStale(s)).toBe(false);
    expect(await withExecutedChecked(conn, d, s)).toBe(s);
    expect(sent).toEqual([]);
  });
});

// Chaos seed 70369: an earlier, failed run salvaged 0-1-2720..5166 into this replica (its binlog state 0-1-5166,...),
// whose relay log still held the first of them (incomplete) at the SQL thread's place. Rows read from that replica.
// What it holds is its binlog state, not gtid_slave_pos (seed 70380: 0-1-1972 there with 879 applied).
describe('a relay log whose next transaction the replica already holds', () => {
  const SALVAGED = table(`
relay-bin.001119	712	Gtid	1	61627091	BEGIN GTID 0-1-2720
relay-bin.001119	754	Annotate_rows	1	61836820	INSERT INTO sbtest.events (writer, seq, kind) VALUES (1, 1270, 'large')
relay-bin.001119	210483	Rotate	3	210530	relay-bin.001120;pos=4`);
  const at = (file: string, position: number) =>
    ({ relayLog: { file, position }, received: {}, executed: {} }) as unknown as ReplicaStatus;
  const conn = (byFile: Record<string, Record<string, unknown>[]>) => {
    const f = fakeConn('test3', undefined, (sql) => byFile[/IN '([^']+)'/.exec(sql)?.[1] ?? ''] ?? []);
    return f;
  };

  it('is found: the SQL thread must not start again (it would apply it twice, or stop in strict mode)', async () => {
    const c = conn({ 'relay-bin.001119': SALVAGED }).conn;
    expect(await nextRelayGtidHeld(c, d, at('relay-bin.001119', 712), '0-1-5166')).toBe('0-1-2720');
  });

  it('is not found when the replica lacks it: a paused replica resumes as before', async () => {
    const c = conn({ 'relay-bin.001119': SALVAGED }).conn;
    expect(await nextRelayGtidHeld(c, d, at('relay-bin.001119', 712), '0-1-2719')).toBeUndefined();
    expect(await nextRelayGtidHeld(c, d, at('relay-bin.001119', 712), '')).toBeUndefined();
    // Held means in its binlog from that origin server: 0-3-5167 (a write of its own) does not hold 0-1-2720.
    expect(await nextRelayGtidHeld(c, d, at('relay-bin.001119', 712), '0-3-5167')).toBeUndefined();
    expect(await nextRelayGtidHeld(c, d, at('relay-bin.001119', 712), '0-1-5166,0-3-5167')).toBe('0-1-2720');
  });

  it('is looked for in the next relay file when the SQL thread stands at the end of one', async () => {
    const end = table(`relay-bin.001118	900	Rotate	3	947	relay-bin.001119;pos=4`);
    const f = conn({ 'relay-bin.001118': end, 'relay-bin.001119': SALVAGED });
    expect(await nextRelayGtidHeld(f.conn, d, at('relay-bin.001118', 900), '0-1-5166')).toBe('0-1-2720');
    expect(f.sent).toEqual([
      "SHOW RELAYLOG EVENTS IN 'relay-bin.001118' FROM 900 LIMIT 0, 20",
      "SHOW RELAYLOG EVENTS IN 'relay-bin.001119' FROM 4 LIMIT 0, 20",
    ]);
  });
});

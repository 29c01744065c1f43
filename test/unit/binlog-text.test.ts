// The harness's reading of mariadb-binlog's text (harness/binlog-text.ts), on text as MariaDB 10.11 prints it:
// the ledger evidence every crash test and the chaos harness rely on is only as good as this parser.
import { describe, expect, it } from 'vitest';
import { parseLogText } from '../../harness/binlog-text.js';

const header = (pos: number, end: number, what: string, server = 1) =>
  `# at ${pos}\n#261202  4:41:59 server id ${server}  end_log_pos ${end} CRC32 0x22427417 \t${what}`;
const rowInsert = (w: number, s: number) =>
  ['### INSERT INTO `sbtest`.`ledger`', '### SET', `###   @1=${w}`, `###   @2=${s}`].join('\n');

/** A relay log's start: its own format event, then the master's file it continues. */
const relayStart = (masterFile: string) =>
  [
    header(4, 256, 'Start: binlog v 4, server v 10.11.19-MariaDB-log created 261202', 2),
    header(256, 0, `Rotate to ${masterFile}  pos: 4`),
  ].join('\n');

describe('reading ledger rows from binlog text', () => {
  it('row events, a transaction cut by a relay-log rotation, DDL, and an annotated statement counted once', () => {
    const first = [
      relayStart('mysql-bin.000003'),
      header(300, 1812, 'GTID 0-1-9 ddl'),
      header(342, 1977, 'Query\tthread_id=11\texec_time=0\terror_code=0\txid=38'),
      'CREATE TABLE sbtest.ledger (writer INT NOT NULL, seq INT NOT NULL, PRIMARY KEY (writer, seq))',
      header(500, 2019, 'GTID 0-1-10 trans'),
      'START TRANSACTION',
      header(542, 2255, 'Annotate_rows:'),
      '#Q> INSERT INTO sbtest.ledger (writer, seq) VALUES (3, 57)',
      header(600, 2307, 'Table_map: `sbtest`.`ledger` mapped to number 22'),
      header(650, 2349, 'Write_rows: table id 22 flags: STMT_END_F'),
      rowInsert(3, 57),
    ].join('\n');
    const second = [
      relayStart('mysql-bin.000003'),
      header(300, 2380, 'Xid = 40'),
      'COMMIT/*!*/;',
      header(331, 2422, 'GTID 0-1-11 trans'),
      'START TRANSACTION',
      header(373, 2500, 'Query\tthread_id=12\texec_time=0\terror_code=0\txid=0'),
      'INSERT INTO sbtest.ledger (writer, seq) VALUES (4, 8)',
    ].join('\n');
    const txs = parseLogText([
      { name: 'relay-bin.000007', text: first },
      { name: 'relay-bin.000008', text: second },
    ]);
    // The DDL, then the transaction whose Xid came in the next relay log; 0-1-11 never ended (cut off).
    expect(txs).toEqual([
      { seq: 9, serverId: 1, file: 3, end: 1977, ledger: [] },
      { seq: 10, serverId: 1, file: 3, end: 2380, ledger: [[3, 57]] },
    ]);
  });

  it('statement events and a COMMIT query end a transaction; binlog files name their own number', () => {
    const text = [
      header(4, 256, 'Start: binlog v 4, server v 10.11.19-MariaDB-log created 261202'),
      header(256, 400, 'GTID 0-2-31 trans', 2),
      'BEGIN',
      header(400, 520, 'Query\tthread_id=5\texec_time=0\terror_code=0\txid=0', 2),
      'INSERT INTO sbtest.ledger (writer, seq) VALUES (100, 12)',
      header(520, 600, 'Query\tthread_id=5\texec_time=0\terror_code=0\txid=0', 2),
      'COMMIT/*!*/;',
    ].join('\n');
    expect(parseLogText([{ name: 'mysql-bin.000012', text }])).toEqual([
      { seq: 31, serverId: 2, file: 12, end: 600, ledger: [[100, 12]] },
    ]);
  });
});

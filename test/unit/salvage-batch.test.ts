// The salvage's statement batches (src/dialect/salvage-batch.ts), over decoder output as mariadb-binlog 10.11
// prints it. What a real server answers to them: test/integration/salvage-batch.test.ts.
import { describe, expect, it } from 'vitest';
import { batchStatements } from '../../src/dialect/salvage-batch.js';

const HEAD = ['/*!50530 SET @@SESSION.PSEUDO_SLAVE_MODE=1*/;', 'DELIMITER /*!*/;'];
const TAIL = ['DELIMITER ;', '# End of log file', 'ROLLBACK /* added by mysqlbinlog */;', ''];
const B64 = ['TaYPaxMBAAAANQAAANMGAAAAABIAAAAAAAEAB3NhbHZhZ2UAAXQAAwMPDwT/APwDBmI28NU=', 'TaYPaxcBAAAAMwAAAAYHAA=='];
/** One ROW transaction as the decoder prints it (comments, a GTID, START, a BINLOG of row events, COMMIT). */
const rowTx = (seq: number) => [
  `# at ${seq * 100}`,
  `#261202  5:02:05 server id 1  end_log_pos ${seq * 100 + 42} CRC32 0x7fb0ffa5 \tGTID 0-1-${seq} trans`,
  `/*M!100001 SET @@session.gtid_seq_no=${seq}*//*!*/;`,
  'START TRANSACTION',
  '/*!*/;',
  "BINLOG '",
  ...B64,
  "'/*!*/;",
  'COMMIT/*!*/;',
];
const file = (...block: string[]) => Buffer.from([...HEAD, ...block, ...TAIL].join('\n'), 'latin1');
const lines = (b: Buffer | undefined) => b?.toString('latin1').split('\n');

describe('salvage statement batches (pure)', () => {
  it('joins a transaction up to its BINLOG, then the COMMIT with the next one; outside the block nothing moves', () => {
    const out = lines(batchStatements(file('SET TIMESTAMP=1796187725/*!*/;', ...rowTx(4), ...rowTx(5))))!;
    expect(out).toEqual(
      [
        ...HEAD,
        'SET TIMESTAMP=1796187725;',
        '/*M!100001 SET @@session.gtid_seq_no=4*/;',
        'START TRANSACTION\n;',
        "BINLOG '",
        ...B64,
        "'/*!*/;",
        'COMMIT;',
        '/*M!100001 SET @@session.gtid_seq_no=5*/;',
        'START TRANSACTION\n;',
        "BINLOG '",
        ...B64,
        "'/*!*/;",
        'COMMIT/*!*/;',
        ...TAIL,
      ].flatMap((l) => l.split('\n')),
    );
  });

  it('leaves a client command alone, and a DDL ends its batch', () => {
    const out = lines(
      batchStatements(
        file(
          'SET @@session.lc_time_names=0/*!*/;',
          '/*!\\C utf8mb3 *//*!*/;',
          'SET @@session.collation_database=DEFAULT/*!*/;',
          'ALTER TABLE salvage.t ADD INDEX tag_x (tag)',
          '/*!*/;',
          'COMMIT/*!*/;',
        ),
      ),
    );
    expect(out?.slice(2, -TAIL.length)).toEqual([
      'SET @@session.lc_time_names=0/*!*/;',
      '/*!\\C utf8mb3 *//*!*/;',
      'SET @@session.collation_database=DEFAULT;',
      'ALTER TABLE salvage.t ADD INDEX tag_x (tag)',
      '/*!*/;',
      'COMMIT/*!*/;',
    ]);
  });

  it('from a statement that quotes anything, the file is applied as printed (a literal may hold the delimiter)', () => {
    const quoted = ["INSERT INTO salvage.t VALUES (1, 'a", 'COMMIT/*!*/;', "b\xff\x00')", '/*!*/;'];
    const printed = file(...rowTx(4), 'SET TIMESTAMP=1/*!*/;', ...quoted, ...rowTx(5));
    const out = lines(batchStatements(printed))!;
    const from = out.indexOf(quoted[0]!);
    expect(out.slice(from)).toEqual(lines(printed)!.slice(lines(printed)!.indexOf(quoted[0]!)));
    expect(out.slice(0, from)).toContain('SET TIMESTAMP=1/*!*/;'); // the statement before it ends its batch
    expect(out.slice(0, from)).toContain('START TRANSACTION\n;'.split('\n')[0]);
    // Bytes pass through unchanged (latin1 both ways).
    expect(batchStatements(printed)!.includes(Buffer.from([0xff, 0x00]))).toBe(true);
  });

  it('a BINLOG holding anything but base64 ends the batching there', () => {
    const printed = file(...rowTx(4), "BINLOG '", "not base64 ' ; --", "'/*!*/;", ...rowTx(5));
    const out = lines(batchStatements(printed))!;
    expect(out.slice(out.indexOf("not base64 ' ; --") - 1, out.indexOf("not base64 ' ; --") + 2)).toEqual([
      "BINLOG '",
      "not base64 ' ; --",
      "'/*!*/;",
    ]);
    expect(out.filter((l) => l === 'COMMIT/*!*/;')).toHaveLength(2); // both as printed: nothing joined after it
  });

  it('batches stay under the size cap (a statement larger than it goes alone)', () => {
    const many = Array.from({ length: 40 }, (_, i) => `SET @@session.pseudo_thread_id=${i}/*!*/;`);
    const out = lines(batchStatements(file(...many, 'COMMIT/*!*/;'), 120))!;
    const batches = out
      .slice(2, -TAIL.length)
      .join('\n')
      .split('/*!*/;')
      .filter((b) => b.trim());
    expect(batches.length).toBeGreaterThan(5);
    for (const b of batches) expect(b.length).toBeLessThanOrEqual(120);
    expect(batches.join('').match(/pseudo_thread_id=/g)).toHaveLength(40);
  });

  it('no delimiter block, or nothing to join: undefined (applied as printed)', () => {
    expect(batchStatements(Buffer.from('SELECT 1;\n'))).toBeUndefined();
    expect(batchStatements(file("BINLOG '", ...B64, "'/*!*/;"))).toBeUndefined();
  });
});

// Reading a log page by page: every event once and in order, the next page asked for before a whole page is
// handed on (the server reads it meanwhile), none asked for ahead after a caller's small first page, and a
// page asked for ahead and then not wanted never surfaces as an error.
import { describe, expect, it } from 'vitest';
import { PAGE_ROWS, scanLogFile } from '../../src/binlog/log-reader.js';
import type { LogEvent } from '../../src/binlog/binlog-events.js';
import { dialectFor } from '../../src/dialect/dialect.js';
import type { SqlConnection } from '../../src/topology/connection.js';

const d = dialectFor({ flavor: 'mariadb', major: 10, minor: 11, patch: 19, text: '10.11.19-MariaDB' });

/** A binlog of `n` events of 100 bytes from position 4, answered page by page as the server would. */
function logConn(n: number, failFrom?: number) {
  const sent: string[] = [];
  let handedOn = 0;
  const asked: number[] = [];
  const conn: SqlConnection = {
    name: 'db2',
    async query(sql) {
      sent.push(sql);
      asked.push(handedOn);
      const m = /FROM (\d+) LIMIT (\d+), (\d+)$/.exec(sql)!;
      const [from, skip, rows] = [Number(m[1]), Number(m[2]), Number(m[3])];
      if (failFrom !== undefined && from >= failFrom) throw new Error('Lost connection to server during query');
      const first = (from - 4) / 100 + skip;
      return Array.from({ length: Math.max(0, Math.min(rows, n - first)) }, (_, k) => {
        const pos = 4 + (first + k) * 100;
        return {
          Log_name: 'mysql-bin.000001',
          Pos: pos,
          Event_type: 'Query',
          Server_id: 1,
          End_log_pos: pos + 100,
          Info: `e${first + k}`,
        };
      });
    },
    async close() {},
  };
  return { conn, sent, asked, seen: () => handedOn++ };
}

describe('scanLogFile', () => {
  it('hands on every event once, in order, asking for the next page before handing on a whole one', async () => {
    const n = 2 * PAGE_ROWS + 123;
    const c = logConn(n);
    const got: string[] = [];
    const done = await scanLogFile(conn(c), d, 'binlog', 'mysql-bin.000001', (e: LogEvent) => {
      c.seen();
      got.push(e.info);
    });
    expect(done).toBe(true);
    expect(got).toEqual(Array.from({ length: n }, (_, i) => `e${i}`));
    expect(c.sent).toHaveLength(3);
    // Page 2 was asked for before page 1's first event was handed on; page 3 before page 2's.
    expect(c.asked).toEqual([0, 0, PAGE_ROWS]);
  });

  it('asks for nothing ahead after a small first page, and stops where the caller stops', async () => {
    const c = logConn(3 * PAGE_ROWS);
    const got: string[] = [];
    await scanLogFile(conn(c), d, 'relay', 'relay-bin.000002', (e) => (got.push(e.info), got.length === 20), {
      firstPageRows: 20,
    });
    expect(got).toHaveLength(20);
    expect(c.sent).toHaveLength(1);
  });

  it('a page asked for ahead that fails, after the caller stopped, is never an error', async () => {
    const c = logConn(3 * PAGE_ROWS, 4 + PAGE_ROWS * 100 - 100);
    const unhandled: unknown[] = [];
    const on = (r: unknown) => unhandled.push(r);
    process.on('unhandledRejection', on);
    try {
      const stop = await scanLogFile(conn(c), d, 'binlog', 'mysql-bin.000001', (e) => e.info === 'e10');
      expect(stop).toBe(true);
      expect(c.sent).toHaveLength(2);
      await new Promise((r) => setTimeout(r, 20));
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', on);
    }
  });

  it('a page that fails while wanted fails the read', async () => {
    const c = logConn(3 * PAGE_ROWS, 4 + PAGE_ROWS * 100 - 100);
    await expect(scanLogFile(conn(c), d, 'binlog', 'mysql-bin.000001', () => undefined)).rejects.toThrow(
      /Lost connection/,
    );
  });
});

const conn = (c: { conn: SqlConnection }) => c.conn;

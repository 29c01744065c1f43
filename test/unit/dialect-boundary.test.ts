// Every replication statement is spelled in src/dialect only: a rename in some server version must be a
// change to one module, never a hunt through the code base.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '../..');
const REPLICATION_SQL = [
  /\b(START|STOP|RESET|SHOW|CHANGE)\s+(ALL\s+)?(SLAVES?|MASTER|REPLICAS?|REPLICATION|BINARY\s+LOGS?|BINLOG|RELAYLOG)\b/,
  /\b(MASTER|SOURCE)_(POS_WAIT|GTID_WAIT|HOST|PORT|USER|PASSWORD|AUTO_POSITION|USE_GTID|LOG_FILE|LOG_POS)\b/,
  /\bWAIT_FOR_EXECUTED_GTID_SET\b|\bSQL_AFTER_GTIDS\b|\b(super_)?read_only\s*=/i,
  /@@(global\.)?(gtid_\w+|log_slave_updates|log_replica_updates)/,
];

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}

describe('dialect boundary', () => {
  it('no replication statement is built outside src/dialect', () => {
    const offenders: string[] = [];
    for (const f of [...files(join(ROOT, 'src')), ...files(join(ROOT, 'bin'))]) {
      if (f.includes(`${join('src', 'dialect')}`)) continue;
      readFileSync(f, 'utf8')
        .split('\n')
        .forEach((line, i) => {
          const code = line.replace(/^\s*(\/\/|\/?\*).*$/, ''); // comments may name statements
          if (REPLICATION_SQL.some((re) => re.test(code)))
            offenders.push(`${relative(ROOT, f)}:${i + 1}: ${line.trim()}`);
        });
    }
    expect(offenders).toEqual([]);
  });

  it('the check itself catches a statement written outside the dialect', () => {
    expect(REPLICATION_SQL.some((re) => re.test("await conn.query('STOP SLAVE IO_THREAD')"))).toBe(true);
    expect(REPLICATION_SQL.some((re) => re.test('`SHOW RELAYLOG EVENTS IN ${f}`'))).toBe(true);
    expect(REPLICATION_SQL.some((re) => re.test('`SELECT MASTER_GTID_WAIT(${x}, 5)`'))).toBe(true);
    expect(REPLICATION_SQL.some((re) => re.test("const sql = 'SET GLOBAL read_only = 1'"))).toBe(true);
  });
});

import { describe, expect, it } from 'vitest';
import { compareCoordinates, fileIndex } from '../../src/binlog/coordinates.js';
import {
  compareGtidPos,
  countAhead,
  describeMissing,
  formatGtidPos,
  parseGtidPos,
} from '../../src/binlog/mariadb-gtid.js';

describe('binlog coordinates', () => {
  it.each([
    [['mysql-bin.000009', 500], ['mysql-bin.000010', 4], -1],
    [['mysql-bin.999999', 9], ['mysql-bin.1000000', 4], -1], // string order would say the opposite
    [['mysql-bin.000010', 120], ['mysql-bin.000010', 120], 0],
    [['mysql-bin.000010', 121], ['mysql-bin.000010', 120], 1],
  ] as const)('%j vs %j -> %i', (a, b, sign) => {
    expect(Math.sign(compareCoordinates({ file: a[0], position: a[1] }, { file: b[0], position: b[1] }))).toBe(sign);
  });

  it('refuses a file name without a numeric suffix', () => {
    expect(() => fileIndex('mysql-bin')).toThrow(/numeric suffix/);
  });
});

describe('MariaDB GTID positions', () => {
  it('parses, keeps the highest seq per domain and prints sorted', () => {
    expect(formatGtidPos(parseGtidPos(' 1-3-20, 0-1-1500 '))).toBe('0-1-1500,1-3-20');
    expect(parseGtidPos('').size).toBe(0);
    expect(() => parseGtidPos('0-1')).toThrow(/not a MariaDB GTID/);
  });

  it.each([
    ['0-1-100', '0-1-100', 'equal'],
    ['0-1-101', '0-1-100', 'ahead'],
    ['0-1-99', '0-1-100', 'behind'],
    ['0-1-100,1-2-5', '0-1-100', 'ahead'],
    ['0-1-100', '0-1-90,1-2-5', 'diverged'],
    ['0-1-100', '0-4-100', 'diverged'],
    ['', '', 'equal'],
  ])('%s vs %s -> %s', (a, b, rel) => {
    expect(compareGtidPos(parseGtidPos(a), parseGtidPos(b))).toBe(rel);
  });

  it('describes and counts what one position has beyond another', () => {
    expect(describeMissing(parseGtidPos('0-1-120,1-2-7'), parseGtidPos('0-1-100'))).toEqual([
      '0-1-101..120',
      '1-2-1..7',
    ]);
    expect(describeMissing(parseGtidPos('0-4-15'), parseGtidPos('0-1-14'))).toEqual(['0-4-15']);
    expect(countAhead(parseGtidPos('0-1-120,1-2-7'), parseGtidPos('0-1-100'))).toBe(27);
    expect(countAhead(parseGtidPos('0-1-100'), parseGtidPos('0-1-120'))).toBe(0);
  });

  it('relations are antisymmetric (property check over random positions)', () => {
    let seed = 12345;
    const rnd = (n: number) => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % n;
    const flip = { equal: 'equal', ahead: 'behind', behind: 'ahead', diverged: 'diverged' } as const;
    for (let i = 0; i < 500; i++) {
      const gen = () => Array.from({ length: rnd(3) }, (_, d) => `${d}-${1 + rnd(2)}-${1 + rnd(5)}`).join(',');
      const a = parseGtidPos(gen());
      const b = parseGtidPos(gen());
      expect(compareGtidPos(b, a)).toBe(flip[compareGtidPos(a, b)]);
      if (compareGtidPos(a, b) === 'ahead') expect(countAhead(a, b)).toBeGreaterThan(0);
    }
  });
});

describe('remote commands', () => {
  it('quote every argument so nothing reaches a shell unquoted', async () => {
    const { shellQuote, sshArgs } = await import('../../src/vip/remote.js');
    expect(shellQuote('eth0')).toBe('eth0');
    expect(shellQuote(`it's "$(rm -rf /)"; \`x\` a b`)).toBe(`'it'\\''s "$(rm -rf /)"; \`x\` a b'`);
    const args = sshArgs(
      {
        name: 'h',
        host: 'h',
        port: 3306,
        user: 'u',
        password: 'secret',
        ssh: { host: 'db 1', user: 'root', port: 22, options: ['A=b'] },
      },
      ['sh', '-c', 'echo "$1"', 'x', `y'z`],
      3,
    );
    expect(args.slice(-3)).toEqual(['--', 'db 1', `sh -c 'echo "$1"' x 'y'\\''z'`]);
    expect(args.join(' ')).not.toContain('secret');
  });
});

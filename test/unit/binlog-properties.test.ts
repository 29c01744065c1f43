// Property tests: binlog coordinates order and MySQL GTID-set algebra hold for any input, not just examples.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compareCoordinates, fileIndex } from '../../src/binlog/coordinates.js';
import {
  contains,
  count,
  equals,
  formatGtidSet,
  parseGtidSet,
  subtract,
  union,
  type GtidSet,
} from '../../src/binlog/mysql-gtid-set.js';

const coords = fc.record({
  file: fc.integer({ min: 1, max: 2_000_000 }).map((n) => `mysql-bin.${String(n).padStart(6, '0')}`),
  position: fc.integer({ min: 4, max: 2 ** 40 }),
});

describe('binlog coordinates (properties)', () => {
  it('order by file number, then position: antisymmetric, transitive, and never by string', () => {
    fc.assert(
      fc.property(coords, coords, coords, (a, b, c) => {
        expect(Math.sign(compareCoordinates(a, b))).toBe(-Math.sign(compareCoordinates(b, a)));
        if (compareCoordinates(a, b) <= 0 && compareCoordinates(b, c) <= 0)
          expect(compareCoordinates(a, c)).toBeLessThanOrEqual(0);
        const expected =
          fileIndex(a.file) !== fileIndex(b.file) ? fileIndex(a.file) - fileIndex(b.file) : a.position - b.position;
        expect(Math.sign(compareCoordinates(a, b))).toBe(Math.sign(expected));
      }),
    );
  });
});

const UUIDS = [
  '3e11fa47-71ca-11e1-9e33-c80aa9429562',
  'ad9f1b2c-0000-11e1-8000-000000000001',
  'ffffffff-ffff-ffff-ffff-ffffffffffff',
];
/** Sets as plain lists of (uuid, n) pairs, so expectations are computed independently of the intervals code. */
const members = fc.array(fc.tuple(fc.constantFrom(...UUIDS), fc.integer({ min: 1, max: 60 })), { maxLength: 40 });
const toText = (m: [string, number][]) => m.map(([u, n]) => `${u}:${n}`).join(',');
const has = (s: GtidSet, u: string, n: number) => (s.get(u) ?? []).some(([a, b]) => a <= n && n <= b);
const uniq = (m: [string, number][]) => new Set(m.map(([u, n]) => `${u}:${n}`));

describe('MySQL GTID sets (properties)', () => {
  it('parse merges into sorted, disjoint intervals; format prints what parse reads back', () => {
    fc.assert(
      fc.property(members, (m) => {
        const s = parseGtidSet(toText(m));
        expect(count(s)).toBe(uniq(m).size);
        for (const v of s.values())
          for (let i = 1; i < v.length; i++) expect(v[i]![0]).toBeGreaterThan(v[i - 1]![1] + 1);
        expect(equals(parseGtidSet(formatGtidSet(s)), s)).toBe(true);
        expect(formatGtidSet(parseGtidSet(formatGtidSet(s)))).toBe(formatGtidSet(s));
      }),
    );
  });

  it('union, subtract and contains agree with plain set membership', () => {
    fc.assert(
      fc.property(members, members, (ma, mb) => {
        const a = parseGtidSet(toText(ma));
        const b = parseGtidSet(toText(mb));
        const u = union(a, b);
        const d = subtract(a, b);
        for (const uuid of UUIDS) {
          for (let n = 1; n <= 60; n++) {
            expect(has(u, uuid, n)).toBe(has(a, uuid, n) || has(b, uuid, n));
            expect(has(d, uuid, n)).toBe(has(a, uuid, n) && !has(b, uuid, n));
          }
        }
        expect(contains(u, a) && contains(u, b)).toBe(true);
        expect(contains(a, b)).toBe([...uniq(mb)].every((x) => uniq(ma).has(x)));
        expect(count(union(d, b))).toBe(count(u));
      }),
    );
  });

  it('reads the server format (upper case, line breaks, single numbers) and rejects garbage', () => {
    const s = parseGtidSet('3E11FA47-71CA-11E1-9E33-C80AA9429562:1-5:7,\nad9f1b2c-0000-11e1-8000-000000000001:3');
    expect(formatGtidSet(s)).toBe('3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5:7,ad9f1b2c-0000-11e1-8000-000000000001:3');
    expect(() => parseGtidSet('0-1-5')).toThrow(/not a MySQL GTID/);
    expect(() => parseGtidSet('3e11fa47-71ca-11e1-9e33-c80aa9429562:9-3')).toThrow(/interval/);
  });
});

// MMM's balanced reader role: where each reader VIP goes, table-driven.
import { describe, expect, it } from 'vitest';
import { assignReaders } from '../../src/algorithm/reader-vips.js';

const A = '10.0.0.201/24';
const B = '10.0.0.202/24';
const C = '10.0.0.203/24';
const placed = (moves: ReturnType<typeof assignReaders>) =>
  Object.fromEntries(moves.map((m) => [m.vip, { to: m.to ?? null, remove: m.remove, stays: m.stays }]));

describe('assignReaders', () => {
  it('spreads unplaced VIPs evenly in config order', () => {
    expect(placed(assignReaders([A, B, C], ['db2', 'db3'], new Map(), 'db1'))).toEqual({
      [A]: { to: 'db2', remove: [], stays: false },
      [B]: { to: 'db3', remove: [], stays: false },
      [C]: { to: 'db2', remove: [], stays: false },
    });
  });
  it('keeps a VIP on a holder that still qualifies (clients keep their connections)', () => {
    const m = assignReaders(
      [A, B],
      ['db2', 'db3', 'db4'],
      new Map([
        [A, ['db4']],
        [B, ['db3']],
      ]),
      'db1',
    );
    expect(placed(m)).toEqual({
      [A]: { to: 'db4', remove: [], stays: true },
      [B]: { to: 'db3', remove: [], stays: true },
    });
  });
  it('moves a VIP off a dead, lagging or offline holder, and off the writer', () => {
    const m = assignReaders(
      [A, B],
      ['db3', 'db4'],
      new Map([
        [A, ['db2']],
        [B, ['db1']],
      ]),
      'db1',
    );
    expect(placed(m)).toEqual({
      [A]: { to: 'db3', remove: ['db2'], stays: false },
      [B]: { to: 'db4', remove: ['db1'], stays: false },
    });
  });
  it('rebalances a host holding more than its share', () => {
    const m = assignReaders(
      [A, B],
      ['db2', 'db3'],
      new Map([
        [A, ['db2']],
        [B, ['db2']],
      ]),
      'db1',
    );
    expect(placed(m)).toEqual({
      [A]: { to: 'db2', remove: [], stays: true },
      [B]: { to: 'db3', remove: ['db2'], stays: false },
    });
  });
  it('a VIP on two hosts ends on one', () => {
    const m = assignReaders([A], ['db2', 'db3'], new Map([[A, ['db2', 'db3']]]), 'db1');
    expect(placed(m)).toEqual({ [A]: { to: 'db2', remove: ['db3'], stays: true } });
  });
  it('no replica qualifies: every reader VIP on the writer', () => {
    const m = assignReaders([A, B], [], new Map([[A, ['db2']]]), 'db1');
    expect(placed(m)).toEqual({
      [A]: { to: 'db1', remove: ['db2'], stays: false },
      [B]: { to: 'db1', remove: [], stays: false },
    });
  });
  it('no writer and no replica: removed from wherever it is, placed nowhere', () => {
    expect(placed(assignReaders([A], [], new Map([[A, ['db2']]]), undefined))).toEqual({
      [A]: { to: null, remove: ['db2'], stays: false },
    });
  });
});

// `mmmf roles` (and offline/online) planned from fixture states: reader VIP moves, replication untouched.
import { describe, expect, it } from 'vitest';
import { buildRolesPlan, type RolesInput } from '../../src/algorithm/build-roles-plan.js';
import type { Plan } from '../../src/algorithm/plan-types.js';
import type { HostState } from '../../src/domain/server-state.js';
import { unitConfig } from './fixture-config.js';
import { dead, master, replica } from './fixture-states.js';

const A = '10.0.0.201/24';
const B = '10.0.0.202/24';
const config = unitConfig(4, {
  vip: { address: '10.0.0.100/24', interface: 'eth0', readers: [A, B], readerMaxLagSeconds: 30 },
});
/** A replica of db1 that replicates without error, lag 0. */
const healthy = (i: number) => replica(i, 100, { ioRunning: 'Yes', lastIoError: '', secondsBehind: 0 });
const cluster = (): HostState[] => [master(1), healthy(2), healthy(3), healthy(4)];
/** The writer VIP is on the master (db1) unless a test says otherwise. */
const W = '10.0.0.100/24';
const input = (byVip: [string, string[]][], o: Partial<RolesInput> = {}): RolesInput => ({
  holders: { byVip: new Map([[W, ['db1']], ...byVip]), unknown: [] },
  offline: [],
  command: 'roles',
  ...o,
});
const planOf = (states: HostState[], i: RolesInput): Plan => {
  const o = buildRolesPlan(config, states, i);
  if (!o.ok) throw new Error(`refused: ${o.headline}: ${o.refusals.join('; ')}`);
  return o.value;
};
const moves = (p: Plan) => p.steps.map((s) => `${s.host}: ${s.title}`);

describe('roles planning (pure)', () => {
  it('spreads the reader VIPs over qualifying replicas and takes one off the writer', () => {
    const plan = planOf(
      cluster(),
      input([
        [A, []],
        [B, ['db1']],
      ]),
    );
    expect([plan.kind, plan.target]).toEqual(['roles', 'db1']);
    expect(moves(plan)).toEqual([
      `db2: Add the reader VIP ${A} and announce it (gratuitous ARP)`,
      `db1: Remove the reader VIP ${B}`,
      `db3: Add the reader VIP ${B} and announce it (gratuitous ARP)`,
    ]);
    // A reader VIP never blocks anything: every step only warns.
    expect(plan.steps.every((s) => s.phase === 'readers' && s.onFailure === 'warn')).toBe(true);
    expect(plan.hosts.map((h) => `${h.name} ${h.role}: ${h.note}`)).toEqual([
      'db1 old-master: holds no reader VIP: the writer (holds reader VIPs only when no replica qualifies)',
      `db2 replica: holds ${A}`,
      `db3 replica: holds ${B}`,
      'db4 replica: holds no reader VIP',
    ]);
  });

  it('keeps an offline host out, and moves its VIP away', () => {
    const plan = planOf(
      cluster(),
      input(
        [
          [A, ['db2']],
          [B, ['db3']],
        ],
        { offline: ['db2'], command: 'offline db2' },
      ),
    );
    expect(moves(plan)).toEqual([
      `db2: Remove the reader VIP ${A}`,
      `db4: Add the reader VIP ${A} and announce it (gratuitous ARP)`,
    ]);
    expect(plan.hosts.find((h) => h.name === 'db2')?.note).toBe(
      'holds no reader VIP: offline (mmmf online to bring it back)',
    );
  });

  it('has nothing to do when every VIP is on exactly one qualifying replica; says which hosts it could not ask', () => {
    const plan = planOf(cluster(), {
      ...input([
        [A, ['db2']],
        [B, ['db3']],
      ]),
      holders: {
        byVip: new Map([
          [W, ['db1']],
          [A, ['db2']],
          [B, ['db3']],
        ]),
        unknown: ['db4'],
      },
    });
    expect([plan.steps, plan.nothingToDo]).toEqual([[], 'every VIP is where it belongs: nothing to do.']);
    expect(plan.warnings).toEqual([expect.stringMatching(/^not reachable over SSH, so not checked for VIPs: db4/)]);
  });

  it('a lagging or broken replica holds no reader VIP; the writer holds them when none qualifies', () => {
    const lagging = replica(2, 100, { ioRunning: 'Yes', lastIoError: '', secondsBehind: 99 });
    const stopped = replica(3, 100, { ioRunning: 'No', lastIoError: '', sqlRunning: false });
    const plan = planOf(
      [master(1), lagging, stopped, dead(4)],
      input([
        [A, ['db2']],
        [B, []],
      ]),
    );
    expect(moves(plan)).toEqual([
      `db2: Remove the reader VIP ${A}`,
      `db1: Add the reader VIP ${A} and announce it (gratuitous ARP)`,
      `db1: Add the reader VIP ${B} and announce it (gratuitous ARP)`,
    ]);
    expect(plan.hosts.map((h) => h.note).slice(1)).toEqual([
      'holds no reader VIP: lags 99 s (limit 30 s)',
      'holds no reader VIP: replication not running (IO No, SQL No)',
      'holds no reader VIP: unreachable',
    ]);
  });

  it('the writer VIP: off every other host first, then on the master; an unasked host blocks the add', () => {
    const moved = planOf(
      cluster(),
      input([
        [W, ['db2']],
        [A, ['db2']],
        [B, ['db3']],
      ]),
    );
    expect(moves(moved)).toEqual([
      'db2: Remove the writer VIP',
      'db1: Add the writer VIP on db1 and announce it (gratuitous ARP)',
    ]);
    const add = moved.steps[1];
    expect(add?.after).toEqual([moved.steps[0]?.n]);
    const unasked = planOf(cluster(), {
      ...input([
        [W, []],
        [A, ['db2']],
        [B, ['db3']],
      ]),
      holders: {
        byVip: new Map([
          [W, []],
          [A, ['db2']],
          [B, ['db3']],
        ]),
        unknown: ['db4'],
      },
    });
    expect(moves(unasked)).toEqual([
      'db4: Remove the writer VIP',
      'db1: Add the writer VIP on db1 and announce it (gratuitous ARP)',
    ]);
  });

  it('refuses without any VIP, or without a writable master to place them around', () => {
    expect(buildRolesPlan(unitConfig(4), cluster(), input([]))).toEqual({
      ok: false,
      headline: 'roles: no VIP configured',
      refusals: [
        "add vip: { address, interface, readers: ['10.0.0.201/24', ...] } to the config (see README, Writer VIP)",
      ],
    });
    expect(buildRolesPlan(config, [dead(1), healthy(2), healthy(3)], input([]))).toEqual({
      ok: false,
      headline: "roles: no reachable writable master: reader VIPs are placed by the master's replicas",
      refusals: [
        "the replicas' master db1 does not answer or is read-only",
        'fail over first (mmmf --failover-to ...), then run mmmf roles',
      ],
    });
  });
});

// `mmmf rejoin NAME` planned from fixture states: a former master (db1) comes back after a failover to db2.
import { describe, expect, it } from 'vitest';
import { buildRejoinPlan, partiesHoldingExtra } from '../../src/algorithm/build-rejoin-plan.js';
import type { Plan } from '../../src/algorithm/plan-types.js';
import type { HostState, ReplicaStatus } from '../../src/domain/server-state.js';
import { unitConfig } from './fixture-config.js';
import { dead, master, replica } from './fixture-states.js';

const config = unitConfig(4);
/** The master after the failover: it wrote 0-2-1..20 on top of db1's 0-1-1..100. */
const db2 = (o: Partial<HostState> = {}): HostState => ({
  ...master(2),
  gtidBinlog: '0-2-20',
  gtidBinlogState: '0-1-100,0-2-20',
  gtidCurrent: '0-2-20',
  ...o,
});
/** A replica of db2, running. */
const follower = (i: number, o: Partial<ReplicaStatus> = {}) =>
  replica(i, 100, { sourceHost: '10.0.0.2', ioRunning: 'Yes', lastIoError: '', ...o });
/** db1 back from the dead: writable, holding what it wrote (up to 0-1-100) and no replication. */
const returned = (o: Partial<HostState> = {}): HostState => ({
  ...master(1),
  gtidBinlog: '0-1-100',
  gtidBinlogState: '0-1-100',
  ...o,
});
const cluster = (db1: HostState, o: { master?: Partial<HostState>; follower?: Partial<ReplicaStatus> } = {}) => [
  db1,
  db2(o.master),
  follower(3, o.follower),
  follower(4, o.follower),
];
const steps = (p: Plan) => p.steps.map((s) => `${s.n} ${s.phase} ${s.host} after [${s.after}]: ${s.title}`);
const planOf = (states: HostState[], name = 'db1', c = config, published?: string): Plan => {
  const o = buildRejoinPlan(c, states, name, published);
  if (!o.ok) throw new Error(`refused: ${o.headline}: ${o.refusals.join('; ')}`);
  return o.value;
};

describe('rejoin planning (pure)', () => {
  it('a delayed replica keeps its delay and is not waited for (chaos seed 70293: every rejoin of one timed out)', () => {
    const delayed = replica(1, 100, {
      sourceHost: '10.0.0.9',
      ioRunning: 'No',
      sqlRunning: false,
      lastIoError: '',
      sqlDelay: 3600,
    });
    const plan = planOf([delayed, db2(), follower(3), follower(4)]);
    const verify = plan.steps.find((s) => s.action.kind === 'verify-replica' && s.host === 'db1')!;
    expect(verify.action).toMatchObject({ delayed: true });
    expect(verify.sql[1]).toBe('-- not waited for: it keeps its delay of 3600 s and applies behind on purpose');
    const undelayed = planOf([
      { ...delayed, replica: { ...delayed.replica!, sqlDelay: 0 } },
      db2(),
      follower(3),
      follower(4),
    ]);
    expect(undelayed.steps.find((s) => s.action.kind === 'verify-replica')!.action).not.toHaveProperty('delayed');
  });

  it('fences the returning host, re-checks it holds nothing the master lacks, then makes it a replica by GTID', () => {
    const plan = planOf(cluster(returned()));
    expect([plan.kind, plan.target, plan.oldMaster.name, plan.positioning]).toEqual(['rejoin', 'db1', 'db2', 'gtid']);
    expect(steps(plan)).toEqual([
      '1 fence db1 after []: Make it read-only',
      '2 fence db1 after [1]: Kill its client connections',
      '3 confirm db1 after [2]: Confirm db2 holds everything db1 has',
      '4 repoint db1 after [3]: Replicate from db2',
      '5 verify db1 after [4]: Verify it replicates from db2',
    ]);
    // A former master continues from gtid_current_pos: its own writes are in its binlog, not in gtid_slave_pos.
    expect(plan.steps[3]!.sql).toEqual([
      'STOP SLAVE',
      "CHANGE MASTER TO MASTER_HOST = '10.0.0.2', MASTER_PORT = 3306, MASTER_USER = 'repl', " +
        "MASTER_PASSWORD = '<redacted>', MASTER_USE_GTID = current_pos",
      'SET GLOBAL read_only = ON',
      'START SLAVE',
    ]);
    expect(plan.hosts.map((h) => `${h.name} ${h.role}`)).toEqual([
      'db1 target',
      'db2 old-master',
      'db3 outside',
      'db4 outside',
    ]);
  });

  it('by file (the cluster replicates by file): finds its last transaction in the master binlog first', () => {
    const plan = planOf(cluster(returned(), { follower: { gtidMode: 'No' } }), 'db1', {
      ...config,
      positioning: 'auto',
    });
    expect(plan.positioning).toBe('file');
    expect(steps(plan).slice(3)).toEqual([
      "4 map db1 after [3]: Find its last transaction in db2's binlog",
      '5 repoint db1 after [3,4]: Replicate from db2',
      '6 verify db1 after [5]: Verify it replicates from db2',
    ]);
    expect(plan.steps[4]!.sql[1]).toMatch(
      /MASTER_LOG_FILE = '<file from step 4>', MASTER_LOG_POS = <pos from step 4>, MASTER_USE_GTID = no$/,
    );
  });

  it('a pair: the old active becomes the passive again, and the active replicates from it (circular again)', () => {
    const plan = planOf(cluster(returned({ readOnly: true, replica: follower(1).replica })));
    expect(steps(plan).slice(3)).toEqual([
      '4 repoint db1 after [3]: Replicate from db2',
      '5 verify db1 after [4]: Verify it replicates from db2',
      '6 pair db2 after [5]: Replicate from db1 again (the pair is circular)',
      '7 pair db2 after [6]: Verify it replicates from db1',
    ]);
    // The active stays writable: its link back sets nothing read-only.
    expect(plan.steps[5]!.sql).not.toContain('SET GLOBAL read_only = ON');
    // Switched back to active and killed before it wrote again: its binlog ends with db2's writes, still a partner.
    const idle = returned({ readOnly: true, replica: follower(1).replica, gtidBinlog: '0-2-20' });
    const back = planOf(cluster({ ...idle, gtidBinlogState: '0-1-100,0-2-20' }));
    expect(steps(back).slice(5)).toEqual(steps(plan).slice(5));
  });

  it('a replica a failed run left pointing at the new master joins as a replica: the master is not paired with it', () => {
    // db3 was moved under db2 up to its CHANGE MASTER, then the run failed: its channel names db2, stopped.
    const leftOut = follower(3, { ioRunning: 'No', sqlRunning: false });
    const states = [dead(1), db2(), leftOut, follower(4)];
    const plan = planOf(states, 'db3');
    expect(steps(plan).map((l) => l.split(': ')[1])).toEqual([
      'Make it read-only',
      'Kill its client connections',
      'Confirm db2 holds everything db3 has',
      'Replicate from db2',
      'Verify it replicates from db2',
    ]);
    expect(plan.steps.filter((x) => x.host === 'db2')).toEqual([]);
  });

  it('a former passive left pointing at another promoted replica joins it as a replica, not as a pair (seed 70642)', () => {
    // db1↔db2 was a pair; db2 was active once (0-2-111), then db1 again (up to 0-1-2756). db1 died, db3 (a plain
    // replica) was promoted and wrote 0-3-2757; db2's repoint to db3 failed half-way: its channel names db3.
    const db3 = { ...master(3), gtidBinlog: '0-3-2757', gtidBinlogState: '0-1-2756,0-2-111,0-3-2757' };
    const leftPointing = replica(2, 100, {
      sourceHost: '10.0.0.3',
      sourceAddress: '10.0.0.3:3306',
      ioRunning: 'No',
      sqlRunning: false,
      lastIoError: '',
      state: { gtidBinlog: '0-1-2756', gtidBinlogState: '0-1-2756,0-2-111' },
    });
    const plan = planOf([dead(1), leftPointing, db3, follower(4, { sourceHost: '10.0.0.3' })], 'db2');
    expect(plan.steps.filter((x) => x.host === 'db3')).toEqual([]); // the master replicates from nobody
    expect(plan.hosts.find((h) => h.name === 'db2')!.note).toBe('will replicate from db3, read-only');
    // The old active itself coming back (the last writer before db3's own): that one is the partner.
    const db1Back = { ...leftPointing, name: 'db1', address: '10.0.0.1:3306', serverId: 1 };
    const paired = planOf([db1Back, replica(2, 100, { sourceHost: '10.0.0.3' }), db3], 'db1');
    expect(paired.steps.some((x) => x.host === 'db3' && x.phase === 'pair')).toBe(true);
  });

  it('a replica left under a dead master joins the published one when no replica names it yet (chaos seed 70580)', () => {
    // A failover promoted db2 and published it; db4's repoint failed half-way and db3, delayed, was left stopped
    // by file: both still name db1, which does not answer.
    const stale = (i: number, o: Partial<ReplicaStatus> = {}) =>
      replica(i, 100, { sourceHost: '10.0.0.1', ioRunning: 'No', sqlRunning: false, lastIoError: '', ...o });
    const states = [dead(1), db2(), stale(3, { sqlDelay: 3600 }), stale(4)];
    const refused = buildRejoinPlan(config, states, 'db4');
    expect(refused).toMatchObject({ ok: false, refusals: ['the replicas replicate from db1, which does not answer'] });
    const plan = planOf(states, 'db4', config, 'db2');
    expect([plan.oldMaster.name, plan.steps.at(-1)!.title]).toEqual(['db2', 'Verify it replicates from db2']);
    expect(plan.warnings[0]).toBe(
      'db2 is the master: the run that promoted it published it, and it is the one writable master; the replicas ' +
        'replicate from db1, which does not answer',
    );
    // The record alone is not enough: with a second writable master, or the published one read-only, refused.
    const other = { ...master(3), gtidBinlogState: '0-3-1' };
    for (const s of [
      [dead(1), db2(), other, stale(4)],
      [dead(1), db2({ readOnly: true }), stale(3), stale(4)],
    ]) {
      expect(buildRejoinPlan(config, s, 'db4', 'db2')).toMatchObject({
        ok: false,
        headline: expect.stringMatching(
          /^(no reachable writable master to rejoin db4 to|cannot tell which server is the master)$/,
        ),
      });
    }
  });

  it('nothing to do when it already replicates from the master, read-only, and the pair is circular', () => {
    const back = returned({ readOnly: true, replica: follower(1).replica });
    const plan = planOf(
      cluster(back, {
        master: { replica: { ...follower(2).replica!, sourceHost: '10.0.0.1', sourceAddress: '10.0.0.1:3306' } },
      }),
    );
    expect([plan.steps, plan.nothingToDo]).toEqual([[], 'db1 already replicates from db2, read-only: nothing to do.']);
  });

  it.each([
    ['an unknown host', cluster(returned()), 'db9', 'rejoin db9: no such host in the config', []],
    [
      'a host that does not answer',
      cluster(dead(1)),
      'db1',
      'db1 does not answer (ECONNREFUSED): start it, then run rejoin again',
      [],
    ],
    [
      'no writable master',
      cluster(returned(), { master: { readOnly: true } }),
      'db1',
      'no reachable writable master to rejoin db1 to',
      ['the replicas replicate from db2, which is read-only'],
    ],
    [
      'another flavor',
      cluster(returned({ version: { flavor: 'mysql', major: 8, minor: 0, patch: 40, text: '8.0.40' } })),
      'db1',
      'rejoin db1: only by GTID, between servers of one flavor',
      [
        'db1 is 8.0.40 without GTIDs; db2 is 10.11.19-MariaDB',
        'rebuild it from a backup of the master, or repoint it by hand at a position you have checked',
      ],
    ],
    [
      'a cluster on TLS without replication.ssl',
      cluster(returned(), { follower: { tls: { ca: '/etc/mysql/ca.pem', verifyServerCert: true } } }),
      'db1',
      'rejoin db1: its channel would be the one plaintext channel of the cluster',
      [expect.stringMatching(/^db3, db4 replicate over TLS, db1 has no TLS channel of its own/)],
    ],
  ])('refuses %s', (_, states, name, headline, refusals) => {
    expect(buildRejoinPlan(config, states, name)).toEqual({ ok: false, headline, refusals });
  });

  it('refuses a host holding what the master lacks, and names both for the listing', () => {
    const states = cluster(returned({ gtidBinlogState: '0-1-105', gtidBinlog: '0-1-105' }));
    expect(buildRejoinPlan(config, states, 'db1')).toEqual({
      ok: false,
      headline: 'db1 holds transactions that db2 (the master) does not have: refusing, nothing was changed',
      refusals: ["0-1-101..105 (in db1's binlog, never received by db2)"],
    });
    expect(partiesHoldingExtra(states, 'db1')).toMatchObject({ host: { name: 'db1' }, master: { name: 'db2' } });
    expect(partiesHoldingExtra(cluster(returned()), 'db1')).toBeUndefined();
  });
});

import { describe, expect, it } from 'vitest';
import { unitConfig } from './fixture-config.js';
import { buildAbortPlan } from '../../src/algorithm/build-abort-plan.js';
import { buildFailoverPlan, type FailoverOptions } from '../../src/algorithm/build-failover-plan.js';
import { PHASES, type Plan } from '../../src/algorithm/plan-types.js';
import type { Outcome } from '../../src/domain/outcome.js';
import type { ResolvedConfig } from '../../src/topology/config-types.js';
import type { HostState, ReplicaStatus } from '../../src/domain/server-state.js';
import { dead, master, replica, version } from './fixture-states.js';

const config = unitConfig(4);
/** The plan of a fixture that must be plannable: a refusal fails the test, with its reasons. */
function planned(config: ResolvedConfig, states: HostState[], opts: FailoverOptions): Plan {
  const o = buildFailoverPlan(config, states, opts);
  if (!o.ok) throw new Error(`refused: ${o.refusals.join('; ')}`);
  return o.value;
}
/** Every reason of a refusal, one per line (a plan fails the test). */
const refusalOf = (o: Outcome<unknown>): string => {
  if (o.ok) throw new Error('expected a refusal');
  return o.refusals.join('\n');
};
const refusal = (states: HostState[], target: string): string =>
  refusalOf(buildFailoverPlan(config, states, { target }));

/** db3 with both threads stopped and events left in its relay log (kept by file position when GTID would drop it). */
const bothStopped = () =>
  replica(3, 70, {
    sqlRunning: false,
    ioRunning: 'No',
    lastIoError: '',
    executed: { file: 'mysql-bin.000003', position: 110 },
    relayLog: { file: 'relay-bin.000004', position: 777 },
  });

describe('failover planning (pure)', () => {
  it('dead master, replicas at three positions, target = most lagging: equalize it and the middle one from the best', () => {
    const plan = planned(config, [dead(1), replica(2, 5000), replica(3, 4500), replica(4, 1000)], {
      target: 'db4',
    });
    expect(plan.best).toBe('db2');
    expect(plan.oldMaster).toEqual({ address: '10.0.0.1:3306', name: 'db1', reachable: false });
    // Each step names the steps it needs: the target catches up first and alone, the others only after it, the
    // promotion needs the confirmed best and the target's catch-up, and repointing needs the promotion.
    const summary = plan.steps.map((s) => `${s.n} ${s.phase} ${s.host} after [${s.after.join(',')}]`);
    expect(summary).toEqual([
      '1 stop-io db2 after []',
      '2 stop-io db3 after []',
      '3 stop-io db4 after []',
      '4 drain db2 after [1]',
      '5 drain db3 after [2]',
      '6 drain db4 after [3]',
      '7 stop db2 after [4]',
      '8 stop db3 after [5]',
      '9 stop db4 after [6]',
      '10 confirm db2 after [7]',
      '11 equalize-target db4 after [9,10]',
      '12 equalize db3 after [8,10,11]',
      // Right before the promotion the dead old master is looked at again (fenced if it came back).
      '13 promote db1 after []',
      '14 promote db4 after [10,11,13]',
      '15 repoint db2 after [7,14]',
      '16 repoint db3 after [12,14]',
      '17 verify db2 after [15]',
      '18 verify db3 after [16]',
    ]);
    const eq = plan.steps.find((s) => s.n === 11)!;
    expect(eq.sql[0]).toContain("MASTER_HOST = '10.0.0.2'");
    expect(eq.sql[1]).toBe("START SLAVE UNTIL master_gtid_pos = '<gtid from step 10>'");
    const all = JSON.stringify(plan);
    expect(all).not.toContain('TopSecret');
    expect(all).not.toContain('AdminPw');
    expect(all).toContain("MASTER_PASSWORD = '<redacted>'");
  });

  it('resumes paused SQL threads before stopping IO, keeping a both-stopped relay log by file position', () => {
    const paused = replica(2, 60, { sqlRunning: false, executed: { file: 'mysql-bin.000003', position: 120 } });
    const both = bothStopped();
    const idle = replica(4, 10, { sqlRunning: false, ioRunning: 'No', lastIoError: '' }); // nothing unapplied: left alone
    const plan = planned(config, [dead(1), paused, both, idle], { target: 'db4' });
    const start = plan.steps.filter((s) => s.phase === 'start-sql');
    expect(start.map((s) => [s.host, s.sql])).toEqual([
      ['db2', ['START SLAVE SQL_THREAD']],
      [
        'db3',
        [
          "CHANGE MASTER TO MASTER_USE_GTID = no, RELAY_LOG_FILE = 'relay-bin.000004', RELAY_LOG_POS = 777",
          'START SLAVE SQL_THREAD',
        ],
      ],
    ]);
    // Once its relay log is applied it goes back to GTID positioning: a run that stops early leaves it as found.
    expect(plan.steps.find((s) => s.phase === 'stop' && s.host === 'db3')!.sql).toEqual([
      'STOP SLAVE',
      'CHANGE MASTER TO MASTER_USE_GTID = slave_pos',
    ]);
    expect(plan.steps.find((s) => s.phase === 'stop' && s.host === 'db2')!.sql).toEqual(['STOP SLAVE']);
    expect(plan.steps.find((s) => s.phase === 'drain' && s.host === 'db3')!.action).toEqual({
      kind: 'drain-relay-log',
      trustCoordinates: false,
    });
    expect(Math.max(...start.map((s) => s.n))).toBeLessThan(
      Math.min(...plan.steps.filter((s) => s.phase === 'stop-io').map((s) => s.n)),
    );
  });

  it('by file, a relay log kept by file position stays so: its executed coordinates are what gets mapped (seed 70707)', () => {
    const both = bothStopped();
    // db2 replicates by file (a delay lifted by an earlier run that failed): the run positions by file.
    const byFile = replica(2, 90, { gtidMode: 'No' });
    const plan = planned({ ...config, positioning: 'auto' }, [dead(1), byFile, both, replica(4, 10)], {
      target: 'db4',
    });
    expect(plan.positioning).toBe('file');
    expect(plan.steps.find((s) => s.phase === 'stop' && s.host === 'db3')!.sql).toEqual(['STOP SLAVE']);
    expect(plan.steps.some((s) => s.phase === 'map' && s.host === 'db3')).toBe(true);
  });

  it('ranks by binlog file number, not by string', () => {
    const states = [
      dead(1),
      replica(2, 10, { file: 'mysql-bin.999999' }),
      replica(3, 20, { file: 'mysql-bin.1000000' }),
      replica(4, 5, { file: 'mysql-bin.999999' }),
    ];
    expect(planned(config, states, { target: 'db2' }).best).toBe('db3');
  });

  it("ranks by received GTIDs when CHANGE MASTER has cleared a replica's coordinates", () => {
    const cleared = replica(4, 80, { received: { file: '', position: 0 }, executed: { file: '', position: 0 } });
    expect(planned(config, [dead(1), replica(2, 60), replica(3, 50), cleared], { target: 'db2' }).best).toBe('db4');
  });

  it('a target tied with the best needs no equalization', () => {
    const plan = planned(config, [dead(1), replica(2, 5000), replica(3, 5000), replica(4, 10)], {
      target: 'db3',
    });
    expect(plan.best).toBe('db3');
    expect(plan.steps.filter((s) => s.phase === 'equalize').map((s) => s.host)).toEqual(['db2', 'db4']);
  });

  it('fences a live old master first and pulls its last transactions into the replicas', () => {
    const states = [
      master(1),
      replica(2, 4990, { ioRunning: 'Yes', lastIoError: '' }),
      replica(3, 4000, { ioRunning: 'Yes', lastIoError: '' }),
      replica(4, 1, { ioRunning: 'No', lastIoError: '' }),
    ];
    // Never by accident: a master that answers is refused unless the operator says to fence it.
    expect(refusal(states, 'db3')).toMatch(
      /the old master db1 \(10\.0\.0\.1:3306\) answers: it is alive.*--switchover-to db3.*--fence-live-master/,
    );
    const plan = planned(config, states, { target: 'db3', fenceLiveMaster: true });
    expect(plan.steps.slice(0, 6).map((s) => `${s.phase} ${s.host} ${s.action.kind}`)).toEqual([
      'fence db1 fence-read-only',
      'fence db1 kill-clients',
      'fence db1 record-master-end',
      'catch-up db2 catch-up',
      'catch-up db3 catch-up',
      'catch-up db4 catch-up',
    ]);
    expect(plan.steps[0]!.sql).toEqual(['SET GLOBAL read_only = ON']);
    expect(plan.steps.find((s) => s.phase === 'confirm')!.action).toMatchObject({
      masterEnd: { step: 3, key: 'gtid' },
    });
  });

  it('switchover: the live master is fenced, then becomes a replica of the target from gtid_current_pos', () => {
    const live = { ioRunning: 'Yes', lastIoError: '', secondsBehind: 0 };
    const states = [master(1), replica(2, 5000, live), replica(3, 5000, live), replica(4, 5000, live)];
    const plan = planned(config, states, {
      target: 'db3',
      switchover: { maxLagSeconds: 10, maxTransactionSeconds: 5 },
    });
    expect(plan.kind).toBe('switchover');
    const demote = plan.steps.find((s) => s.phase === 'demote')!;
    expect(demote.host).toBe('db1');
    expect(demote.sql[1]).toMatch(/MASTER_HOST = '10\.0\.0\.3', .*MASTER_USE_GTID = current_pos/);
    expect(plan.steps.filter((s) => s.phase === 'verify').map((s) => s.host)).toEqual(['db2', 'db4', 'db1']);
    const lagging = [
      master(1),
      replica(2, 5000, { ...live, secondsBehind: 99 }),
      replica(3, 5000, live),
      replica(4, 5000, live),
    ];
    expect(
      buildFailoverPlan(config, lagging, { target: 'db3', switchover: { maxLagSeconds: 10, maxTransactionSeconds: 5 } })
        .ok,
    ).toBe(false);
    const busy = [
      { ...master(1), oldestWriteTrxSeconds: 30 },
      replica(2, 5000, live),
      replica(3, 5000, live),
      replica(4, 5000, live),
    ];
    expect(
      refusalOf(
        buildFailoverPlan(config, busy, { target: 'db3', switchover: { maxLagSeconds: 10, maxTransactionSeconds: 5 } }),
      ),
    ).toMatch(/a write transaction has been open on db1 for 30 s/);
  });

  it('a replica that was a master once is positioned from gtid_current_pos', () => {
    const former = replica(4, 10, {
      state: { gtidCurrent: '0-4-20', gtidApplied: '0-1-10', gtidBinlogState: '0-4-20', gtidBinlog: '0-4-20' },
    });
    const other = replica(2, 60, { state: { gtidBinlogState: '0-4-20,0-1-60' } });
    const plan = planned(
      config,
      [dead(1), other, replica(3, 50, { state: { gtidBinlogState: '0-4-20,0-1-50' } }), former],
      { target: 'db3' },
    );
    expect(plan.steps.find((s) => s.phase === 'repoint' && s.host === 'db4')!.sql[1]).toMatch(
      /MASTER_USE_GTID = current_pos/,
    );
    expect(plan.steps.find((s) => s.phase === 'repoint' && s.host === 'db2')!.sql[1]).toMatch(
      /MASTER_USE_GTID = slave_pos/,
    );
  });

  it('with a VIP: fence hook and VIP removal on the dead old master (warnings only), VIP added after promotion, verified last', () => {
    const withVip: ResolvedConfig = {
      ...config,
      vip: { address: '10.0.0.100/24', interface: 'eth0', readers: [], readerMaxLagSeconds: 30 },
      hooks: { fence: '/usr/local/bin/stonith "$MMMF_OLD_MASTER"' },
    };
    const plan = planned(withVip, [dead(1), replica(2, 60), replica(3, 50), replica(4, 10)], {
      target: 'db3',
    });
    const kinds = plan.steps.map((x) => `${x.phase}:${x.action.kind}:${x.host}`);
    expect(kinds.slice(0, 2)).toEqual(['fence:fence-hook:db1', 'fence:vip-remove:db1']);
    expect(plan.steps.slice(0, 2).map((x) => x.onFailure)).toEqual(['warn', 'warn']);
    expect(kinds.indexOf('vip:vip-add:db3')).toBe(kinds.indexOf('promote:promote:db3') + 1);
    expect(kinds.at(-1)).toBe('verify:vip-verify:db3');
    expect(plan.steps[1]!.command![0]).toBe(
      `ssh root@10.0.0.1 sh -c 'if ip -o addr show dev "$1" | grep -qF " $2 "; then ip addr del "$2" dev "$1"; fi' mmmf-vip eth0 10.0.0.100/24`,
    );
  });

  it('numbers steps in the order they run (phase by phase), so the printed runbook reads top to bottom', () => {
    const withVip: ResolvedConfig = {
      ...config,
      vip: { address: '10.0.0.100/24', interface: 'eth0', readers: [], readerMaxLagSeconds: 30 },
    };
    const live = { ioRunning: 'Yes', lastIoError: '', secondsBehind: 0 };
    const plans = [
      planned(withVip, [dead(1), replica(2, 60, { sqlRunning: false }), replica(3, 50), replica(4, 10)], {
        target: 'db4',
      }),
      planned(withVip, [master(1), replica(2, 60, live), replica(3, 60, live), replica(4, 60, live)], {
        target: 'db2',
        switchover: { maxLagSeconds: 10, maxTransactionSeconds: 5 },
      }),
    ];
    for (const plan of plans) {
      const order = plan.steps.map((x) => PHASES.findIndex((p) => p.id === x.phase));
      expect(order).toEqual([...order].sort((x, y) => x - y));
    }
  });

  it('refuses when the old master looks alive to a replica but not to mmmf', () => {
    expect(
      refusal([dead(1), replica(2, 50, { ioRunning: 'Yes', lastIoError: '' }), replica(3, 50), replica(4, 50)], 'db3'),
    ).toMatch(/probably alive/);
  });

  it('refuses while a second master is writable (a revived old server), naming it and the way out', () => {
    const revived = { ...master(4), serverId: 9, gtidBinlog: '0-9-12' };
    const r = refusal([dead(1), replica(2, 5000), replica(3, 4500), revived], 'db2');
    expect(r).toMatch(/db4 is a second master \(writable, replicates from nobody\)/);
    expect(r).toMatch(/mmmf rejoin db4 --cfg fixture --dry-run/);
    // Made read-only, it is no master any more: the failover is planned.
    expect(
      planned(config, [dead(1), replica(2, 5000), replica(3, 4500), { ...revived, readOnly: true }], {
        target: 'db2',
      }).target,
    ).toBe('db2');
  });

  it('a published master that a failed run left without replicas: named as the master, rejoin the others (seed 70580)', () => {
    // The run promoted db2 and published it, then its repoint of db4 failed: db3 and db4 still name dead db1.
    const promoted = { ...master(2), gtidBinlog: '0-2-5001' };
    const states = [dead(1), promoted, replica(3, 4500), replica(4, 5000)];
    const again = refusalOf(buildFailoverPlan(config, states, { target: 'db2', published: 'db2' }));
    expect(again).toBe(
      'db2 already is the master: the run that promoted it published it, and it is the one writable master. db3, ' +
        'db4 still replicate from another server: bring each to db2 with mmmf --cfg fixture rejoin NAME (it checks ' +
        'GTIDs first). A failover has nothing left to do.',
    );
    const elsewhere = refusalOf(buildFailoverPlan(config, states, { target: 'db4', published: 'db2' }));
    expect(elsewhere).toMatch(/^db2 already is the master \(writable, replicates from nobody; the run that promoted/);
    expect(elsewhere).toMatch(/rejoin NAME \(it checks GTIDs first\)/);
    // Unpublished, it is what it looks like: a server that replicates from nothing, and a second master.
    expect(refusal(states, 'db2')).toMatch(/^target db2 does not replicate from anything/);
    expect(refusal(states, 'db4')).toMatch(/db2 is a second master/);
  });

  it('makes a writable replica read-only before it stops receiving', () => {
    const plan = planned(config, [dead(1), replica(2, 5000, { state: { readOnly: false } }), replica(3, 4500)], {
      target: 'db3',
    });
    const stop2 = plan.steps.find((x) => x.phase === 'stop-io' && x.host === 'db2')!;
    expect(stop2.sql).toEqual(['SET GLOBAL read_only = ON', 'STOP SLAVE IO_THREAD']);
    expect(plan.steps.find((x) => x.phase === 'stop-io' && x.host === 'db3')!.sql).toEqual(['STOP SLAVE IO_THREAD']);
    expect(plan.warnings.join('\n')).toMatch(/db2 is a writable replica/);
  });

  it('refuses when replicas disagree about their master', () => {
    expect(
      refusal([dead(1), replica(2, 50), replica(3, 50, { sourceHost: '10.0.0.9' }), replica(4, 50)], 'db2'),
    ).toMatch(/disagree/);
  });

  it('keeps a replica of a replica under it, and refuses it as the target', () => {
    const sub = replica(3, 50, { sourceHost: '10.0.0.2' });
    const plan = planned(config, [dead(1), replica(2, 50), sub, replica(4, 50)], { target: 'db4' });
    expect(plan.hosts.find((h) => h.name === 'db3')).toMatchObject({ role: 'outside', note: /stays under it/ });
    expect(plan.steps.some((s) => s.host === 'db3')).toBe(false);
    expect(refusal([dead(1), replica(2, 50), sub, replica(4, 50)], 'db3')).toMatch(
      /db3 does not replicate from the old master db1 but from db2/,
    );
  });

  it("fails over a replica a failed run's catch-up left stopped at its UNTIL under another replica (GTID only)", () => {
    const left = { sourceHost: '10.0.0.2', ioRunning: 'No', sqlRunning: false, untilCondition: 'Gtid' };
    const plan = planned(config, [dead(1), replica(2, 50), replica(3, 50, left), replica(4, 50)], { target: 'db4' });
    expect(plan.hosts.find((h) => h.name === 'db3')).toMatchObject({ role: 'replica' });
    expect(plan.steps.some((s) => s.host === 'db3' && s.action.kind === 'repoint')).toBe(true);
    // By file its coordinates are in db2's binlog: it stays under db2, as a tree.
    const byFile = replica(3, 50, { ...left, gtidMode: 'No' });
    const tree = planned(config, [dead(1), replica(2, 50), byFile, replica(4, 50)], { target: 'db4' });
    expect(tree.hosts.find((h) => h.name === 'db3')).toMatchObject({ role: 'outside' });
    // Its catch-up stopped on an error (a drifted row): it stays under db2, which holds all it received.
    const broken = replica(3, 50, { ...left, lastSqlError: "Error 'Duplicate entry '1' for key 'PRIMARY''" });
    const kept = planned(config, [dead(1), replica(2, 50), broken, replica(4, 50)], { target: 'db2' });
    expect(kept.hosts.find((h) => h.name === 'db3')).toMatchObject({ role: 'outside' });
    expect(kept.steps.some((s) => s.host === 'db3')).toBe(false);
  });

  it("by file, starts a replica an earlier run's catch-up left stopped under the target once it is promoted", () => {
    // The failed run equalized db3 from db2 by file (START SLAVE UNTIL db2's end) and failed before promoting; the
    // named next command fails over to db2.
    const left = {
      sourceHost: '10.0.0.2',
      ioRunning: 'No',
      sqlRunning: false,
      untilCondition: 'Master',
      gtidMode: 'No',
    };
    const byFile = unitConfig(4, { positioning: 'file' });
    const plan = planned(byFile, [dead(1), replica(2, 50), replica(3, 50, left), replica(4, 50)], { target: 'db2' });
    expect(plan.hosts.find((h) => h.name === 'db3')).toMatchObject({
      role: 'outside',
      note: /started after the promotion/,
    });
    const promote = plan.steps.find((s) => s.action.kind === 'promote')!;
    const start = plan.steps.find((s) => s.host === 'db3' && s.action.kind === 'restart-replication')!;
    expect(start.sql).toEqual(['START SLAVE']);
    expect(start.after).toContain(promote.n);
    expect(
      plan.steps.some((s) => s.host === 'db3' && s.action.kind === 'verify-replica' && s.after.includes(start.n)),
    ).toBe(true);
    expect(plan.warnings.join('\n')).not.toMatch(/db3 replicates from db2/);
    // Stopped under another replica than the target, or stopped by an operator (no UNTIL): a tree, left alone.
    const other = planned(byFile, [dead(1), replica(2, 50), replica(3, 50, left), replica(4, 50)], { target: 'db4' });
    expect(other.steps.some((s) => s.host === 'db3')).toBe(false);
    const operator = replica(3, 50, { ...left, untilCondition: 'None' });
    const stopped = planned(byFile, [dead(1), replica(2, 50), operator, replica(4, 50)], { target: 'db2' });
    expect(stopped.steps.some((s) => s.host === 'db3')).toBe(false);
  });

  it('refuses an unreachable target, an unknown target, and a target that is not a replica', () => {
    expect(refusal([dead(1), replica(2, 50), dead(3), replica(4, 50)], 'db3')).toMatch(/target db3 .* unreachable/);
    expect(refusal([dead(1), replica(2, 50), replica(3, 50), replica(4, 50)], 'db9')).toMatch(/no such host/);
    const standalone = { ...master(4), name: 'db4', address: '10.0.0.4:3306' };
    expect(refusal([dead(1), replica(2, 50), replica(3, 50), standalone], 'db4')).toMatch(
      /db4 does not replicate from anything/,
    );
  });

  it('refuses a target holding errant transactions', () => {
    const t = replica(3, 50, { state: { gtidBinlog: '0-3-51', gtidApplied: '0-1-50' } });
    expect(refusal([dead(1), replica(2, 50), t, replica(4, 50)], 'db3')).toMatch(/errant transactions 0-3-51/);
  });

  it('leaves out (and warns about) a non-target replica with errant transactions', () => {
    const e = replica(4, 50, { state: { gtidBinlog: '0-4-51', gtidApplied: '0-1-50' } });
    const plan = planned(config, [dead(1), replica(2, 60), replica(3, 50), e], { target: 'db3' });
    expect(plan.steps.some((s) => s.host === 'db4')).toBe(false);
    expect(plan.hosts.find((h) => h.name === 'db4')!.role).toBe('excluded');
    expect(plan.warnings.join('\n')).toMatch(/db4 is left out/);
  });

  it("refuses a split brain: the replica with the most bytes lacks another one's transactions", () => {
    const odd = replica(3, 40, { gtidReceived: '0-1-40,1-7-3' });
    expect(refusal([dead(1), replica(2, 60), odd, replica(4, 10)], 'db4')).toMatch(/split brain/);
  });

  it('refuses when the best replica cannot pass its transactions on', () => {
    const b = replica(2, 60, { state: { logReplicaUpdates: false } });
    expect(refusal([dead(1), b, replica(3, 50), replica(4, 10)], 'db4')).toMatch(
      /db2 received the most but cannot pass it on/,
    );
    // ...unless it is the target itself
    expect(
      planned(
        config,
        [dead(1), replica(2, 60, { state: { logReplicaUpdates: true } }), replica(3, 50), replica(4, 10)],
        { target: 'db2' },
      ).best,
    ).toBe('db2');
  });

  it('refuses when only a broken replica received the newest transactions', () => {
    const broken = replica(2, 70, { sqlRunning: false, lastSqlError: 'Duplicate entry' });
    expect(refusal([dead(1), broken, replica(3, 50), replica(4, 10)], 'db4')).toMatch(
      /db2 received the most .* SQL thread stopped/,
    );
  });

  it('refuses a target older than a replica', () => {
    const old = replica(3, 50, { state: { version: { ...version, minor: 6, text: '10.6.1-MariaDB' } } });
    expect(refusal([dead(1), replica(2, 50), old, replica(4, 50)], 'db3')).toMatch(/older than db2/);
  });

  it("says there is nothing to do when the target already is everyone's master", () => {
    const m = { ...master(3), name: 'db3', address: '10.0.0.3:3306' };
    const r = (i: number) => replica(i, 50, { sourceHost: '10.0.0.3', ioRunning: 'Yes', lastIoError: '' });
    const plan = planned(config, [dead(1), r(2), m, r(4)], { target: 'db3' });
    expect(plan.steps).toEqual([]);
    expect(plan.nothingToDo).toMatch(/already is the master/);
    // A replica the finished failover left stopped (still naming the old master) does not make a re-run refuse.
    const leftStopped = replica(4, 40, { ioRunning: 'No', sqlRunning: false, lastIoError: '' });
    const again = planned(config, [dead(1), r(2), m, leftStopped], { target: 'db3' });
    expect(again.nothingToDo).toBe(
      'db3 already is the master of every running replica (db2); nothing to do. db4 is stopped (db4 → 10.0.0.1:3306): `mmmf rejoin NAME` moves it under db3 (it compares GTIDs first).',
    );
    // Nor is it "done" while another server is writable too: that would hide a split brain.
    const writableOld = { ...master(1), address: '10.0.0.1:3306' };
    expect(refusal([writableOld, r(2), m, r(4)], 'db3')).toMatch(/db3 already is the master, but db1 is writable too/);
    // But a replica still running from elsewhere is not "done": that is two masters, refused.
    expect(refusal([dead(1), r(2), m, replica(4, 40)], 'db3')).toMatch(/disagree/);
  });

  it('a master whose writes were never opened (read-only, every replica under it): refused, naming the statement', () => {
    const m = { ...master(3), name: 'db3', address: '10.0.0.3:3306', readOnly: true };
    const r = (i: number) => replica(i, 50, { sourceHost: '10.0.0.3', ioRunning: 'Yes', lastIoError: '' });
    expect(refusal([dead(1), r(2), m, r(4)], 'db3')).toMatch(
      /^db3 already is the master of every running replica \(db2, db4\) but is read-only: .*nothing to fail over.*open them on db3: SET GLOBAL read_only = OFF\.$/,
    );
    // Writable elsewhere: not this refusal (which would have the operator open a second writer).
    const writableOld = { ...master(1), address: '10.0.0.1:3306' };
    expect(refusal([writableOld, r(2), m, r(4)], 'db3')).not.toMatch(/open them on db3/);
  });
});

describe('file positioning (pure)', () => {
  const byFile = (i: number, seq: number, file = 'mysql-bin.000003', o: Partial<ReplicaStatus> = {}) =>
    replica(i, seq, { gtidMode: 'No', gtidReceived: '', file, ...o });

  it("'auto' uses GTIDs only when every replica already does, and the plan says why", () => {
    const g = planned({ ...config, positioning: 'auto' }, [dead(1), replica(2, 50), replica(3, 40)], {
      target: 'db3',
    });
    expect([g.positioning, g.positioningWhy]).toEqual(['gtid', 'auto: every replica already replicates with GTIDs']);
    const f = planned({ ...config, positioning: 'auto' }, [dead(1), replica(2, 50), byFile(3, 40)], {
      target: 'db3',
    });
    expect([f.positioning, f.positioningWhy]).toEqual([
      'file',
      'auto: db3 replicates by file and position (Using_Gtid: No), so GTID positions are not trusted',
    ]);
  });

  it('picks the best by old-master coordinates across a rotation (file number, not string or GTID)', () => {
    // db3 is in a later master file at a smaller offset; its GTID says less (file mode does not trust it).
    const plan = planned(
      { ...config, positioning: 'file' },
      [
        dead(1),
        byFile(2, 900, 'mysql-bin.000009'),
        byFile(3, 5, 'mysql-bin.000010'),
        byFile(4, 100, 'mysql-bin.000009'),
      ],
      { target: 'db4' },
    );
    expect(plan.best).toBe('db3');
  });

  it('maps, equalizes, promotes and repoints with the exact statements', () => {
    const plan = planned(
      { ...config, positioning: 'file' },
      [dead(1), byFile(2, 500), byFile(3, 400), byFile(4, 100)],
      { target: 'db4' },
    );
    expect(plan.steps.map((s) => `${s.n} ${s.phase} ${s.host}`).slice(9)).toEqual([
      '10 confirm db2',
      '11 map db4',
      '12 map db3',
      '13 equalize-target db4',
      '14 equalize db3',
      '15 promote db1',
      '16 promote db4',
      '17 repoint db2',
      '18 repoint db3',
      '19 verify db2',
      '20 verify db3',
    ]);
    const step = (n: number) => plan.steps.find((s) => s.n === n)!;
    expect(step(10).sql).toEqual([
      'SHOW SLAVE STATUS -- on every replica: executed old-master coordinates',
      'SHOW MASTER STATUS',
    ]);
    // The target's mapping gates its catch-up, which gates the promotion: nothing is promoted on a guess.
    expect(step(13).after).toEqual([9, 10, 11]);
    expect(step(16).after).toEqual([10, 13, 15]);
    // Another replica's mapping gates only its own path: it is left stopped, the others carry on.
    expect(step(14).after).toEqual([8, 10, 12, 13]);
    expect(step(18).after).toEqual([14, 16]);
    expect(step(13).sql).toEqual([
      "CHANGE MASTER TO MASTER_HOST = '10.0.0.2', MASTER_PORT = 3306, MASTER_USER = 'repl', MASTER_PASSWORD = '<redacted>', MASTER_LOG_FILE = '<file from step 11>', MASTER_LOG_POS = <pos from step 11>, MASTER_USE_GTID = no",
      "START SLAVE UNTIL MASTER_LOG_FILE = '<file from step 10>', MASTER_LOG_POS = <pos from step 10>",
      "SELECT MASTER_POS_WAIT('<file from step 10>', <pos from step 10>, 1) AS r -- repeated until >= 0, at most 600 s; stops early on a replication error",
      'STOP SLAVE',
    ]);
    // The new master's position is read before writes open, so no write can fall between it and the replicas.
    expect(step(16).sql).toEqual([
      'STOP SLAVE',
      'RESET SLAVE ALL',
      'SHOW MASTER STATUS -- recorded before writes open: replicas start here',
      'SET GLOBAL read_only = OFF',
    ]);
    expect(step(17).sql[1]).toBe(
      "CHANGE MASTER TO MASTER_HOST = '10.0.0.4', MASTER_PORT = 3306, MASTER_USER = 'repl', MASTER_PASSWORD = '<redacted>', MASTER_LOG_FILE = '<file from step 16>', MASTER_LOG_POS = <pos from step 16>, MASTER_USE_GTID = no",
    );
    expect(JSON.stringify(plan)).not.toContain('TopSecret');
  });

  it('leaves out a replica without old-master coordinates, and warns when the best one purges its relay logs', () => {
    const plan = planned(
      { ...config, positioning: 'file' },
      [dead(1), byFile(2, 500, 'mysql-bin.000003', {}), byFile(3, 400, '', {}), byFile(4, 100)].map((s) =>
        s.name === 'db2' ? { ...s, relayLogPurge: true } : s,
      ),
      { target: 'db4' },
    );
    expect(plan.hosts.find((h) => h.name === 'db3')).toMatchObject({
      role: 'excluded',
      note: expect.stringContaining('no old-master coordinates'),
    });
    expect(plan.warnings.join('\n')).toContain('db2 has relay_log_purge=ON');
  });

  it('aborts by restarting replicas that were only stopped, and refuses once one was moved to the best by file', () => {
    const states = [dead(1), byFile(2, 500), byFile(3, 400), byFile(4, 100)];
    const plan = planned({ ...config, positioning: 'file' }, states, { target: 'db4' });
    const upTo = (phase: string) =>
      new Set(plan.steps.filter((s) => s.n <= plan.steps.find((x) => x.phase === phase)!.n).map((s) => s.n));
    const undo = (begun: Set<number>, now: HostState[], moved?: 'follow') => {
      const o = buildAbortPlan(config, plan, begun, now, moved);
      return o.ok ? o.value.map((s) => `${s.host}: ${s.title}: ${s.sql.join('; ')}`) : o;
    };
    const restarted = ['db2', 'db3', 'db4'].map((h) => `${h}: Restart replication from db1: START SLAVE`);
    expect(undo(upTo('map'), states)).toEqual(restarted);
    // Its catch-up step began, but it still points at the old master (it failed before the CHANGE, or found
    // nothing to do): its place in db1's binlog is intact.
    expect(undo(upTo('equalize-target'), states)).toEqual(restarted);
    // It was moved to db2 by file: --abort refuses, the way out is forward ...
    const moved = states.map((s) =>
      s.name === 'db4' ? byFile(4, 500, 'b-bin.000002', { sourcePort: 3306, sourceHost: '10.0.0.2' }) : s,
    );
    expect(undo(upTo('equalize-target'), moved)).toEqual({
      ok: false,
      headline: expect.stringMatching(/already moved db4 to db2 by file and position/),
      refusals: ['finish it instead: mmmf --cfg fixture --failover-to db4'],
    });
    // ... and a failed switchover's rollback lets it follow db2, which replicates from db1 again.
    expect(undo(upTo('equalize-target'), moved, 'follow')).toEqual([
      ...restarted.slice(0, 2),
      'db4: Restart replication from db2: START SLAVE',
    ]);
  });
});

describe('every replica state a real cluster is in (pure)', () => {
  const alive = (o: Partial<ReplicaStatus> = {}) => ({ ioRunning: 'Yes', lastIoError: '', ...o });

  it('knows the old master by server_id when the config names it by another address, and fences it', () => {
    const aliased: HostState = { ...master(1), address: 'db1.example.com:3306', resolved: ['10.0.0.99'] };
    const plan = planned(config, [aliased, replica(2, 50, alive()), replica(3, 50, alive()), replica(4, 40, alive())], {
      target: 'db3',
      fenceLiveMaster: true,
    });
    expect(plan.oldMaster).toMatchObject({ name: 'db1', reachable: true });
    expect(plan.steps.slice(0, 3).map((s) => `${s.host} ${s.action.kind}`)).toEqual([
      'db1 fence-read-only',
      'db1 kill-clients',
      'db1 record-master-end',
    ]);
    expect(plan.warnings.join('\n')).toMatch(
      /replicas reach the old master as 10\.0\.0\.1:3306; the config names it db1/,
    );
  });

  it('refuses when the live master matches no reachable configured host while replicas are connected to it', () => {
    const wrongAddress: HostState = { ...dead(1), address: '127.0.0.2:3306' };
    const why = refusal([wrongAddress, replica(2, 50, alive()), replica(3, 50, alive()), replica(4, 40)], 'db3');
    expect(why).toMatch(/matches no reachable host in the config, but db2, db3 still have a running IO thread/);
  });

  it('counts a replica stopped by an operator with everything applied as drained, not as broken', () => {
    const stopped = (i: number, seq: number) =>
      replica(i, seq, { ioRunning: 'No', sqlRunning: false, lastIoError: '' });
    const plan = planned(config, [dead(1), stopped(2, 50), stopped(3, 50), replica(4, 40)], {
      target: 'db2',
    });
    expect(plan.steps.filter((s) => s.phase === 'start-sql')).toEqual([]);
    expect(plan.steps.find((s) => s.phase === 'drain' && s.host === 'db2')!.action).toEqual({
      kind: 'drain-relay-log',
      trustCoordinates: true,
    });
  });

  it('never waits for a delayed replica: it is stopped, then follows the new master with its delay kept', () => {
    const delayed = replica(4, 40, { sqlDelay: 3600 });
    const plan = planned(config, [dead(1), replica(2, 50), replica(3, 50), delayed], { target: 'db3' });
    expect(plan.hosts.find((h) => h.name === 'db4')).toMatchObject({ role: 'delayed' });
    const db4 = plan.steps.filter((s) => s.host === 'db4').map((s) => s.action.kind);
    expect(db4).toEqual(['stop-io-thread', 'stop-replication', 'repoint', 'verify-replica']);
    const repoint = plan.steps.find((s) => s.host === 'db4' && s.phase === 'repoint')!;
    expect(repoint.sql[1]).toMatch(/MASTER_USE_GTID = slave_pos, MASTER_DELAY = 3600$/);
    expect(plan.steps.find((s) => s.host === 'db4' && s.phase === 'verify')!.action).toMatchObject({ delayed: true });
  });

  it('refuses to lose what only a delayed replica received, unless told to lift its delay', () => {
    const delayed = replica(4, 60, { sqlDelay: 3600, executed: { file: 'mysql-bin.000003', position: 120 } });
    expect(refusal([dead(1), replica(2, 50), replica(3, 50), delayed], 'db3')).toMatch(
      /db4 is delayed \(MASTER_DELAY 3600 s\) and received transactions no other replica has.*--lift-delay/,
    );
    const plan = planned(config, [dead(1), replica(2, 50), replica(3, 50), delayed], {
      target: 'db3',
      liftDelay: true,
    });
    expect(plan.best).toBe('db4');
    const lift = plan.steps.find((s) => s.host === 'db4' && s.phase === 'start-sql')!;
    expect(lift.action.kind).toBe('lift-delay');
    expect(lift.sql[2]).toMatch(/RELAY_LOG_FILE = 'relay-bin\.000002', RELAY_LOG_POS = 4, MASTER_DELAY = 0/);
  });

  it('a delayed replica named as the target takes part: its delay is lifted and its relay log applied', () => {
    const delayed = replica(4, 40, { sqlDelay: 3600 });
    const plan = planned(config, [dead(1), replica(2, 50), replica(3, 50), delayed], { target: 'db4' });
    expect(plan.steps.find((s) => s.host === 'db4' && s.phase === 'start-sql')!.action.kind).toBe('lift-delay');
    expect(plan.steps.some((s) => s.host === 'db4' && s.phase === 'equalize-target')).toBe(true);
  });
});

describe('replica states, one by one (pure, recorded status rows)', () => {
  // Each row: how the replica (db3, the target's peer) is found, and what the plan does with it before repointing.
  const executed = (pos: number) => ({ file: 'mysql-bin.000003', position: pos });
  const cases: [string, Partial<ReplicaStatus>, string[] | RegExp][] = [
    ['IO Connecting, SQL running', {}, ['stop-io-thread', 'drain-relay-log', 'stop-replication']],
    [
      'IO Connecting, SQL paused with events left',
      { sqlRunning: false, executed: executed(120) },
      ['resume-sql', 'stop-io-thread', 'drain-relay-log', 'stop-replication'],
    ],
    [
      'IO No, SQL No, nothing left (drained and stopped)',
      { ioRunning: 'No', sqlRunning: false, lastIoError: '' },
      ['stop-io-thread', 'drain-relay-log', 'stop-replication'],
    ],
    [
      'IO No, SQL No, events left (GTID mode: kept by file position)',
      { ioRunning: 'No', sqlRunning: false, lastIoError: '', executed: executed(120) },
      ['resume-sql', 'stop-io-thread', 'drain-relay-log', 'stop-replication'],
    ],
    [
      'IO No, SQL No, an UNTIL condition left by a killed run',
      { ioRunning: 'No', sqlRunning: false, lastIoError: '', executed: executed(120), untilCondition: 'Master' },
      ['resume-sql', 'stop-io-thread', 'drain-relay-log', 'stop-replication'],
    ],
    [
      'IO Yes (the master died a moment ago), SQL running',
      { ioRunning: 'Yes', lastIoError: '' },
      /refus|still .* running IO thread/,
    ],
    ['SQL stopped with an error', { sqlRunning: false, lastSqlError: "Duplicate entry '5' for key 'PRIMARY'" }, []],
    ['delayed (SQL_Delay 600)', { sqlDelay: 600 }, ['stop-io-thread', 'stop-replication']],
  ];
  it.each(cases)('%s', (_, status, expected) => {
    const states = [dead(1), replica(2, 150), replica(3, 150, { ...status, received: executed(250) }), replica(4, 150)];
    if (expected instanceof RegExp) {
      expect(refusal(states, 'db2')).toMatch(expected);
      return;
    }
    const plan = planned(config, states, { target: 'db2' });
    const before = plan.steps.filter(
      (s) => s.host === 'db3' && !['repoint', 'verify', 'equalize', 'map'].includes(s.phase),
    );
    expect(before.map((s) => s.action.kind)).toEqual(expected);
    const drain = before.find((s) => s.action.kind === 'drain-relay-log');
    if (drain && status.ioRunning === 'No' && status.executed)
      expect(drain.action).toMatchObject({ trustCoordinates: false });
  });
});

describe('--failover-to auto: the target chosen by rules (pure)', () => {
  const autoOutcome = (states: HostState[], o: Partial<ResolvedConfig> = {}) =>
    buildFailoverPlan({ ...config, ...o }, states, { target: 'auto' });
  const auto = (states: HostState[], o: Partial<ResolvedConfig> = {}) =>
    planned({ ...config, ...o }, states, { target: 'auto' });

  it('promotes the allowed replica that received the most; ties by config order, or by candidates order', () => {
    const states = [dead(1), replica(2, 50), replica(3, 50), replica(4, 40)];
    expect(auto(states).target).toBe('db2');
    const plan = auto(states, { candidates: ['db3', 'db2'] });
    expect(plan.target).toBe('db3');
    expect(plan.targetWhy).toMatch(
      /^auto: received the most, of db2, db3 \(ties by candidates order\); not chosen: db4: not in candidates/,
    );
  });

  it('never promotes a neverPromote replica, which still is the source the chosen one catches up from', () => {
    const plan = auto([dead(1), replica(2, 60), replica(3, 50), replica(4, 40)], { neverPromote: ['db2'] });
    expect([plan.target, plan.best]).toEqual(['db3', 'db2']);
    expect(plan.targetWhy).toMatch(/db2 received the most and is its source; not chosen: db2: in neverPromote/);
    expect(plan.steps.some((s) => s.host === 'db3' && s.title === 'Catch up from db2')).toBe(true);
  });

  it('skips delayed replicas, replicas without log_slave_updates and older versions; refuses when none is left', () => {
    const older = replica(3, 70, { state: { version: { ...version, minor: 6, text: '10.6.20-MariaDB' } } });
    const noUpdates = replica(2, 60, { state: { logReplicaUpdates: false } });
    const plan = auto([dead(1), noUpdates, older, replica(4, 10)]);
    expect([plan.target, plan.best]).toEqual(['db4', 'db3']);
    expect(plan.targetWhy).toMatch(/db2: log_bin or log_slave_updates is OFF; db3: older \(10\.6\.20-MariaDB\)/);
    expect(auto([dead(1), replica(2, 50, { sqlDelay: 600 }), replica(3, 50), replica(4, 40)]).target).toBe('db3');
    const why = refusalOf(autoOutcome([dead(1), replica(2, 50)], { neverPromote: ['db2'] }));
    expect(why).toMatch(/no replica may be promoted by the rules .*\n.*db2: in neverPromote/);
  });
});

// Planning a salvage of the dead master's binlog (issue 21): when it is planned, where it sits in the runbook,
// what equalization waits for afterwards, and the exact commands the plan shows.
import { describe, expect, it } from 'vitest';
import { Chalk } from 'chalk';
import { unitConfig } from './fixture-config.js';
import { buildFailoverPlan, type FailoverOptions } from '../../src/algorithm/build-failover-plan.js';
import { buildAbortPlan } from '../../src/algorithm/build-abort-plan.js';
import type { Plan } from '../../src/algorithm/plan-types.js';
import type { HostState } from '../../src/domain/server-state.js';
import type { ResolvedConfig } from '../../src/topology/config-types.js';
import { renderPlan } from '../../src/output/render-plan.js';
import { dead as deadHost, replica as fixtureReplica } from './fixture-states.js';

const dead = deadHost(1);
/** The shared fixture's replica of db1, with relay_log_purge off (a salvage plan does not depend on it). */
const replica = (i: number, seq: number, o: { byFile?: boolean } = {}): HostState =>
  fixtureReplica(i, seq, { ...(o.byFile ? { gtidMode: 'No' } : {}), state: { relayLogPurge: false } });

const withSsh = (o: Partial<ResolvedConfig> = {}) =>
  unitConfig(4, { salvage: { maxBytes: 1 << 20, hosts: ['db1', 'db2', 'db3', 'db4'] }, sshConfigured: true, ...o });
const remembered = {
  db1: {
    datadir: '/var/lib/mysql/',
    logBinBasename: '/var/lib/mysql/mysql-bin',
    logBinIndex: '/var/lib/mysql/mysql-bin.index',
  },
};

function planned(config: ResolvedConfig, states: HostState[], opts: FailoverOptions): Plan {
  const o = buildFailoverPlan(config, states, opts);
  if (!o.ok) throw new Error(`refused: ${o.refusals.join('; ')}`);
  return o.value;
}
const cluster = [dead, replica(2, 500), replica(3, 400), replica(4, 100)];

describe('planning a salvage of the dead master binlog', () => {
  it('comes after the best replica is confirmed and before anything is brought up to it; equalization waits for it', () => {
    const plan = planned(withSsh(), cluster, { target: 'db4', salvage: { remembered } });
    const summary = plan.steps.map((s) => `${s.n} ${s.phase} ${s.host} after [${s.after.join(',')}]`);
    expect(summary.slice(9, 13)).toEqual([
      '10 confirm db2 after [7]',
      '11 salvage db2 after [10]',
      '12 equalize-target db4 after [9,11]',
      '13 equalize db3 after [8,11,12]',
    ]);
    expect(summary).toContainEqual(expect.stringMatching(/^\d+ promote db4 after \[11,12(,\d+)*\]$/));
    const salvage = plan.steps[10]!;
    expect(salvage.action).toEqual({
      kind: 'salvage',
      oldMaster: 'db1',
      before: { step: 10, key: 'gtid' },
      byFile: false,
      index: '/var/lib/mysql/mysql-bin.index',
      datadir: '/var/lib/mysql/',
      maxBytes: 1 << 20,
      fixGtid: "SET GLOBAL gtid_slave_pos = '<gtid_slave_pos after the salvaged transactions>'",
    });
    // Equalization replicates up to what the salvage leaves, not to what the confirmation saw.
    expect(plan.steps[11]!.sql[1]).toBe("START SLAVE UNTIL master_gtid_pos = '<gtid from step 11>'");
    // The exact remote commands, and the local replay, are in the plan (and so in --dry-run).
    const cmds = salvage.command!.join('\n');
    expect(cmds).toContain('ssh root@10.0.0.1 cat -- /var/lib/mysql/mysql-bin.index');
    expect(cmds).toContain('mmmf-no-server 3306 /var/lib/mysql/');
    expect(cmds).toContain(`'tail -c +"$1" -- "$3" | head -c "$2"' mmmf-binlog-read '<offset+1>' '<length>' '<file>'`);
    expect(cmds).toContain(
      'mariadb-binlog --no-defaults --skip-annotate-row-events - < <checked bytes> > <private SQL file, statements ' +
        'batched>; setpriv --pdeathsig KILL mariadb ' +
        '--defaults-file=<private option file> --binary-mode --skip-reconnect --batch < <private SQL file>',
    );
    expect(JSON.stringify(plan)).not.toContain('AdminPw');
    const text = renderPlan(plan, new Chalk({ level: 0 }), { dryRun: true });
    expect(text).toContain("Salvage what only the dead master's binlog holds");
  });

  it('by file: lagging replicas are mapped into the best binlog before the salvage appends to it', () => {
    const states = [dead, replica(2, 500, { byFile: true }), replica(3, 400, { byFile: true })];
    const plan = planned(withSsh({ positioning: 'file' }), states, { target: 'db3', salvage: { remembered } });
    const phases = plan.steps.map((s) => `${s.n} ${s.phase} ${s.host}`);
    expect(phases.slice(6, 10)).toEqual(['7 confirm db2', '8 map db3', '9 salvage db2', '10 equalize-target db3']);
    const map = plan.steps[7]!.action;
    expect(map).toMatchObject({ kind: 'map-position', bestEnd: { step: 7, key: 'file' } });
    const eq = plan.steps[9]!;
    expect(eq.action).toMatchObject({ until: { step: 9, key: 'file' }, from: { step: 8, key: 'file' } });
    expect(eq.sql[1]).toBe(
      "START SLAVE UNTIL MASTER_LOG_FILE = '<file from step 9>', MASTER_LOG_POS = <pos from step 9>",
    );
  });

  it('without a remembered index: finds it over SSH first (in binlogDir when configured)', () => {
    const config = withSsh();
    config.hosts[0] = { ...config.hosts[0]!, binlogDir: '/data/binlogs' };
    const plan = planned(config, cluster, { target: 'db2' });
    const s = plan.steps.find((x) => x.phase === 'salvage')!;
    expect(s.action).toMatchObject({ binlogDir: '/data/binlogs' });
    expect(s.action).not.toHaveProperty('index');
    expect(s.command![0]).toContain('mmmf-binlog-index /data/binlogs');
    // binlogDir with a remembered name: that file, in that folder.
    const known = planned(config, cluster, { target: 'db2', salvage: { remembered } });
    expect(known.steps.find((x) => x.phase === 'salvage')!.action).toMatchObject({
      index: '/data/binlogs/mysql-bin.index',
    });
  });

  it('is not planned for a switchover, a live master, salvage: false or a host without SSH', () => {
    const none = (config: ResolvedConfig, states: HostState[], opts: FailoverOptions) =>
      planned(config, states, opts).steps.filter((s) => s.phase === 'salvage');
    expect(none(unitConfig(4), cluster, { target: 'db2' })).toEqual([]); // salvage: false
    expect(none(withSsh({ salvage: { maxBytes: 1 << 20, hosts: ['db2'] } }), cluster, { target: 'db2' })).toEqual([]);
    const live: HostState = { ...replica(1, 500), replica: undefined, readOnly: false };
    expect(none(withSsh(), [live, replica(2, 500), replica(3, 400)], { target: 'db2', fenceLiveMaster: true })).toEqual(
      [],
    );
  });

  it('--abort by file is refused once the salvage began (the old master would send those transactions again)', () => {
    const states = [dead, replica(2, 500, { byFile: true }), replica(3, 400, { byFile: true })];
    const plan = planned(withSsh({ positioning: 'file' }), states, { target: 'db3', salvage: { remembered } });
    const salvage = plan.steps.find((s) => s.phase === 'salvage')!;
    const before = new Set(plan.steps.filter((s) => s.n < salvage.n).map((s) => s.n));
    expect(buildAbortPlan(withSsh(), plan, before, states).ok).toBe(true);
    const after = buildAbortPlan(withSsh(), plan, new Set([...before, salvage.n]), states);
    expect(after.ok ? undefined : after.headline).toBe(
      "the unfinished failover to db3 began salvaging db1's binlog into db2 (step 9): by file and position, " +
        'replicating from db1 again could apply them twice',
    );
  });
});

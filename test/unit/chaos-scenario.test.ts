// The chaos harness draws every decision from the seed: a new state must not change what older seeds replay, and
// the states drawn on top must stay judgeable (a semi-sync cluster keeps a replica that acknowledges).
import { describe, expect, it } from 'vitest';
import { describeScenario, drawScenario } from '../../harness/chaos-scenario.js';
import { nextCommand, stepWithStatements } from '../../harness/chaos-states.js';

const without = (line: string) => line.replace(/ (semi-sync|(kill|fail)-in-step@\d+%|revive=\S+|salvage)/g, '');

describe('chaos scenarios', () => {
  it('replays the seeds recorded before semi-sync, faults in steps, revived masters and salvage were drawn', () => {
    // Lines printed by the harness for these seeds before the new draws (chaos-short runs 30002-30004).
    expect(without(describeScenario(30002, drawScenario(30002, 3)))).toBe(
      'seed=30002 ROW file writers=5 lag=[test2:sync test3:io-stop@561 test4:io-stop@378] kill@1680 stopped-after-crash=test2 parallel=test4 drift=test4 pair',
    );
    expect(without(describeScenario(30004, drawScenario(30004, 3)))).toBe(
      'seed=30004 STATEMENT file writers=5 lag=[test2:sync test3:io-stop@1339 test4:sync] kill@2403 delayed=test2 alias=localhost alive-alias kill-mmmf@77%',
    );
    expect(without(describeScenario(1144, drawScenario(1144, 3)))).toBe(
      'seed=1144 STATEMENT gtid writers=2 lag=[test2:both-stop@787/1143 test3:io-stop@825 test4:io-stop@476] kill@1647 parallel=test3 purge=test4',
    );
  });

  it('keeps a replica receiving in every semi-sync iteration, one fault per run, no revive of a pair', () => {
    let semi = 0;
    for (let seed = 1; seed <= 2000; seed++) {
      const s = drawScenario(seed, 3);
      if (s.semiSync) {
        semi++;
        const receiving = s.lag.filter((l) => (l.mode === 'sync' || l.mode === 'sql-pause') && l.name !== s.drift);
        expect(receiving.length, describeScenario(seed, s)).toBeGreaterThan(0);
      }
      if (s.stepFault) expect(s.killAtStep === undefined && !s.drift).toBe(true);
      if (s.revive) expect(s.pair).toBeUndefined();
    }
    expect(semi).toBeGreaterThan(300); // about a quarter
  });

  it('draws network states on namespace hosts only where they mean something', () => {
    const kinds = { 'power-loss': 0, split: 0 };
    for (let seed = 1; seed <= 2000; seed++) {
      const s = drawScenario(seed, 3);
      if (!s.net) continue;
      kinds[s.net.kind]++;
      const line = describeScenario(seed, s);
      // Loopback-only states (localhost aliases, a pair set up on loopback) never on namespace hosts.
      expect([s.pair, s.alias, s.aliveAliasCheck], line).toEqual([undefined, false, false]);
      // A host without power answers nothing: no salvage over SSH, no server coming back on it.
      const net = s.net;
      if (net.kind === 'power-loss') expect([s.salvage, s.revive], line).toEqual([undefined, undefined]);
      else expect([s.salvage, s.lag.some((l) => l.name === net.minority)], line).toEqual([true, true]);
    }
    // Each about 1 in 10 of the iterations without a loopback-only state.
    expect(kinds['power-loss']).toBeGreaterThan(80);
    expect(kinds.split).toBeGreaterThan(80);
    // With two replicas a split has no majority side of replicas: never drawn.
    for (let seed = 1; seed <= 500; seed++) expect(drawScenario(seed, 2).net?.kind).not.toBe('split');
  });

  it('faults a step that sends a changing statement, and reads the next command a summary names', () => {
    const steps = [
      { n: 1, phase: 'quiesce', action: { kind: 'drain-relay-log', trustCoordinates: true } },
      { n: 2, phase: 'quiesce', action: { kind: 'stop-io-thread', stopIo: 'STOP SLAVE IO_THREAD' } },
      { n: 3, phase: 'promote', action: { kind: 'kill-clients', listClients: 'SELECT id FROM x' } },
      { n: 4, phase: 'promote', action: { kind: 'promote', set: ['SET GLOBAL read_only = OFF'] } },
    ];
    expect(stepWithStatements(steps, 0)?.n).toBe(2);
    expect(stepWithStatements(steps, 0.99)?.n).toBe(4);
    expect(stepWithStatements(steps.slice(0, 1), 0.5)).toBeUndefined();
    // A salvage's statements are sent only when there is something to salvage: never the faulted step.
    const salvage = {
      n: 5,
      phase: 'salvage',
      action: { kind: 'salvage', fixGtid: "SET GLOBAL gtid_slave_pos = '<x>'" },
    };
    expect(stepWithStatements([salvage], 0)).toBeUndefined();
    // Nor one for the dead old master (test1): a recheck fences it only when it answers.
    const recheck = {
      n: 6,
      host: 'test1',
      phase: 'promote',
      action: { kind: 'recheck-old-master', setReadOnly: ['SET GLOBAL read_only = ON'] },
    };
    expect(stepWithStatements([recheck], 0)).toBeUndefined();
    const summary = 'Failover FAILED\nNext: mmmf --cfg /x/mmmf.config.ts rejoin test3   (it compares GTIDs first)\n';
    expect(nextCommand(summary)).toEqual(['--cfg', '/x/mmmf.config.ts', 'rejoin', 'test3']);
    expect(nextCommand('Failover done\n')).toBeUndefined();
  });
});

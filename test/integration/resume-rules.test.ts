// Resume looks first: a run killed half-way is not finished blindly. The old master came back meanwhile →
// refused, nothing changed; a journal older than journalMaxAgeMinutes → not resumed by itself, --resume
// finishes it. And two configs of one cluster that differ by a host share one lock: one run is refused.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { mmmf, replicationSnapshot, type Cluster } from '../../harness/cluster.js';
import { useCluster } from '../cluster-fixture.js';
import { basePortOf } from '../../harness/ports.js';

const ALL = ['test1', 'test2', 'test3', 'test4'];
const variant = (c: Cluster, file: string, body: string) => {
  const path = join(c.dir, file);
  writeFileSync(path, `import base from './mmmf.config.ts';\nexport default { ...base, ${body} };\n`);
  return path;
};
const promoteStep = async (cfg: string, target: string): Promise<number> => {
  const dry = await mmmf(['--cfg', cfg, '--failover-to', target, '--dry-run', '--json']);
  const steps = JSON.parse(dry.stdout).plan.steps as { n: number; action: { kind: string } }[];
  return steps.find((s) => s.action.kind === 'promote')!.n;
};
const writable = async (c: Cluster) => {
  const out: string[] = [];
  for (const n of ALL) {
    const ro = await c.query<{ ro: number }>(n, 'SELECT @@read_only AS ro').catch(() => [{ ro: 1 }]);
    if (Number(ro[0]?.ro) === 0) out.push(n);
  }
  return out;
};

describe('resume looks first', () => {
  const cluster = useCluster({ basePort: basePortOf('resume-old-back'), replicas: 3 }, async (c) => {
    await c.sandbox('load', '100');
  });

  it('a killed run is not resumed while the old master, back since, answers: refused, nothing changed; --abort undoes it', async () => {
    const c = cluster();
    await c.sandbox('kill', 'test1');
    const kill = await promoteStep(c.cfg, 'test2');
    const first = await mmmf(['--cfg', c.cfg, '--failover-to', 'test2'], { MMMF_TEST_KILL_AT_STEP: String(kill) });
    expect(first.exitCode, first.stderr).not.toBe(0);
    await c.sandbox('start', 'test1');
    const before = await replicationSnapshot(c, ALL);
    const again = await mmmf(['--cfg', c.cfg, '--failover-to', 'test2']);
    expect(again.exitCode, again.stdout + again.stderr).toBe(3);
    expect(again.stderr).toMatch(/refusing to resume it, nothing was changed/);
    expect(again.stderr).toMatch(/the old master test1 answers again/);
    expect(await replicationSnapshot(c, ALL)).toEqual(before);
    expect(await writable(c)).toEqual(['test1']);
    // The way out it names: undo the run (nothing was promoted); the cluster is back on test1.
    const abort = await mmmf(['--cfg', c.cfg, '--abort']);
    expect(abort.exitCode, abort.stdout + abort.stderr).toBe(0);
    const status = await mmmf(['status', '--cfg', c.cfg]);
    expect(status.stdout).not.toMatch(/unfinished run/);
    expect(await writable(c)).toEqual(['test1']);
  });

  it('a journal older than journalMaxAgeMinutes is not resumed by itself; --resume finishes it', async () => {
    const c = cluster();
    const cfg = variant(c, 'stale.config.ts', 'journalMaxAgeMinutes: 0.02');
    await c.sandbox('kill', 'test1');
    const kill = await promoteStep(cfg, 'test3');
    const first = await mmmf(['--cfg', cfg, '--failover-to', 'test3'], { MMMF_TEST_KILL_AT_STEP: String(kill) });
    expect(first.exitCode).not.toBe(0);
    await new Promise((r) => setTimeout(r, 1500));
    const status = await mmmf(['status', '--cfg', cfg]);
    expect(status.stdout).toMatch(/unfinished run +an unfinished failover to test3/);
    const check = await mmmf(['check', '--cfg', cfg]);
    expect(check.exitCode).toBe(3);
    expect(check.stdout).toMatch(/an unfinished failover to test3/);
    const alive = ['test2', 'test3', 'test4'];
    const before = await replicationSnapshot(c, alive);
    const cron = await mmmf(['--cfg', cfg, '--failover-to', 'auto']);
    expect(cron.exitCode, cron.stdout + cron.stderr).toBe(3);
    expect(cron.stderr).toMatch(/not resumed by itself/);
    expect(cron.stderr).toMatch(/--failover-to test3 --resume/);
    expect(await replicationSnapshot(c, alive)).toEqual(before);
    const resumed = await mmmf(['--cfg', cfg, '--failover-to', 'test3', '--resume']);
    expect(resumed.exitCode, resumed.stdout + resumed.stderr).toBe(0);
    expect(resumed.stdout).toMatch(/Resuming an unfinished failover to test3/);
    expect(await writable(c)).toEqual(['test3']);
  });
});

describe('two configs of one cluster that differ by a host', () => {
  const cluster = useCluster({ basePort: basePortOf('resume-stale'), replicas: 3 }, async (c) => {
    await c.sandbox('load', '100');
    await c.sandbox('kill', 'test1');
  });

  it('share one lock: of two runs at the same moment one fails over, the other is refused', async () => {
    const c = cluster();
    // A monitor host in the middle of a config rollout: test4 retired from its config.
    const older = variant(
      c,
      'older.config.ts',
      'hosts: Object.fromEntries(Object.entries(base.hosts).filter(([n]) => n !== "test4"))',
    );
    const env = { MMMF_TEST_STEP_DELAY_MS: '150' };
    const [a, b] = await Promise.all([
      mmmf(['--cfg', c.cfg, '--failover-to', 'test2'], env),
      mmmf(['--cfg', older, '--failover-to', 'test3'], env),
    ]);
    expect(
      [a.exitCode, b.exitCode].sort((x, y) => x - y),
      a.stderr + b.stderr,
    ).toEqual([0, 3]);
    const loser = a.exitCode === 3 ? a : b;
    expect(loser.stderr).toMatch(/another mmmf run (holds this cluster's lock|is working on this cluster)/);
    // From the servers: exactly one of the two targets is the writable master.
    const w = await writable(c);
    expect(w).toHaveLength(1);
    expect(['test2', 'test3']).toContain(w[0]);
  });
});

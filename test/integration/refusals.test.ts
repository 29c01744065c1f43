// Scenarios (ii)-(iv): a dry run changes nothing; an unreachable target and replicas that disagree about
// their master are refused with exit 3 before any change.
import { describe, expect, it } from 'vitest';
import { useCluster } from '../cluster-fixture.js';
import { mmmf, replicationSnapshot } from '../../harness/cluster.js';
import { PORTS } from '../../harness/ports.js';

describe('refusals and dry runs change nothing', () => {
  const replicas = ['test2', 'test3', 'test4'];
  const cluster = useCluster({ basePort: PORTS.refusals.first, replicas: 3 }, async (c) => {
    await c.sandbox('lag', 'test4');
    await c.sandbox('load', '300');
    await c.sandbox('lag', 'test3');
    await c.sandbox('load', '100');
    await c.sandbox('kill', 'test1');
  });

  it('--dry-run prints the plan and leaves replication state and positions identical', async () => {
    const c = cluster();
    const before = await replicationSnapshot(c, replicas);
    const r = await mmmf(['--cfg', c.cfg, '--failover-to', 'test4', '--dry-run']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toContain('dry run: nothing will be changed');
    expect(r.stdout).toMatch(/\d+\. test4: Catch up from test2/);
    expect(r.stdout).toContain("MASTER_PASSWORD = '<redacted>'");
    expect(r.stdout + r.stderr).not.toContain('repl-secret');
    const json = await mmmf(['--cfg', c.cfg, '--failover-to', 'test4', '--dry-run', '--json']);
    const parsed = JSON.parse(json.stdout);
    expect(parsed.plan.best).toBe('test2');
    expect(parsed.plan.steps.length).toBeGreaterThan(10);
    expect(await replicationSnapshot(c, replicas)).toEqual(before);
  });

  it('refuses (exit 3) when replicas disagree about their master, and changes nothing', async () => {
    const c = cluster();
    await c.query('test4', 'STOP SLAVE');
    // A server outside the config (nothing listens there, on the last port of this suite's own range): test4
    // keeps its old Master_Server_Id until it connects, so only its address says where it points.
    const nowhere = PORTS.refusals.last;
    await c.query('test4', `CHANGE MASTER TO MASTER_PORT = ${nowhere}`);
    await c.query('test4', 'START SLAVE');
    const before = await replicationSnapshot(c, replicas);
    const r = await mmmf(['--cfg', c.cfg, '--failover-to', 'test2']);
    expect(r.exitCode).toBe(3);
    expect(r.stderr).toMatch(/replicas disagree about their master/);
    expect(r.stderr).toContain(`test4 → 127.0.0.1:${nowhere}`);
    expect(await replicationSnapshot(c, replicas)).toEqual(before);
    await c.query('test4', 'STOP SLAVE');
    await c.query('test4', `CHANGE MASTER TO MASTER_PORT = ${c.port('test1')}`);
    await c.query('test4', 'START SLAVE IO_THREAD');
    await c.query('test4', 'STOP SLAVE IO_THREAD'); // back to lagging, as the crash left it
  });

  it('refuses (exit 3) an unreachable target and changes nothing', async () => {
    const c = cluster();
    await c.sandbox('kill', 'test3');
    const before = await replicationSnapshot(c, ['test2', 'test4']);
    const r = await mmmf(['--cfg', c.cfg, '--failover-to', 'test3']);
    expect(r.exitCode).toBe(3);
    expect(r.stderr).toMatch(/target test3 \(127\.0\.0\.1:\d+\) is unreachable/);
    expect(r.stderr).toMatch(/nothing was changed/);
    expect(await replicationSnapshot(c, ['test2', 'test4'])).toEqual(before);
  });
});

// A network split that puts mmmf's host and one replica on one side, and the master with its other replicas on
// the other (the master keeps serving them): --if-dead must not fail over — mmmf and a minority cannot tell a
// dead master from a split. Network-namespace hosts; root.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { mmmfOnClient, replicationSnapshot, type Cluster } from '../../harness/cluster.js';
import { until } from '../../harness/load.js';
import { useCluster } from '../cluster-fixture.js';
import { basePortOf } from '../../harness/ports.js';

const root = process.getuid?.() === 0;
const io = async (c: Cluster, n: string) =>
  (await c.query<{ Slave_IO_Running: string }>(n, 'SHOW SLAVE STATUS'))[0]?.Slave_IO_Running;

describe.skipIf(!root)('--if-dead across a network split', () => {
  const cluster = useCluster({ basePort: basePortOf('split-netns'), replicas: 3, netns: true }, async (c) => {
    await c.sandbox('load', '50');
    // test2 notices a silent master in seconds (the other side keeps its connections).
    await c.query('test2', 'STOP SLAVE');
    await c.query('test2', 'SET GLOBAL slave_net_timeout = 4');
    await c.query('test2', 'CHANGE MASTER TO MASTER_HEARTBEAT_PERIOD = 1');
    await c.query('test2', 'START SLAVE');
  });

  it('mmmf and one replica lose the master while the others keep it: no failover, exit 3', async () => {
    const c = cluster();
    const cfg = join(c.dir, 'cron.config.ts');
    writeFileSync(
      cfg,
      `import base from './mmmf.config.ts';\n` +
        `export default { ...base, deadConfirmSeconds: 2, timeouts: { connect: 1 } };\n`,
    );
    for (const n of ['test1', 'test3', 'test4']) await c.sandbox('netcut-from', n, 'client', 'test2');
    await until(async () => (await io(c, 'test2')) === 'Connecting', 30_000, 'test2 to lose the master');
    const before = await replicationSnapshot(c, ['test1', 'test2', 'test3', 'test4']);
    const r = await mmmfOnClient(c, ['--cfg', cfg, '--failover-to', 'auto', '--if-dead']);
    expect(r.exitCode, r.stdout + r.stderr).toBe(3);
    expect(r.stderr).toMatch(/only 1 of test1's 3 replicas report a failing connection/);
    // Nothing changed: the master still serves test3 and test4, and test2 was not promoted.
    expect(await replicationSnapshot(c, ['test1', 'test2', 'test3', 'test4'])).toEqual(before);
    expect([await io(c, 'test3'), await io(c, 'test4')]).toEqual(['Yes', 'Yes']);
    const ro = await c.query<{ ro: number }>('test2', 'SELECT @@read_only AS ro');
    expect(Number(ro[0]?.ro)).toBe(1);
  });
});

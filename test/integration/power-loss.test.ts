// A master's host that loses power (mysqld gone, network silent: no RST) seconds after a `status` that spoke
// to every host over SSH: the failover must finish and move the VIP, not hang on a connection a previous
// command left behind; and a hook that never exits must not hold the run. Network-namespace hosts; root.
import { execa } from 'execa';
import { readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { mmmfOnClient, type Cluster } from '../../harness/cluster.js';
import { useCluster } from '../cluster-fixture.js';
import { basePortOf } from '../../harness/ports.js';

const root = process.getuid?.() === 0;
const vipHolders = async (c: Cluster) => (await c.sandbox('vip-holders')).split('\n').filter(Boolean);

/** The sandbox's config with a postFailover hook that never exits on its own, stopped after 3 s. */
function withHangingHook(c: Cluster): string {
  const file = c.cfg.replace(/mmmf\.config\.ts$/, 'hanging-hook.config.ts');
  const text = readFileSync(c.cfg, 'utf8').replace(
    "  stateDir: 'state',",
    "  hooks: { postFailover: 'sleep 3600 | cat' },\n  timeouts: { hook: 3 },\n  stateDir: 'state',",
  );
  writeFileSync(file, text);
  return file;
}

describe.skipIf(!root)('power loss of the master host right after a status', () => {
  const cluster = useCluster({ basePort: basePortOf('power-loss'), replicas: 2, netns: true }, async (c) => {
    await c.sandbox('load', '50');
  });

  it('fails over and moves the VIP in bounded time; a hook that never exits is stopped at its deadline', async () => {
    const c = cluster();
    const cfg = withHangingHook(c);
    expect(await vipHolders(c)).toEqual(['test1']);
    const status = await mmmfOnClient(c, ['status', '--cfg', cfg]);
    expect(status.exitCode, status.stderr).toBe(0);
    expect(status.stdout).toMatch(/test1/);
    // Power loss: the server dies (its replicas see the connection end), then the host goes silent.
    await c.sandbox('kill', 'test1');
    await c.sandbox('netcut', 'test1');
    for (let i = 0; i < 100; i++) {
      const io = await Promise.all(
        ['test2', 'test3'].map(async (n) => (await c.query<{ Slave_IO_Running: string }>(n, 'SHOW SLAVE STATUS'))[0]),
      );
      if (io.every((r) => r?.Slave_IO_Running !== 'Yes')) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const started = Date.now();
    const r = await mmmfOnClient(c, ['--cfg', cfg, '--failover-to', 'test2']);
    const seconds = (Date.now() - started) / 1000;
    console.log(`failover after power loss: ${seconds.toFixed(1)} s, exit ${r.exitCode}`);
    // The failover itself completed; the hook that never exits was stopped and makes the exit code 1.
    expect(r.exitCode, r.stdout + r.stderr).toBe(1);
    expect(r.stdout).toMatch(/postFailover hook .*timed out after 3 s/);
    expect(seconds).toBeLessThan(45);
    // From the servers: test2 is the only writable one, test3 replicates from it, and test2 holds the VIP
    // (test1's host, cut off, still has it configured: nobody can reach it there).
    const [ro2] = await c.query<{ ro: number }>('test2', 'SELECT @@read_only AS ro');
    const [ro3] = await c.query<{ ro: number }>('test3', 'SELECT @@read_only AS ro');
    expect([Number(ro2?.ro), Number(ro3?.ro)]).toEqual([0, 1]);
    const [s3] = await c.query<{ Master_Port: number; Master_Host: string; Slave_IO_Running: string }>(
      'test3',
      'SHOW SLAVE STATUS',
    );
    expect(s3?.Slave_IO_Running).toBe('Yes');
    expect(s3?.Master_Host).toMatch(/\.12$/); // test2's address on the sandbox network
    expect(await vipHolders(c)).toContain('test2');
    // No ssh process of the run was left behind (the sandbox's key names this cluster's ssh processes).
    const left = await execa('pgrep', ['-af', `^ssh .*${c.dir}/ssh/id_ed25519`], { reject: false });
    expect(left.stdout.trim()).toBe('');
  });
});

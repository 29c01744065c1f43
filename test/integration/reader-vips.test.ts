// Reader VIPs (MMM's balanced reader role) on network-namespace hosts: placed by `roles`, moved by offline and
// online, after a failover and after a switchover — each on exactly one qualifying host, never on a dead one,
// checked through the VIPs themselves from the client host. Needs root (CI runs as root).
import { describe, expect, it } from 'vitest';
import { mmmfOnClient, type Cluster } from '../../harness/cluster.js';
import { ledgerEvidence } from '../../harness/ledger.js';
import { basePortOf } from '../../harness/ports.js';
import { useCluster } from '../cluster-fixture.js';
import { expectNothingLost } from '../expect-data.js';

const root = process.getuid?.() === 0;
const readers = async (c: Cluster) =>
  (await c.sandbox('client', 'sh', '-c', `grep -o "readers: \\[[^]]*" ${c.cfg} | grep -o "[0-9.]*/24"`)).split('\n');
const holders = async (c: Cluster, vip: string) => (await c.sandbox('vip-holders', vip)).split('\n').filter(Boolean);
/** The server_id that answers on the VIP, asked from the client host as an application would. */
const serverIdBehind = async (c: Cluster, vip: string) =>
  (
    await c.sandbox(
      'client',
      'mariadb',
      '--no-defaults',
      `-h${vip.split('/')[0]}`,
      '-ummmf',
      '-pmmmf-secret',
      '-N',
      '-e',
      'SELECT @@server_id',
    )
  ).trim();

/** Every reader VIP on exactly one host, that host answers behind it, and none on `never`. */
async function expectPlaced(c: Cluster, never: string[]): Promise<Record<string, string>> {
  const at: Record<string, string> = {};
  for (const vip of await readers(c)) {
    const hs = await holders(c, vip);
    expect(hs, `holders of ${vip}`).toHaveLength(1);
    expect(never).not.toContain(hs[0]);
    expect(await serverIdBehind(c, vip)).toBe(hs[0]!.replace('test', ''));
    at[vip] = hs[0]!;
  }
  return at;
}

describe.skipIf(!root)('reader VIPs on network-namespace hosts', () => {
  const cluster = useCluster({ basePort: basePortOf('reader-vips'), replicas: 3, netns: true }, async (c) => {
    await c.sandbox('load', '100');
  });

  it('roles places them on replicas (a dry run changes nothing); offline moves one away, online lets it back', async () => {
    const c = cluster();
    const [r1, r2] = await readers(c);
    const dry = await mmmfOnClient(c, ['--cfg', c.cfg, 'roles', '--dry-run']);
    expect(dry.exitCode, dry.stdout + dry.stderr).toBe(0);
    expect(dry.stdout).toMatch(/Reader VIP plan \(dry run/);
    expect(await holders(c, r1!)).toEqual([]);
    const r = await mmmfOnClient(c, ['--cfg', c.cfg, 'roles']);
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    expect(await expectPlaced(c, ['test1'])).toEqual({ [r1!]: 'test2', [r2!]: 'test3' });
    const again = await mmmfOnClient(c, ['--cfg', c.cfg, 'roles']);
    expect(again.stdout).toMatch(/every VIP is where it belongs: nothing to do/);

    const refused = await mmmfOnClient(c, ['--cfg', c.cfg, 'offline', 'test1']);
    expect([refused.exitCode, refused.stderr]).toEqual([3, expect.stringMatching(/it is the master/)]);
    const off = await mmmfOnClient(c, ['--cfg', c.cfg, 'offline', 'test2']);
    expect(off.exitCode, off.stdout + off.stderr).toBe(0);
    expect(await expectPlaced(c, ['test1', 'test2'])).toEqual({ [r1!]: 'test4', [r2!]: 'test3' });
    const status = await mmmfOnClient(c, ['status', '--cfg', c.cfg]);
    expect(status.stdout).toMatch(/test2 holds no reader VIP: offline/);
    const on = await mmmfOnClient(c, ['--cfg', c.cfg, 'online', 'test2']);
    expect(on.exitCode, on.stdout + on.stderr).toBe(0);
    expect(on.stdout).not.toMatch(/Offline \(kept out/);
  });

  it('after a failover and a switchover: moved off the new writer, never on the dead host', async () => {
    const c = cluster();
    await c.sandbox('kill', 'test1');
    const ev = await ledgerEvidence(c, ['test2', 'test3', 'test4'], 'test1');
    const f = await mmmfOnClient(c, ['--cfg', c.cfg, '--failover-to', 'test3']); // test3 held a reader VIP
    expect.soft(f.exitCode, f.stdout + f.stderr).toBe(0);
    await expectNothingLost(c, ['test2', 'test3', 'test4'], ev);
    expect(f.stdout).toMatch(/Place the reader VIPs/);
    const afterFailover = await expectPlaced(c, ['test1', 'test3']);
    expect(Object.values(afterFailover).sort()).toEqual(['test2', 'test4']);

    const s = await mmmfOnClient(c, ['--cfg', c.cfg, '--switchover-to', 'test4']); // test4 holds one too
    expect(s.exitCode, s.stdout + s.stderr).toBe(0);
    const afterSwitchover = await expectPlaced(c, ['test1', 'test4']);
    expect(Object.values(afterSwitchover).sort()).toEqual(['test2', 'test3']); // the old master now reads
  });
});

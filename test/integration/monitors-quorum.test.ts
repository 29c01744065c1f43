// Monitors over a 3-member etcd on loopback and one MariaDB cluster (ports: harness/ports.ts): one member
// down, switchovers work and publish the new master; two down, every run refuses with exit 4 and nothing
// changes. `check` proves etcd reachable and writable for the cluster's keys (a second etcd with users and
// roles) and that the published master is the cluster's master.
import { describe, expect, it } from 'vitest';
import { mmmf, replicationSnapshot, type Cluster } from '../../harness/cluster.js';
import { basePortOf, ETCD_PORTS } from '../../harness/ports.js';
import { useCluster } from '../cluster-fixture.js';
import { holder, sleep, useEtcd, useStores } from '../etcd-fixture.js';
import { monitorConfig, published, runMonitor } from '../monitors-fixture.js';

const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const findings = (out: string) => out.split('\n').filter((l) => /^[✖!] /.test(l));

describe('monitors over a 3-member etcd', () => {
  const cluster = useCluster({ basePort: basePortOf('monitors-quorum'), replicas: 2 }, async (c) => {
    // check's only findings are then the coordination store's.
    for (const n of ['test2', 'test3']) await c.query(n, 'SET GLOBAL slave_net_timeout = 10');
  });
  const etcd = useEtcd({ basePort: ETCD_PORTS.monitorsQuorum, members: 3 });
  const auth = useEtcd({ basePort: ETCD_PORTS.monitorsAuth });
  const tlsEtcd = useEtcd({ basePort: ETCD_PORTS.monitorsTls, tls: true });
  const open = useStores();
  const cfgFor = (c: Cluster, name: string, cluster: string, extra: Record<string, unknown> = {}) =>
    monitorConfig(c, name, cluster, {
      endpoints: etcd().endpoints,
      lockTtlSeconds: 3,
      requestTimeoutMs: 1500,
      ...extra,
    });

  it('one member down: a switchover works and publishes; two down: exit 4, nothing changed; back: works', async () => {
    const c = cluster();
    const cfg = cfgFor(c, 'mon1', 'quorum', { publishOrchestratorKeys: true });
    const [e1, e2] = etcd().members;
    await e1!.stop();
    try {
      const t0 = Date.now();
      const sw = await runMonitor('mon1', cfg, ['--switchover-to', 'test2']);
      expect(sw.exitCode, sw.stdout + sw.stderr).toBe(0);
      console.log(`3-member etcd, one member stopped: switchover in ${Date.now() - t0} ms`);
      expect(await published(etcd(), 'quorum')).toMatchObject({
        name: 'test2',
        host: '127.0.0.1',
        port: c.port('test2'),
        orchestrator: `127.0.0.1:${c.port('test2')}`,
      });

      await e2!.stop();
      const before = await replicationSnapshot(c, c.names);
      const runs = await Promise.all([
        runMonitor('mon1', cfg, ['--switchover-to', 'test1']),
        runMonitor('mon1', cfg, ['--failover-to', 'auto', '--if-dead']),
        runMonitor('mon1', cfg, ['rejoin', 'test1']),
      ]);
      for (const r of runs) {
        expect(r.exitCode, r.stdout + r.stderr).toBe(4);
        expect(r.stderr).toMatch(/the coordination store does not answer: nothing was changed/);
        expect(r.stderr).toMatch(/no member answered within 1500 ms: etcd down, frozen, or without quorum/);
      }
      expect(await replicationSnapshot(c, c.names)).toEqual(before);
      const check = await mmmf(['check', '--cfg', cfg]);
      expect(check.exitCode, check.stdout).toBe(3);
      expect(check.stdout).toMatch(/✖ the coordination store \(etcd\) cannot be read: .*without quorum/);
      const status = await mmmf(['status', '--cfg', cfg]);
      expect(status.stdout).toMatch(/✖ the store cannot be read: .*without quorum/);
    } finally {
      await Promise.all([e1!.start(), e2!.start()]);
      await etcd().healthy();
    }
    const back = await runMonitor('mon1', cfg, ['--switchover-to', 'test1']);
    expect(back.exitCode, back.stdout + back.stderr).toBe(0);
    expect(await published(etcd(), 'quorum')).toMatchObject({ name: 'test1', port: c.port('test1') });
  });

  it('a 3 s lease: the check before every step (2 s of lease) never fails between two keepalives', async () => {
    const s = await open({ endpoints: etcd().endpoints, lockTtlSeconds: 3 }, 'short-lease');
    const r = await s.register(holder('mon1'), await s.read());
    if (!r.ok) throw new Error(r.why);
    const failed: string[] = [];
    let checks = 0;
    for (const until = Date.now() + 5000; Date.now() < until; checks++) {
      // What PlanRun asks before each step: a failure here would stop a healthy run for nothing.
      await r.lock.check(2000).catch((err: Error) => failed.push(`check ${checks}: ${err.message}`));
      await sleep(97);
    }
    expect(failed).toEqual([]);
    expect(checks).toBeGreaterThan(20); // the checks spanned more than one lease
    console.log(`3 s lease: ${checks} checks of 2 s in 5 s, none failed`);
    await r.lock.release();
  });

  it('the steps of a parallel phase journal at the same moment: every record lands', async () => {
    const s = await open({ endpoints: etcd().endpoints, lockTtlSeconds: 3 }, 'parallel');
    const r = await s.register(holder('mon1'), await s.read());
    if (!r.ok) throw new Error(r.why);
    await r.lock.append({ type: 'start' });
    // What PlanRun does for three steps of one phase: begin + step, then the results, all at once.
    await Promise.all([2, 3, 4].map((n) => Promise.all([r.lock.append({ type: 'begin', n }), r.lock.setStep(n)])));
    await Promise.all([2, 3, 4].map((n) => r.lock.append({ type: 'result', n })));
    const lines = (await s.read()).run?.lines ?? [];
    expect(lines.map((l) => l.type)).toEqual(['start', 'begin', 'begin', 'begin', 'result', 'result', 'result']);
    expect(lines.filter((l) => l.type === 'result').map((l) => l.n)).toEqual([2, 3, 4]);
    await r.lock.release();
  });

  it('etcd over TLS at an IP address: status reads the store and prints no warning on stderr', async () => {
    const c = cluster();
    const e = tlsEtcd();
    const cfg = monitorConfig(c, 'mon-tls', 'tls', { endpoints: e.endpoints, tls: e.tls });
    const r = await mmmf(['status', '--cfg', cfg]);
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^Coordination {2}etcd https:\/\/127\.0\.0\.1:\d+, keys \/mmmf\/clusters\/tls\/$/m);
    // Node warns when a TLS server name is an IP (grpc-js passes one): a line in every timer run's journal.
    expect(r.stderr).toBe('');
  });

  it('check: etcd reachable, the published master is the master, and write access for the cluster', async () => {
    const c = cluster();
    const cfg = cfgFor(c, 'mon2', 'checked');
    const fresh = await mmmf(['check', '--cfg', cfg]);
    expect(fresh.exitCode, fresh.stdout).toBe(0);
    expect(findings(fresh.stdout)).toEqual([
      expect.stringMatching(/^! no master is published in etcd yet: proxies that follow .* have nothing to follow$/),
    ]);
    expect(fresh.stdout).toContain(`fix: mmmf --cfg ${cfg} --failover-to test1 publishes the master in place`);
    const publish = await mmmf(['--cfg', cfg, '--failover-to', 'test1']);
    expect(publish.exitCode, publish.stdout + publish.stderr).toBe(0);
    expect((await published(etcd(), 'checked')).name).toBe('test1');
    const clean = await mmmf(['check', '--cfg', cfg]);
    expect([clean.exitCode, findings(clean.stdout)], clean.stdout).toEqual([0, []]);

    // A proxy following the key would send writes to test3: check says so (exit 3).
    const key = '/mmmf/clusters/checked/master';
    const wrong = { name: 'test3', host: '127.0.0.1', port: c.port('test3'), epoch: '1', at: '2026-01-01T00:00:00Z' };
    await etcd().etcdctl('put', key, JSON.stringify(wrong));
    const stale = await mmmf(['check', '--cfg', cfg]);
    expect(stale.exitCode, stale.stdout).toBe(3);
    const says = `✖ the published master is test3 (127.0.0.1:${c.port('test3')}, `;
    expect(findings(stale.stdout)).toEqual([
      expect.stringMatching(new RegExp(`^${esc(says)}.*but the servers say test1 is`)),
    ]);

    // Users and roles: read-only on the prefix is not enough; readwrite on the cluster's keys is.
    const e = auth();
    const ctl = (...a: string[]) => e.etcdctl(...a);
    await ctl('user', 'add', 'root', '--new-user-password=root-pw');
    await ctl('user', 'grant-role', 'root', 'root');
    for (const [role, perm] of [
      ['reader', 'read'],
      ['writer', 'readwrite'],
    ] as const) {
      await ctl('role', 'add', role);
      await ctl('role', 'grant-permission', role, perm, '/mmmf/clusters/perm/', '--prefix=true');
      await ctl('user', 'add', `mon-${role}`, `--new-user-password=${role}-pw`);
      await ctl('user', 'grant-role', `mon-${role}`, role);
    }
    await ctl('auth', 'enable');
    const as = (user: string) =>
      monitorConfig(c, `mon-${user}`, 'perm', {
        endpoints: e.endpoints,
        username: `mon-${user}`,
        password: `${user}-pw`,
      });
    const reader = await mmmf(['check', '--cfg', as('reader')]);
    expect(reader.exitCode, reader.stdout).toBe(3);
    expect(reader.stdout).toMatch(
      /✖ the coordination store \(etcd .*\) refuses the writes a run makes: .*permission denied/,
    );
    expect(reader.stdout).toContain('fix: give this monitor');
    expect(reader.stdout).not.toContain('reader-pw');
    const writer = await mmmf(['check', '--cfg', as('writer')]);
    expect(writer.stdout).not.toMatch(/refuses the writes/);
    expect(await e.etcdctl('--user', 'root:root-pw', 'get', '--prefix', '/mmmf/clusters/perm/probe')).toBe('');
  });
});

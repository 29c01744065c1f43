import { describe, expect, it } from 'vitest';
import { validateConfig } from '../../src/topology/validate-config.js';

const good = {
  replication: { user: 'repl', password: 'pw' },
  defaults: { user: 'root', password: '' },
  hosts: { a: { host: '10.0.0.1' }, b: { host: '10.0.0.2', port: 3307, password: 'hunter2' } },
};

describe('config validation', () => {
  it('resolves defaults into every host', () => {
    const { config, problems } = validateConfig(good, 'x.ts');
    expect(problems).toEqual([]);
    const ssh = (host: string) => ({ host, user: 'root', port: 22, options: [] });
    expect(config!.hosts).toEqual([
      { name: 'a', host: '10.0.0.1', port: 3306, user: 'root', password: '', ssh: ssh('10.0.0.1') },
      { name: 'b', host: '10.0.0.2', port: 3307, user: 'root', password: 'hunter2', ssh: ssh('10.0.0.2') },
    ]);
    expect(config!.timeouts.equalize).toBe(600);
  });

  it("lists a --failover-to that names no host together with the config's other problems", () => {
    const { problems } = validateConfig({ ...good, timeouts: { drain: -1 } }, 'x.ts', [
      { flag: '--failover-to', name: 'z' },
    ]);
    expect(problems).toEqual([
      'timeouts.drain: must be a positive number of seconds, got -1',
      '--failover-to z: no such host in the config (configured hosts: a, b)',
    ]);
    expect(validateConfig(good, 'x.ts', [{ flag: '--failover-to', name: 'b' }]).problems).toEqual([]);
  });

  it('checks candidates and neverPromote name configured hosts exactly, and reserves the name auto', () => {
    const { problems } = validateConfig(
      { ...good, hosts: { ...good.hosts, auto: { host: '10.0.0.3' } }, candidates: ['b', 'db*'], neverPromote: 'a' },
      'x.ts',
      [{ flag: '--failover-to', name: 'auto' }],
    );
    expect(problems).toEqual([
      "hosts.auto: 'auto' is reserved (--failover-to auto chooses the target); rename it",
      "candidates: 'db*' is not a configured host",
      "neverPromote: must be a list of host names, like ['db2', 'db3'], got \"a\"",
    ]);
  });

  it('lists every problem at once and never quotes a password', () => {
    const { config, problems } = validateConfig(
      {
        replication: { user: 'repl', password: 12345 },
        hosts: {
          a: { host: '10.0.0.1', port: 70000, user: 'root', colour: 'red' },
          b: { host: '10.0.0.1', port: 3306, user: 'root' },
          c: { host: '10.0.0.1', user: 'root' },
          'bad name': { host: 'x', user: 'root' },
          d: { port: 3306 },
        },
        timeouts: { drain: -1 },
        extra: true,
      },
      'x.ts',
    );
    expect(config).toBeUndefined();
    const text = problems.join('\n');
    for (const needle of [
      'extra: unknown key',
      'replication.password: must be a string, got number',
      'hosts.a.port: must be an integer',
      'hosts.a.colour: unknown key',
      'hosts.c: same address 10.0.0.1:3306 as hosts.b',
      'hosts.bad name: a host name',
      'hosts.d.host: missing',
      'hosts.d.user: missing',
      'timeouts.drain: must be a positive number',
    ])
      expect(text).toContain(needle);
    expect(text).not.toContain('12345');
  });

  it('resolves per-host ssh settings over the shared ones, and checks vip and ssh', () => {
    const { config } = validateConfig(
      {
        ...good,
        vip: { address: '10.0.0.100/24', interface: 'eth0' },
        ssh: { user: 'ops', port: 2222, identityFile: '/k', options: ['StrictHostKeyChecking=yes'] },
        hosts: {
          a: {
            host: '10.0.0.1',
            ssh: { host: 'a.mgmt', port: 22, options: ['ConnectTimeout=2'] },
            vipInterface: 'bond0',
          },
          b: { host: '10.0.0.2' },
        },
      },
      'x.ts',
    );
    expect(config!.vip).toEqual({ address: '10.0.0.100/24', interface: 'eth0', readers: [], readerMaxLagSeconds: 30 });
    expect(config!.hosts[0]).toMatchObject({
      vipInterface: 'bond0',
      ssh: {
        host: 'a.mgmt',
        user: 'ops',
        port: 22,
        identityFile: '/k',
        options: ['StrictHostKeyChecking=yes', 'ConnectTimeout=2'],
      },
    });
    expect(config!.hosts[1]!.ssh).toEqual({
      host: '10.0.0.2',
      user: 'ops',
      port: 2222,
      identityFile: '/k',
      options: ['StrictHostKeyChecking=yes'],
    });
    const bad = validateConfig(
      {
        ...good,
        vip: { address: '10.0.0.300/40', interface: 'eth0; rm -rf /' },
        ssh: { options: ['-oProxyCommand=x'] },
      },
      'x.ts',
    ).problems.join('\n');
    expect(bad).toContain('vip.address: must be an IPv4 address with a prefix length');
    expect(bad).toContain('vip.interface: must be a network interface name');
    expect(bad).toContain("ssh.options: must be an array of 'Name=value' strings");
    const readers = (r: unknown, lag?: unknown) =>
      validateConfig(
        { ...good, vip: { address: '10.0.0.100/24', interface: 'eth0', readers: r, readerMaxLagSeconds: lag } },
        'x.ts',
      ).problems.join('\n');
    expect(readers(['10.0.0.201/24', '10.0.0.202/24'], 10)).toBe('');
    expect(readers(['10.0.0.201'])).toContain('vip.readers: must be a list of IPv4 addresses with a prefix length');
    expect(readers(['10.0.0.201/24', '10.0.0.201/24'])).toContain('vip.readers: 10.0.0.201/24 is listed twice');
    expect(readers(['10.0.0.100/24'])).toContain('(or is the writer VIP)');
    expect(readers([], -1)).toContain('vip.readerMaxLagSeconds: must be a number of seconds >= 0');
  });

  it('checks TLS settings: files relative to the config that exist, a CA unless verification is off, absolute channel paths', () => {
    const tls = (defaults: unknown, replication: unknown) =>
      validateConfig(
        {
          ...good,
          defaults: { user: 'root', ssl: defaults },
          replication: { user: 'repl', password: 'x', ssl: replication },
        },
        '/nowhere/x.ts',
      ).problems.join('\n');
    const bad = tls({ ca: 'tls/ca.pem', cert: 'c.pem', bogus: 1 }, { ca: 'relative/ca.pem', verifyServerCert: 'yes' });
    expect(bad).toContain(
      'defaults.ssl.ca: /nowhere/tls/ca.pem does not exist (paths are relative to the config file)',
    );
    expect(bad).toContain('defaults.ssl: cert and key go together');
    expect(bad).toContain('defaults.ssl.bogus: unknown key');
    expect(bad).toContain("replication.ssl.ca: must be an absolute path on the replicas' hosts");
    expect(bad).toContain('replication.ssl.verifyServerCert: must be true or false');
    expect(tls({}, { ca: '/etc/mysql/ca.pem' })).toContain('defaults.ssl.ca: missing');
    // mmmf's admin password never goes to a server whose certificate was not verified.
    expect(tls({ verifyServerCert: false }, { ca: '/etc/mysql/ca.pem' })).toContain(
      "defaults.ssl.verifyServerCert: false would send mmmf's admin password to any server",
    );
  });

  it('checks coordination: cluster required, a lease long enough for a step, every problem at once', () => {
    const etcd = { endpoints: ['127.0.0.1:2379'], lockTtlSeconds: 2, requestTimeoutMs: 50, colour: 'x' };
    const { problems } = validateConfig({ ...good, coordination: { etcd } }, 'x.ts');
    expect(problems).toEqual([
      'coordination.etcd.colour: unknown key (known: endpoints, prefix, tls, username, password, lockTtlSeconds, ' +
        'requestTimeoutMs, publishOrchestratorKeys)',
      'coordination.etcd.lockTtlSeconds: a whole number of seconds >= 3, got 2',
      'coordination.etcd.requestTimeoutMs: a number of milliseconds >= 100, got 50',
      "cluster: required with coordination (every monitor host's config must name the cluster the same: cluster: 'orders')",
    ]);
    const ok = validateConfig(
      { ...good, cluster: 'orders', coordination: { etcd: { endpoints: ['127.0.0.1:2379'], lockTtlSeconds: 3 } } },
      'x.ts',
    );
    expect([ok.problems, ok.config?.coordination?.etcd.lockTtlSeconds]).toEqual([[], 3]);
  });

  it('rejects a non-object and a missing hosts/replication', () => {
    expect(validateConfig(42, 'x').problems[0]).toMatch(/must be an object/);
    const { problems } = validateConfig({}, 'x');
    expect(problems.some((p) => p.startsWith('replication: missing'))).toBe(true);
    expect(problems.some((p) => p.startsWith('hosts: missing'))).toBe(true);
  });
});

describe('salvage settings', () => {
  it('salvage is on for the hosts SSH is configured for, off with salvage: false; binlogDir is an absolute folder', () => {
    const own = validateConfig(
      { ...good, hosts: { ...good.hosts, b: { host: '10.0.0.2', binlogDir: '/logs/' } } },
      'x.ts',
    );
    expect(own.problems).toEqual([]);
    expect(own.config!.salvage).toEqual({ maxBytes: 256 * 1024 * 1024, hosts: ['b'] });
    expect(own.config!.hosts[1]!.binlogDir).toBe('/logs');
    const all = validateConfig({ ...good, ssh: { user: 'ops' }, salvage: { maxBytes: 1 << 20 } }, 'x.ts');
    expect(all.config!.salvage).toEqual({ maxBytes: 1 << 20, hosts: ['a', 'b'] });
    expect(validateConfig({ ...good, ssh: {}, salvage: false }, 'x.ts').config!.salvage).toBeUndefined();
    const bad = validateConfig(
      { ...good, salvage: { maxBytes: 10, max: 1 }, hosts: { ...good.hosts, a: { host: 'h', binlogDir: 'rel' } } },
      'x.ts',
    );
    expect(bad.problems).toEqual([
      'hosts.a.binlogDir: must be an absolute folder on that host, like \'/var/lib/mysql\', got "rel"',
      'salvage.max: unknown key (allowed: maxBytes)',
      'salvage.maxBytes: must be a whole number of bytes, at least 65536, got 10',
    ]);
    expect(validateConfig({ ...good, salvage: true }, 'x.ts').problems).toEqual([
      'salvage: must be false or an object { maxBytes }, got true',
    ]);
  });
});

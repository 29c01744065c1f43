// A real etcd (the OS package, 3.4) on loopback for tests and the bench: one member or a cluster, its data in a
// temp folder, fast elections (heartbeat 50 ms, election 500 ms: the shortest lease is then 1 s), and always
// torn down by pid (its own processes only), pass or fail. Ports: member i uses basePort + 2i (clients) and
// basePort + 2i + 1 (peers); etcd itself holds them for the test's life.
import { execa } from 'execa';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PORTS, reserveEphemeral } from './ports.js';

const ETCD = '/usr/bin/etcd';
const ETCDCTL = '/usr/bin/etcdctl';
const OPENSSL = '/usr/bin/openssl';

export interface EtcdTls {
  ca: string;
  cert: string;
  key: string;
}

export interface EtcdMember {
  name: string;
  clientPort: number;
  endpoint: string;
  readonly pid: number | undefined;
  /** Starts it again after `stop()`, with the same data (rejoins its cluster). */
  start(): Promise<void>;
  stop(): Promise<void>;
  /** SIGSTOP: the process holds its ports and answers nothing (a frozen VM, a long GC pause). */
  freeze(): void;
  thaw(): void;
}

export interface EtcdCluster {
  dir: string;
  endpoints: string[];
  members: EtcdMember[];
  /** Client certificate, key and CA when started with `tls: true` (the server requires client certificates). */
  tls?: EtcdTls;
  etcdctl(...args: string[]): Promise<string>;
  /** Waits until the given members (default: all) answer as healthy (they have a leader). */
  healthy(endpoints?: string[]): Promise<void>;
  down(): Promise<void>;
}

const running = new Set<number>();
const dirs = new Set<string>();
// A test process that dies before its afterAll must not leave etcd or its data behind.
process.once('exit', () => {
  running.forEach((pid) => killQuietly(pid, 'SIGKILL'));
  dirs.forEach((d) => rmSync(d, { recursive: true, force: true }));
});

function killQuietly(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}

/**
 * Installs etcd (and openssl, for the TLS tests' certificates) from the OS packages when missing, as root: CI's
 * machines start without them. The package's own etcd service is not started (policy-rc.d, only while
 * installing): the tests start their own members on their own ports, and a daemon on 2379 would be a stray.
 * Serialized by a lock file (two test files, or the global setup and the bench, may get here at once) and
 * behind any other apt run (DPkg::Lock::Timeout).
 */
export async function ensureEtcdInstalled(): Promise<void> {
  if (existsSync(ETCD) && existsSync(ETCDCTL) && existsSync(OPENSSL)) return;
  if (process.getuid?.() !== 0) {
    throw new Error('etcd is not installed: sudo apt-get install etcd-server etcd-client openssl');
  }
  const install = [
    'set -e',
    `test -x ${ETCD} && test -x ${ETCDCTL} && test -x ${OPENSSL} && exit 0`,
    'policy=/usr/sbin/policy-rc.d',
    `if [ ! -e $policy ]; then printf '#!/bin/sh\\nexit 101\\n' >$policy; chmod 755 $policy; trap "rm -f $policy" EXIT; fi`,
    'export DEBIAN_FRONTEND=noninteractive',
    'apt-get -o DPkg::Lock::Timeout=300 update -qq',
    'apt-get -o DPkg::Lock::Timeout=300 install -y -qq etcd-server etcd-client openssl >/dev/null',
  ].join('\n');
  await execa('flock', [join(tmpdir(), 'mmmf-etcd-install.lock'), 'sh', '-c', install], { timeout: 900_000 });
  if (!existsSync(ETCD) || !existsSync(ETCDCTL)) throw new Error(`apt-get installed no ${ETCD} / ${ETCDCTL}`);
}

/** A throw-away CA, a server certificate for 127.0.0.1 and a client certificate, made with openssl. */
async function makeCerts(dir: string): Promise<EtcdTls & { serverCert: string; serverKey: string }> {
  const p = (f: string) => join(dir, f);
  const ssl = (...args: string[]) => execa('openssl', args, { timeout: 30_000 });
  await ssl(
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '2',
    '-subj',
    '/CN=mmmf-test-ca',
    '-keyout',
    p('ca.key'),
    '-out',
    p('ca.crt'),
  );
  writeFileSync(p('san.cnf'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\n');
  for (const who of ['server', 'client']) {
    await ssl(
      'req',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-subj',
      `/CN=mmmf-${who}`,
      '-keyout',
      p(`${who}.key`),
      '-out',
      p(`${who}.csr`),
    );
    await ssl(
      'x509',
      '-req',
      '-in',
      p(`${who}.csr`),
      '-CA',
      p('ca.crt'),
      '-CAkey',
      p('ca.key'),
      '-CAcreateserial',
      '-days',
      '2',
      '-extfile',
      p('san.cnf'),
      '-out',
      p(`${who}.crt`),
    );
  }
  return {
    ca: p('ca.crt'),
    cert: p('client.crt'),
    key: p('client.key'),
    serverCert: p('server.crt'),
    serverKey: p('server.key'),
  };
}

// 60 s: on this 2-core machine, at the suite's busiest minute (two files starting MariaDB clusters beside three
// monitors' runs), a TLS member's first election has been seen to need more than 30.
const HEALTHY_WITHIN_MS = 60_000;

async function waitHealthy(
  ctl: (...a: string[]) => Promise<string>,
  endpoints: string[],
  logs: () => string = () => '',
): Promise<void> {
  const until = Date.now() + HEALTHY_WITHIN_MS;
  for (;;) {
    try {
      await ctl('--endpoints', endpoints.join(','), 'endpoint', 'health');
      return;
    } catch (err) {
      if (Date.now() > until) {
        throw new Error(`etcd did not become healthy within ${HEALTHY_WITHIN_MS / 1000} s: ${String(err)}${logs()}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/** The last lines of each member's log, for an error that must say why a member never came up. */
function logTails(dir: string, names: string[]): string {
  return names
    .map((n) => {
      try {
        const lines = readFileSync(join(dir, `${n}.log`), 'utf8')
          .trim()
          .split('\n')
          .slice(-8);
        return `\n--- ${n}.log (last lines)\n${lines.join('\n')}`;
      } catch {
        return `\n--- ${n}.log: none`;
      }
    })
    .join('');
}

export async function startEtcd(opts: { basePort: number; members?: number; tls?: boolean; args?: string[] }) {
  await ensureEtcdInstalled();
  // Its ports lie in Linux's ephemeral range: keep them from being some client connection's local port.
  reserveEphemeral(PORTS.etcd);
  const dir = mkdtempSync(join(tmpdir(), 'mmmf-etcd-'));
  dirs.add(dir);
  const n = opts.members ?? 1;
  const certs = opts.tls ? await makeCerts(dir) : undefined;
  const scheme = certs ? 'https' : 'http';
  const specs = Array.from({ length: n }, (_, i) => ({
    name: `e${i + 1}`,
    clientPort: opts.basePort + 2 * i,
    peerPort: opts.basePort + 2 * i + 1,
  }));
  const initialCluster = specs.map((s) => `${s.name}=http://127.0.0.1:${s.peerPort}`).join(',');
  const tlsArgs = certs
    ? [
        '--cert-file',
        certs.serverCert,
        '--key-file',
        certs.serverKey,
        '--trusted-ca-file',
        certs.ca,
        '--client-cert-auth',
      ]
    : [];
  const ctlTls = certs ? ['--cacert', certs.ca, '--cert', certs.cert, '--key', certs.key] : [];
  const etcdctl = async (...args: string[]) =>
    (await execa(ETCDCTL, [...ctlTls, '--command-timeout=3s', ...args], { timeout: 10_000, env: { ETCDCTL_API: '3' } }))
      .stdout;

  const members: EtcdMember[] = specs.map((s) => {
    let pid: number | undefined;
    const endpoint = `${scheme}://127.0.0.1:${s.clientPort}`;
    const dataDir = join(dir, s.name);
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    const args = [
      '--name',
      s.name,
      '--data-dir',
      dataDir,
      '--listen-client-urls',
      endpoint,
      '--advertise-client-urls',
      endpoint,
      '--listen-peer-urls',
      `http://127.0.0.1:${s.peerPort}`,
      '--initial-advertise-peer-urls',
      `http://127.0.0.1:${s.peerPort}`,
      '--initial-cluster',
      initialCluster,
      '--initial-cluster-state',
      'new',
      '--initial-cluster-token',
      `mmmf-test-${opts.basePort}`,
      '--heartbeat-interval=50',
      '--election-timeout=500',
      '--logger=zap',
      '--log-level=warn',
      ...tlsArgs,
      ...(opts.args ?? []),
    ];
    const member: EtcdMember = {
      name: s.name,
      clientPort: s.clientPort,
      endpoint,
      get pid() {
        return pid;
      },
      start() {
        const log = openSync(join(dir, `${s.name}.log`), 'a');
        const child = spawn(ETCD, args, { stdio: ['ignore', log, log] });
        if (!child.pid) throw new Error(`etcd ${s.name} did not start`);
        const started = child.pid;
        pid = started;
        running.add(started);
        child.once('exit', () => {
          running.delete(started);
          if (pid === started) pid = undefined;
        });
        return Promise.resolve();
      },
      async stop() {
        const p = pid;
        if (p === undefined) return;
        killQuietly(p, 'SIGCONT');
        killQuietly(p, 'SIGTERM');
        const until = Date.now() + 5_000;
        while (running.has(p) && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
        if (running.has(p)) killQuietly(p, 'SIGKILL');
        while (running.has(p)) await new Promise((r) => setTimeout(r, 20));
      },
      freeze() {
        if (pid !== undefined) killQuietly(pid, 'SIGSTOP');
      },
      thaw() {
        if (pid !== undefined) killQuietly(pid, 'SIGCONT');
      },
    };
    return member;
  });

  const cluster: EtcdCluster = {
    dir,
    endpoints: members.map((m) => m.endpoint),
    members,
    ...(certs ? { tls: { ca: certs.ca, cert: certs.cert, key: certs.key } } : {}),
    etcdctl: (...args) => etcdctl('--endpoints', cluster.endpoints.join(','), ...args),
    healthy: (endpoints = cluster.endpoints) =>
      waitHealthy(etcdctl, endpoints, () =>
        logTails(
          dir,
          specs.map((x) => x.name),
        ),
      ),
    async down() {
      await Promise.all(members.map((m) => m.stop()));
      rmSync(dir, { recursive: true, force: true });
      dirs.delete(dir);
    },
  };
  try {
    await Promise.all(members.map((m) => m.start()));
    await waitHealthy(etcdctl, cluster.endpoints, () =>
      logTails(
        dir,
        specs.map((x) => x.name),
      ),
    );
  } catch (err) {
    await cluster.down();
    throw err;
  }
  return cluster;
}

// The etcd store when etcd misbehaves (ports: ETCD_PORTS in harness/ports.ts): frozen (SIGSTOP), stopped,
// nothing listening, a 3-member cluster losing members, TLS with client certificates, password auth with
// short-lived tokens. Every call ends within its deadline with StoreUnavailableError or LockLostError, and the
// process can exit (that test runs the built store: `npm test` builds first). Bounds allow 500 ms of event-loop lag under a full-suite load.
import { execa } from 'execa';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../../harness/paths.js';
import {
  LockLostError,
  StoreUnavailableError,
  type ClusterStore,
  type StoreLock,
} from '../../src/state/cluster-store.js';
import { holder, sleep, timedFailure, useEtcd, useStores, validForMs } from '../etcd-fixture.js';
import { ETCD_PORTS } from '../../harness/ports.js';

const NOBODY = ETCD_PORTS.nobody; // this file's port where nothing listens
const empty = { runRevision: '0', antiFlapRevision: '0' };

async function registered(s: ClusterStore): Promise<StoreLock> {
  const r = await s.register(holder('mon1'), await s.read());
  if (!r.ok) throw new Error(r.why);
  return r.lock;
}

describe('etcd frozen, stopped or absent', () => {
  const etcd = useEtcd({ basePort: ETCD_PORTS.failures });
  const open = useStores();

  for (const requestTimeoutMs of [5000, 1000]) {
    it(`etcd frozen mid-run: check() throws before the lease can expire in etcd (timeout ${requestTimeoutMs} ms)`, async () => {
      const s = await open(
        { endpoints: etcd().endpoints, lockTtlSeconds: 3, requestTimeoutMs },
        `frozen${requestTimeoutMs}`,
      );
      const lock = await registered(s);
      await lock.append({ type: 'start' });
      await sleep(1200); // a few keepalives
      const frozenAt = performance.now();
      // The server's expiry is no earlier than the acknowledged keepalive's send time + TTL (margin added back).
      const serverExpiry = frozenAt + validForMs(lock) + 300;
      etcd().members[0]!.freeze();
      try {
        let failure: unknown;
        let lastOkAt = frozenAt;
        while (!failure) {
          failure = await lock.check(500).then(
            () => undefined,
            (e: unknown) => e,
          );
          if (!failure) {
            lastOkAt = performance.now();
            await sleep(100);
          }
        }
        const thrownAt = performance.now();
        console.log(
          `etcd frozen (TTL 3000 ms, requestTimeoutMs ${requestTimeoutMs}): check() threw after ` +
            `${Math.round(thrownAt - frozenAt)} ms, ${Math.round(serverExpiry - thrownAt)} ms before the earliest ` +
            `server-side expiry: ${String(failure)}`,
        );
        // Every check that let a step (500 ms) run promised a lease that outlived it in etcd; the one that threw came
        // before etcd could hand the lock to another monitor. (When it throws no step follows: how much earlier
        // than the expiry it threw is timer precision on a loaded machine, not safety — 13 ms past once.)
        expect(lastOkAt + 500).toBeLessThanOrEqual(serverExpiry);
        expect(thrownAt).toBeLessThan(serverExpiry);
        expect(failure).toBeInstanceOf(requestTimeoutMs > 3000 ? LockLostError : StoreUnavailableError);
      } finally {
        etcd().members[0]!.thaw();
      }
      await etcd().healthy();
    });
  }

  it('etcd frozen: read() and register() fail within the request timeout, naming etcd', async () => {
    const s = await open({ endpoints: etcd().endpoints, requestTimeoutMs: 1500 }, 'frozen2');
    etcd().members[0]!.freeze();
    try {
      const read = await timedFailure(() => s.read());
      const reg = await timedFailure(() => s.register(holder('mon1'), empty));
      console.log(
        `etcd frozen: read() failed after ${Math.round(read.ms)} ms, register() after ${Math.round(reg.ms)} ms`,
      );
      for (const f of [read, reg]) {
        expect(f.err).toBeInstanceOf(StoreUnavailableError);
        expect(String(f.err)).toMatch(
          new RegExp(
            `etcd http://127\\.0\\.0\\.1:${ETCD_PORTS.failures}: .* failed: no member answered within 1500 ms`,
          ),
        );
        expect(f.ms).toBeLessThan(1500 + 500);
      }
    } finally {
      etcd().members[0]!.thaw();
    }
    await etcd().healthy();
  });

  it('nothing listening, then etcd stopped: StoreUnavailableError within the request timeout', async () => {
    const none = await open({ endpoints: [`127.0.0.1:${NOBODY}`], requestTimeoutMs: 1500 }, 'gone');
    const n = await timedFailure(() => none.read());
    expect(n.err).toBeInstanceOf(StoreUnavailableError);
    expect(String(n.err)).toMatch(new RegExp(`etcd 127\\.0\\.0\\.1:${NOBODY}: reading /mmmf/clusters/gone/ failed`));
    expect(n.ms).toBeLessThan(1500 + 500);

    const s = await open({ endpoints: etcd().endpoints, lockTtlSeconds: 2, requestTimeoutMs: 1500 }, 'gone');
    const lock = await registered(s);
    await etcd().members[0]!.stop();
    try {
      const fails = [
        await timedFailure(() => s.read()),
        await timedFailure(() => lock.check(200)),
        await timedFailure(() => lock.append({ type: 'begin', n: 1 })),
      ];
      console.log(
        `nothing listening: read() failed after ${Math.round(n.ms)} ms; etcd stopped: read/check/append ` +
          `failed after ${fails.map((f) => Math.round(f.ms)).join('/')} ms`,
      );
      for (const f of fails) {
        expect(f.err).toBeInstanceOf(StoreUnavailableError);
        expect(f.ms).toBeLessThan(1500 + 500);
      }
    } finally {
      await etcd().members[0]!.start();
      await etcd().healthy();
    }
  });

  it('a process that closes its stores exits at once (no channel or timer left); etcd3 loads only on open', async () => {
    const dist = join(repoRoot(), 'dist/src/state/etcd-store.js');
    const script = `
        import { createRequire } from 'node:module';
        const req = createRequire(${JSON.stringify(dist)});
        const loaded = () => Object.keys(req.cache).some((k) => k.includes('/node_modules/etcd3/'));
        const { openEtcdStore } = await import(${JSON.stringify(dist)});
        const before = loaded();
        for (const endpoints of [${JSON.stringify(etcd().endpoints)}, ['127.0.0.1:${NOBODY}']]) {
          const s = await openEtcdStore({ endpoints, lockTtlSeconds: 5, requestTimeoutMs: 1000 }, 'exit');
          const seen = await s.read().catch(() => ({ runRevision: '0', antiFlapRevision: '0' }));
          await s.register({ runId: 'x', host: 'h', pid: 1, command: 'c', started: '' }, seen).catch(() => 0);
          await s.close(); // no release: the lease expires by itself
        }
        console.log(JSON.stringify({ before, after: loaded(), closedAt: performance.now() }));`;
    const t0 = performance.now();
    const r = await execa('node', ['--input-type=module', '-e', script], { timeout: 20_000 });
    const exitedAfter = performance.now() - t0;
    const out = JSON.parse(r.stdout) as { before: boolean; after: boolean; closedAt: number };
    expect(out).toMatchObject({ before: false, after: true });
    console.log(`child: closed its stores at ${Math.round(out.closedAt)} ms, exited at ${Math.round(exitedAfter)} ms`);
    expect(exitedAfter - out.closedAt).toBeLessThan(2500);
  });
});

describe('a 3-member etcd cluster', () => {
  const etcd = useEtcd({ basePort: ETCD_PORTS.failuresCluster, members: 3 });
  const open = useStores();

  it('works with one member down and refuses with two down', async () => {
    const opts = { endpoints: etcd().endpoints, lockTtlSeconds: 3, requestTimeoutMs: 3000 };
    const s = await open(opts, 'quorum');
    const lock = await registered(s);
    await etcd().members[0]!.stop();
    const t0 = performance.now();
    await lock.check(500);
    await lock.append({ type: 'start' });
    const other = await open(opts, 'quorum');
    const seen = await other.read();
    expect(seen.holder?.host).toBe('mon1');
    expect(seen.run?.lines).toEqual([{ type: 'start' }]);
    console.log(`3 members, one stopped: check+append+read took ${Math.round(performance.now() - t0)} ms`);

    await etcd().members[1]!.stop();
    const fails = [
      await timedFailure(() => other.read()),
      await timedFailure(() => other.register(holder('mon2'), seen)),
      await timedFailure(() => lock.check(500)),
    ];
    console.log(
      `3 members, two stopped: read/register/check failed after ` +
        `${fails.map((f) => Math.round(f.ms)).join('/')} ms: ${String(fails[0]!.err)}`,
    );
    for (const f of fails) {
      expect(f.err).toBeInstanceOf(StoreUnavailableError);
      expect(f.ms).toBeLessThan(3000 + 500);
    }
  });
});

describe('etcd with TLS and client certificates', () => {
  const etcd = useEtcd({ basePort: ETCD_PORTS.failuresTls, tls: true });
  const open = useStores();

  it('works with a client certificate and refuses without one', async () => {
    const tls = etcd().tls!;
    const s = await open({ endpoints: etcd().endpoints, tls, lockTtlSeconds: 2 }, 'tls');
    const lock = await registered(s);
    await lock.append({ type: 'start' });
    await lock.check(500);
    expect((await s.read()).run?.lines).toEqual([{ type: 'start' }]);
    const noCert = await open({ endpoints: etcd().endpoints, tls: { ca: tls.ca }, requestTimeoutMs: 1500 }, 'tls');
    const f = await timedFailure(() => noCert.read());
    expect(f.err).toBeInstanceOf(StoreUnavailableError);
    expect(f.ms).toBeLessThan(1500 + 500);
    await lock.release();
  });
});

describe('etcd with password auth and 2 s tokens', () => {
  const etcd = useEtcd({ basePort: ETCD_PORTS.failuresAuth, args: ['--auth-token-ttl=2'] });
  const open = useStores();

  it('keeps its lock past token expiry, and a wrong password fails without showing it', async () => {
    await etcd().etcdctl('user', 'add', 'root', '--new-user-password=s3cret-pw');
    await etcd().etcdctl('user', 'grant-role', 'root', 'root');
    await etcd().etcdctl('auth', 'enable');
    const s = await open(
      { endpoints: etcd().endpoints, username: 'root', password: 's3cret-pw', lockTtlSeconds: 2 },
      'auth',
    );
    const lock = await registered(s);
    for (let i = 0; i < 3; i++) {
      await sleep(3000); // longer than a token lives: only keepalives in between
      await lock.check(500);
      await lock.append({ type: 'begin', n: i });
    }
    expect((await s.read()).run?.lines).toHaveLength(3);
    await lock.release();
    const bad = await open({ endpoints: etcd().endpoints, username: 'root', password: 'wrong-pw' }, 'auth');
    const f = await timedFailure(() => bad.read());
    expect(f.err).toBeInstanceOf(StoreUnavailableError);
    expect(String(f.err)).toMatch(/authentication failed|auth/i);
    expect(String(f.err)).not.toContain('wrong-pw');
  });
});

// The etcd coordination store against a real etcd (one member, ETCD_PORTS.store): exactly one of several monitors
// acts, a dead monitor's run is resumed by another, a run that lost its lease writes nothing.
import { describe, expect, it } from 'vitest';
import { LockLostError, type StoreLock } from '../../src/state/cluster-store.js';
import { holder, sleep, useEtcd, useStores, validForMs } from '../etcd-fixture.js';
import { ETCD_PORTS } from '../../harness/ports.js';

describe('etcd store: one actor, resume from another monitor, fencing', () => {
  const etcd = useEtcd({ basePort: ETCD_PORTS.store });
  const open = useStores();
  const opts = (extra: object = {}) => ({ endpoints: etcd().endpoints, lockTtlSeconds: 2, ...extra });

  it('three monitors registering at the same moment, 20 rounds: exactly one acts, the others name it', async () => {
    const stores = await Promise.all(['mon1', 'mon2', 'mon3'].map(() => open(opts(), 'race')));
    const wins = [0, 0, 0];
    for (let round = 0; round < 20; round++) {
      const seen = await Promise.all(stores.map((s) => s.read()));
      expect(seen.map((s) => s.holder)).toEqual([undefined, undefined, undefined]);
      const holders = ['mon1', 'mon2', 'mon3'].map((h) => holder(h));
      const outcomes = await Promise.all(stores.map((s, i) => s.register(holders[i]!, seen[i]!)));
      const winners = outcomes.flatMap((o, i) => (o.ok ? [i] : []));
      expect(winners).toHaveLength(1);
      const w = winners[0]!;
      wins[w]!++;
      for (const o of outcomes) {
        if (o.ok) continue;
        expect(o.holder?.runId).toBe(holders[w]!.runId);
        expect(o.why).toContain(`on mon${w + 1}`);
      }
      const lock = (outcomes[w] as { lock: StoreLock }).lock;
      await lock.append({ type: 'start', round });
      await lock.recordFailover({ finished: new Date().toISOString(), target: `db${round}`, ok: true });
      await lock.finish({ type: 'end', ok: true });
      await lock.release();
    }
    expect(wins.reduce((a, b) => a + b)).toBe(20);
    console.log(`registration race: 20 rounds, exactly one winner each; wins per monitor ${wins.join('/')}`);
    const after = await stores[0]!.read();
    expect(after.antiFlap?.target).toBe('db19');
  });

  it('a monitor that read before another acted is refused: the run and anti-flap records changed', async () => {
    const [a, b] = [await open(opts(), 'stale'), await open(opts(), 'stale')];
    const staleRead = await a.read();
    const other = await b.register(holder('mon2'), await b.read());
    if (!other.ok) throw new Error(other.why);
    await other.lock.append({ type: 'start' });
    await other.lock.release(); // unfinished: the run record stays
    const r = await a.register(holder('mon1'), staleRead);
    expect(r).toMatchObject({ ok: false });
    expect((r as { why: string }).why).toMatch(/the record of the run in progress changed since this run read it/);
    const fresh = await a.read();
    expect(fresh.run?.lines).toEqual([{ type: 'start' }]);
    const again = await a.register(holder('mon1'), fresh);
    if (!again.ok) throw new Error(again.why);
    await again.lock.release();
  });

  it('a holder that dies: after the TTL another monitor sees its unfinished run, resumes and finishes it', async () => {
    const a = await open(opts(), 'resume');
    const b = await open(opts(), 'resume');
    const ra = await a.register(holder('mon1'), await a.read());
    if (!ra.ok) throw new Error(ra.why);
    await ra.lock.append({ type: 'start', target: 'db2' });
    await ra.lock.append({ type: 'begin', n: 1 });
    await ra.lock.setStep(1);
    const refused = await b.register(holder('mon2'), await b.read());
    expect(refused).toMatchObject({ ok: false, holder: { host: 'mon1', step: 1, epoch: ra.lock.epoch } });
    expect((refused as { why: string }).why).toMatch(/^held by run .*: pid \d+ on mon1 since .*, at step 1$/);

    await a.close(); // the process dies: no release, no more keepalives
    const died = performance.now();
    let seen = await b.read();
    while (seen.holder) {
      expect(performance.now() - died).toBeLessThan(10_000);
      await sleep(50);
      seen = await b.read();
    }
    const freedAfter = performance.now() - died;
    console.log(`dead holder's lock freed by etcd after ${Math.round(freedAfter)} ms (TTL 2000 ms)`);
    // Not before the server could have expired it: keepalives go every TTL/3.
    expect(freedAfter).toBeGreaterThan((2000 * 2) / 3 - 100);
    expect(seen.run?.lines).toEqual([
      { type: 'start', target: 'db2' },
      { type: 'begin', n: 1 },
    ]);

    const rb = await b.register(holder('mon2', 'mmmf --failover-to auto --if-dead (resume)'), seen);
    if (!rb.ok) throw new Error(rb.why);
    expect(Number(rb.lock.epoch)).toBeGreaterThan(Number(ra.lock.epoch));
    await rb.lock.append({ type: 'result', n: 1 });
    await rb.lock.finish({ type: 'end', ok: true });
    const done = await b.read();
    expect(done.run).toBeUndefined();
    expect(done.runRevision).toBe('0');
    const history = await etcd().etcdctl('get', '--print-value-only', `/mmmf/clusters/resume/history/${rb.lock.epoch}`);
    expect(
      history
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as unknown),
    ).toEqual([
      { type: 'start', target: 'db2' },
      { type: 'begin', n: 1 },
      { type: 'result', n: 1 },
      { type: 'end', ok: true },
    ]);
    await rb.lock.release();
  });

  it('fencing: a run whose lease expired in etcd writes nothing, even before its client noticed', async () => {
    const a = await open(opts({ lockTtlSeconds: 30 }), 'fence');
    const b = await open(opts(), 'fence');
    const ra = await a.register(holder('mon1'), await a.read());
    if (!ra.ok) throw new Error(ra.why);
    await ra.lock.append({ type: 'start' });
    // etcd expires the lease (as after a long pause of mon1); mon1's next keepalive is ~10 s away.
    // etcdctl prints the lease id as a JSON number beyond 2^53: read its digits, not the parsed number.
    const lease = (await etcd().etcdctl('get', '/mmmf/clusters/fence/lock', '-w', 'json')).match(/"lease":(\d+)/)?.[1];
    await etcd().etcdctl('lease', 'revoke', BigInt(lease!).toString(16));
    expect(validForMs(ra.lock)).toBeGreaterThan(20_000); // by its own clock, mon1 still holds the lock

    const rb = await b.register(holder('mon2'), await b.read());
    if (!rb.ok) throw new Error(rb.why);
    await expect(ra.lock.append({ type: 'begin', n: 1 })).rejects.toThrow(LockLostError);
    await expect(
      ra.lock.publishMaster({ name: 'db9', host: 'h9', port: 1, epoch: ra.lock.epoch, at: '' }),
    ).rejects.toThrow(/no longer this run's|is lost/);
    await expect(ra.lock.check(1000)).rejects.toThrow(LockLostError);
    await ra.lock.release(); // its lease is gone: releasing must not free mon2's lock
    const seen = await b.read();
    expect(seen.holder?.host).toBe('mon2');
    expect(seen.master).toBeUndefined();
    await rb.lock.finish({ type: 'end', ok: false });
    expect((await b.read()).run).toBeUndefined();
    const err = await ra.lock.append({ type: 'x' }).catch((e: unknown) => e);
    expect(String(err)).toMatch(
      /LockLostError: the lock of cluster fence \(epoch \d+\) is lost: it is now held by run/,
    );
    await rb.lock.release();
  });

  it('publishes the master (and orchestrator keys when asked), the step and the offline hosts', async () => {
    const s = await open(opts({ publishOrchestratorKeys: true }), 'pub');
    const r = await s.register(holder('mon1'), await s.read());
    if (!r.ok) throw new Error(r.why);
    const master = { name: 'db2', host: '10.0.0.2', port: 3307, epoch: r.lock.epoch, at: new Date().toISOString() };
    await r.lock.publishMaster(master);
    await r.lock.writeOffline(['db1']);
    expect((await s.read()).master).toEqual(master);
    expect(await s.readOffline()).toEqual(['db1']);
    const get = async (k: string) => (await etcd().etcdctl('get', '--print-value-only', k)).trim();
    expect(JSON.parse(await get('/mmmf/clusters/pub/master'))).toEqual(master);
    expect(await get('mysql/master/pub')).toBe('10.0.0.2:3307');
    expect(await get('mysql/master/pub/hostname')).toBe('10.0.0.2');
    expect(await get('mysql/master/pub/port')).toBe('3307');
    const plain = await open(opts(), 'plain');
    const rp = await plain.register(holder('mon1'), await plain.read());
    if (!rp.ok) throw new Error(rp.why);
    await rp.lock.publishMaster({ ...master, epoch: rp.lock.epoch });
    expect(await get('mysql/master/plain')).toBe('');
    await rp.lock.release();
    await r.lock.release();
  });

  it('check() refuses a step the lease cannot cover, and passes one it can', async () => {
    const s = await open(opts({ lockTtlSeconds: 3 }), 'budget');
    const r = await s.register(holder('mon1'), await s.read());
    if (!r.ok) throw new Error(r.why);
    await r.lock.check(1500);
    await expect(r.lock.check(5000)).rejects.toThrow(/step needs 5000 ms \(longer than lockTtlSeconds allows/);
    await r.lock.release();
    await expect(r.lock.check(100)).rejects.toThrow(/was released/);
    expect((await s.read()).holder).toBeUndefined();
  });
});

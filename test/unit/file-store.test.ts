// The local-files backend of a cluster's state: one lock per cluster however its configs name the hosts, a
// journal that survives a killed run, records only in a private folder.
import { chownSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { identityOf } from '../../src/state/cluster-identity.js';
import { LockLostError, type RunHolder } from '../../src/state/cluster-store.js';
import { FileStore } from '../../src/state/file-store.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'mmmf-store-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const holder = (o: Partial<RunHolder> = {}): RunHolder => ({
  runId: 'r1',
  host: hostname(),
  pid: process.pid,
  command: 'mmmf --failover-to db2',
  started: '2026-12-02T04:00:00.000Z',
  ...o,
});
const all = identityOf(undefined, ['db1:3306#1', 'db2:3306#2', 'db3:3306#3']);

describe('FileStore', () => {
  it('two configs of one cluster that differ by a host share one lock: the second run is refused', async () => {
    const a = FileStore.open(dir, all);
    const b = FileStore.open(dir, identityOf(undefined, ['db2:3306#2', 'db3:3306#3', 'db4:3306#4']));
    const first = await a.register(holder(), await a.read());
    expect(first.ok).toBe(true);
    const second = await b.register(holder({ runId: 'r2', command: 'mmmf --failover-to db3' }), await b.read());
    expect(second.ok).toBe(false);
    if (!second.ok) expect(second.holder?.command).toBe('mmmf --failover-to db2');
    // Another cluster (no shared server) has a lock of its own.
    const other = FileStore.open(dir, identityOf(undefined, ['x1:3306#1']));
    expect((await other.register(holder({ runId: 'r3' }), await other.read())).ok).toBe(true);
  });

  it('a second run is told which step the holder is at (its journal), and a lock taken over is lost at once', async () => {
    const a = FileStore.open(dir, all);
    const r = await a.register(holder(), await a.read());
    if (!r.ok) throw new Error(r.why);
    await r.lock.append({ type: 'start', target: 'db2' });
    await r.lock.append({ type: 'begin', n: 3 });
    await r.lock.setStep(3);
    const second = await a.register(holder({ runId: 'r2' }), await a.read());
    expect(second.ok).toBe(false);
    if (!second.ok) expect(second.why).toMatch(/, at step 3$/);
    // Someone removes the lock file and another run takes it: the next write of the first run is refused,
    // however recently it found the lock its own.
    rmSync(join(a.where, 'lock'));
    const third = await a.register(holder({ runId: 'r3' }), await a.read());
    expect(third.ok).toBe(true);
    await expect(r.lock.append({ type: 'begin', n: 4 })).rejects.toBeInstanceOf(LockLostError);
  });

  it('a named cluster is found by its name only', async () => {
    const a = FileStore.open(dir, identityOf('orders', ['db1:3306#1']));
    const b = FileStore.open(dir, identityOf('orders', ['zz:3306#9']));
    expect((await a.register(holder(), await a.read())).ok).toBe(true);
    expect((await b.register(holder({ runId: 'r2' }), await b.read())).ok).toBe(false);
  });

  it("keeps a killed run's journal for the next run, takes its lock over, and moves a finished one to history", async () => {
    const a = FileStore.open(dir, all);
    const r = await a.register(holder({ pid: 2 ** 22 + 7 }), await a.read()); // a pid that is not running
    if (!r.ok) throw new Error(r.why);
    await r.lock.append({ type: 'start', target: 'db2' });
    await r.lock.append({ type: 'begin', n: 1 });
    const seen = await a.read();
    expect(seen.holder).toBeUndefined(); // its process is gone
    expect(seen.run?.lines.map((l) => l.type)).toEqual(['start', 'begin']);
    const again = await a.register(holder(), seen);
    if (!again.ok) throw new Error(again.why);
    await expect(r.lock.append({ type: 'begin', n: 2 })).rejects.toBeInstanceOf(LockLostError);
    await again.lock.finish({ type: 'end', ok: true });
    expect((await a.read()).run).toBeUndefined();
    expect(readdirSync(join(dir, 'clusters', readdirSync(join(dir, 'clusters'))[0]!, 'history'))).toHaveLength(1);
  });

  it('refuses to register when the journal or the anti-flap record changed since it was read', async () => {
    const a = FileStore.open(dir, all);
    const stale = await a.read();
    const r = await a.register(holder(), stale);
    if (!r.ok) throw new Error(r.why);
    await r.lock.recordFailover({ finished: '2026-12-02T04:01:00.000Z', target: 'db2', ok: true });
    await r.lock.release();
    const late = await a.register(holder({ runId: 'r2' }), stale);
    expect(late.ok).toBe(false);
    expect((await a.read()).antiFlap?.target).toBe('db2');
  });

  it("refuses a state folder another user owns: a journal's statements are executed on resume", () => {
    // As root: a folder owned by nobody; as another user: the shared temp folder (root's, world-writable).
    let foreign = tmpdir();
    if (process.getuid?.() === 0) {
      foreign = join(dir, 'foreign');
      mkdirSync(foreign, { mode: 0o700 });
      chownSync(foreign, 65534, 65534);
    }
    expect(() => FileStore.open(foreign, all)).toThrow(/is not private to this user/);
    const mine = join(dir, 'mine');
    FileStore.open(mine, all);
    expect(statSync(mine).mode & 0o777).toBe(0o700);
  });
  it('probeWrite (check): a writable folder passes and keeps nothing; a folder gone bad is said', async () => {
    const s = FileStore.open(dir, all);
    await s.probeWrite();
    const folder = join(
      dir,
      'clusters',
      readdirSync(join(dir, 'clusters')).find((f) => !f.startsWith('.'))!,
    );
    expect(readdirSync(folder).filter((f) => f.includes('probe'))).toEqual([]);
    // Replaced by a file (root ignores permission bits, so a mode would prove nothing here).
    rmSync(folder, { recursive: true });
    writeFileSync(folder, '');
    await expect(s.probeWrite()).rejects.toThrow(/^cannot write in .*clusters\/auto-[0-9a-f]+: .*ENOTDIR/);
  });
});

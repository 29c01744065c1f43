// A real etcd per test file (harness/etcd.ts), started before its tests and always torn down after; stores the
// tests open are closed after each test, pass or fail.
import { afterAll, afterEach, beforeAll } from 'vitest';
import { randomUUID } from 'node:crypto';
import { startEtcd, type EtcdCluster } from '../harness/etcd.js';
import type { ClusterStore, RunHolder, StoreLock } from '../src/state/cluster-store.js';
import { openEtcdStore, type EtcdStoreOptions } from '../src/state/etcd-store.js';
import type { EtcdLock } from '../src/state/etcd-lock.js';

export function useEtcd(opts: Parameters<typeof startEtcd>[0]): () => EtcdCluster {
  let c: EtcdCluster | undefined;
  beforeAll(async () => {
    c = await startEtcd(opts);
  });
  afterAll(async () => {
    await c?.down();
  });
  return () => {
    if (!c) throw new Error('etcd did not start (see beforeAll)');
    return c;
  };
}

/** Opens stores as separate monitors would (each its own client), and closes them after each test. */
export function useStores(): (options: EtcdStoreOptions, cluster?: string) => Promise<ClusterStore> {
  const open: ClusterStore[] = [];
  afterEach(async () => {
    await Promise.all(open.splice(0).map((s) => s.close()));
  });
  return async (options, cluster = 'c1') => {
    const s = await openEtcdStore(options, cluster);
    open.push(s);
    return s;
  };
}

export function holder(host: string, command = 'mmmf --failover-to auto --if-dead'): RunHolder {
  return { runId: randomUUID(), host, pid: process.pid, command, started: new Date().toISOString() };
}

/** The lease's validity by the lock's own clock (ms), for measurements. */
export function validForMs(lock: StoreLock): number {
  return (lock as EtcdLock).lease.validForMs();
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Runs `fn` and returns what it threw and after how long (ms). */
export async function timedFailure(fn: () => Promise<unknown>): Promise<{ err: unknown; ms: number }> {
  const t0 = performance.now();
  try {
    await fn();
  } catch (err) {
    return { err, ms: performance.now() - t0 };
  }
  throw new Error(`expected a failure, it succeeded after ${Math.round(performance.now() - t0)} ms`);
}

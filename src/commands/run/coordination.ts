import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import { identitySql } from '../../dialect/dialect.js';
import { readUnfinished, type UnfinishedRun } from '../../executor/journal.js';
import { type ClusterIdentity, identityOf, memberId } from '../../state/cluster-identity.js';
import type { ClusterStore, RunHolder, StoreLock, StoreSnapshot } from '../../state/cluster-store.js';
import { describeHolder, FileStore } from '../../state/file-store.js';
import type { ResolvedConfig } from '../../topology/config-types.js';
import type { SqlConnection } from '../../topology/connection.js';
import { errorText } from '../../errors.js';
import type { CoordinationView } from '../../output/render-coordination.js';
import { refused } from './refusal.js';

/**
 * Who the cluster is, where its state lives, and who acts on it: the one place the command layer meets the cluster
 * store (state/cluster-store.ts). Local files by default; etcd with `coordination.etcd`, then mandatory: etcd
 * unreachable or without quorum ends the run before any change (never a silent fallback to local files).
 */

/**
 * The cluster's identity: the config's `cluster`, and the servers that answer as they name themselves; `order`
 * is the host names sorted by those identities (the same order for every config of the cluster).
 */
export async function readIdentity(
  config: ResolvedConfig,
  conns: Map<string, SqlConnection>,
): Promise<ClusterIdentity & { order: string[] }> {
  const members = await Promise.all(
    [...conns].map(async ([name, c]) => {
      try {
        const [row] = await c.query(identitySql, 5000);
        return row ? [{ name, id: memberId({ id: row.id, hostname: row.hostname, port: row.port }) }] : [];
      } catch {
        return [];
      }
    }),
  );
  const found = members.flat().sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const order = [...found.map((m) => m.name), ...[...conns.keys()].filter((n) => !found.some((m) => m.name === n))];
  return {
    ...identityOf(
      config.cluster,
      found.map((m) => m.id),
    ),
    order,
  };
}

/** The cluster's store: etcd when coordination is configured, else the private state folder. */
export async function openStore(
  config: ResolvedConfig,
  id: ClusterIdentity,
  o: { create: boolean },
): Promise<ClusterStore> {
  const etcd = config.coordination?.etcd;
  if (etcd && config.cluster) {
    const { openEtcdStore } = await import('../../state/etcd-store.js');
    return openEtcdStore(etcd, config.cluster);
  }
  return FileStore.open(config.stateDir, id, o);
}

/** What a run read from the store before acting: the snapshot, and the unfinished run it holds, if any. */
export interface StoreView {
  store: ClusterStore;
  snapshot: StoreSnapshot;
  unfinished: UnfinishedRun | undefined;
}

export async function readStore(store: ClusterStore): Promise<StoreView> {
  const snapshot = await store.read();
  const unfinished = snapshot.run ? readUnfinished(snapshot.run.lines) : undefined;
  return { store, snapshot, unfinished };
}

/**
 * Takes the cluster's lock for this command, in one step with what was read: refused (exit 3, nothing changed)
 * when another run holds it — naming it and its step — or acted since this run read the store.
 */
export async function takeClusterLock(view: StoreView, command: string): Promise<StoreLock> {
  const holder: RunHolder = {
    runId: randomUUID(),
    host: hostname(),
    pid: process.pid,
    command,
    started: new Date().toISOString(),
  };
  const h = view.snapshot.holder;
  if (h) throw heldRefusal(view.store, h);
  const r = await view.store.register(holder, view.snapshot);
  if (r.ok) return r.lock;
  if (r.holder) throw heldRefusal(view.store, r.holder);
  throw refused('another mmmf run acted on this cluster a moment ago: refusing, nothing was changed', [
    r.why,
    'run the command again: it reads the cluster afresh',
  ]);
}

function heldRefusal(store: ClusterStore, h: RunHolder & { step?: number }) {
  return refused("another mmmf run holds this cluster's lock: refusing, nothing was changed", [
    `held by ${describeHolder(h)} (${store.where})`,
    store.kind === 'etcd'
      ? 'wait for it to finish; if its monitor host died, its lock expires after lockTtlSeconds and the next run resumes its work'
      : 'wait for it to finish; if that process is gone, the next run takes the lock over',
  ]);
}

/** The cluster's master, published in the store for proxies and the next runs (etcd: the `master` key). */
export async function publishMaster(
  s: { config: ResolvedConfig; lock: StoreLock | undefined },
  name: string,
): Promise<void> {
  const h = s.config.hosts.find((x) => x.name === name);
  if (!h || !s.lock) return;
  const at = new Date().toISOString();
  await s.lock.publishMaster({ name, host: h.host, port: h.port, epoch: s.lock.epoch, at });
}

/**
 * Reads the cluster's store for `status` and `check` (never takes its lock); `check` also proves this host may
 * write what a run writes (`probeWrite`).
 */
export async function coordinationView(
  config: ResolvedConfig,
  conns: Map<string, SqlConnection>,
  o: { probeWrite?: boolean } = {},
): Promise<CoordinationView> {
  let store: ClusterStore | undefined;
  try {
    store = await openStore(config, await readIdentity(config, conns), { create: false });
    const { snapshot, unfinished } = await readStore(store);
    const offline = await store.readOffline();
    const writeError = o.probeWrite ? await store.probeWrite().then(() => undefined, errorText) : undefined;
    const where = store.kind === 'etcd' ? store.where : `files ${store.where}`; // etcd's names itself
    const h = snapshot.holder;
    const a = snapshot.antiFlap;
    const cfg = config.source;
    return {
      store: where,
      ...(h ? { holder: describeHolder(h) } : {}),
      ...(unfinished
        ? {
            unfinished: {
              text:
                `an unfinished ${unfinished.start.plan.kind} to ${unfinished.start.target}, started ` +
                `${unfinished.start.at} by pid ${unfinished.start.pid} on ${unfinished.start.host}, ` +
                `${unfinished.results.filter((r) => r.status === 'done' || r.status === 'skipped').length} of ` +
                `${unfinished.start.plan.steps.length} steps done`,
              fix:
                `finish it: mmmf --cfg ${cfg} --failover-to ${unfinished.start.target}` +
                ` (or undo it, if nothing was promoted: mmmf --cfg ${cfg} --abort)`,
              minutes: (Date.now() - Date.parse(unfinished.lastAt)) / 60_000,
            },
          }
        : {}),
      ...(a
        ? { lastFailover: `to ${a.target}, ${a.ok ? 'completed' : 'did not complete'}, finished ${a.finished}` }
        : {}),
      ...(snapshot.master ? { published: snapshot.master } : {}),
      ...(offline.length ? { offline } : {}),
      ...(writeError ? { writeError } : {}),
    };
  } catch (err) {
    return { store: config.coordination ? 'etcd' : 'files', error: errorText(err) };
  } finally {
    await store?.close().catch(() => {});
  }
}

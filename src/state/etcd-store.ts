/**
 * The etcd backend of {@link ClusterStore}: several monitor hosts share one cluster's lock, journal, anti-flap
 * record, offline hosts and published master (key layout: ./etcd-keys.ts).
 *
 * One actor: a run registers in ONE transaction (lock key absent, run and anti-flap records as it read them) that
 * creates the lock key with a fresh lease. A monitor that dies stops renewing; etcd deletes its lock key after the
 * TTL, and its unfinished `run` record is then what the next monitor reads and resumes. etcd3's own `lock()` is
 * not used: it writes no owner, and a refused monitor must be able to name the holder and its step.
 */
import { randomUUID } from 'node:crypto';
import { ConfigError } from '../errors.js';
import { CONFIG_DEFAULTS } from '../topology/config-defaults.js';
import type { ClusterStore, RegisterOutcome, RunHolder, StoreSnapshot } from './cluster-store.js';
import { connectEtcd, type EtcdConnection, type EtcdStoreOptions } from './etcd-client.js';
import { clusterKeys, decodeJournal, decodeJson, decodeLock, encodeLock, type ClusterKeys } from './etcd-keys.js';
import { LeaseKeeper } from './etcd-lease.js';
import { EtcdLock } from './etcd-lock.js';
import type { ICompare, IKeyValue, IRequestOp, ITxnResponse } from 'etcd3';

export type { EtcdStoreOptions } from './etcd-client.js';

const DEFAULT_PUBLISH = CONFIG_DEFAULTS['coordination.etcd.publishOrchestratorKeys'];
const get = (k: string): IRequestOp => ({ request_range: { key: Buffer.from(k) } });
const kvAt = (res: ITxnResponse, i: number): IKeyValue | undefined => res.responses[i]?.response_range?.kvs[0];

/** Opens the store (no request yet: the first `read()` finds out whether etcd answers). */
export async function openEtcdStore(options: EtcdStoreOptions, cluster: string): Promise<ClusterStore> {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(cluster)) {
    throw new ConfigError(`cluster: '${cluster}' cannot name etcd keys (letters, digits, '.', '_', '-')`);
  }
  const ttl = options.lockTtlSeconds ?? CONFIG_DEFAULTS['coordination.etcd.lockTtlSeconds'];
  if (!Number.isInteger(ttl) || ttl < 1) {
    throw new ConfigError(`coordination.etcd.lockTtlSeconds: a whole number of seconds >= 1, not ${ttl}`);
  }
  const conn = await connectEtcd(options);
  return new EtcdStore(
    conn,
    clusterKeys(options.prefix ?? CONFIG_DEFAULTS['coordination.etcd.prefix'], cluster),
    cluster,
    ttl,
    options,
  );
}

class EtcdStore implements ClusterStore {
  readonly kind = 'etcd';
  readonly where: string;
  private readonly locks = new Set<EtcdLock>();
  private closed = false;

  constructor(
    private readonly conn: EtcdConnection,
    private readonly keys: ClusterKeys,
    private readonly cluster: string,
    private readonly ttlSeconds: number,
    private readonly options: EtcdStoreOptions,
  ) {
    this.where = `${conn.where}, keys ${keys.base}`;
  }

  /** One read-only transaction: every record as of one revision. */
  async read(): Promise<StoreSnapshot> {
    const k = this.keys;
    const res = await this.conn.call(`reading ${k.base}`, (o) =>
      this.conn.client.kv.txn({ success: [get(k.lock), get(k.run), get(k.antiFlap), get(k.master)] }, o),
    );
    const [lock, run, antiFlap, master] = [0, 1, 2, 3].map((i) => kvAt(res, i));
    const lines = run ? decodeJournal(run.value) : [];
    // As in the journal file: a run whose last record is `end` is finished.
    const unfinished = run && lines.length > 0 && lines.at(-1)?.type !== 'end';
    const published = decodeJson<StoreSnapshot['master']>(master?.value);
    const last = decodeJson<StoreSnapshot['antiFlap']>(antiFlap?.value);
    return {
      ...(lock ? { holder: { ...decodeLock(lock.value), epoch: lock.create_revision } } : {}),
      ...(unfinished ? { run: { lines, revision: run.mod_revision } } : {}),
      runRevision: run?.mod_revision ?? '0',
      ...(last ? { antiFlap: last } : {}),
      antiFlapRevision: antiFlap?.mod_revision ?? '0',
      ...(published ? { master: published } : {}),
    };
  }

  async register(holder: RunHolder, seen: StoreSnapshot): Promise<RegisterOutcome> {
    const { conn, keys: k } = this;
    const sentAt = performance.now();
    const grant = await conn.call('granting the lock lease', (o) =>
      conn.client.leaseClient.leaseGrant({ TTL: this.ttlSeconds }, o),
    );
    const value = {
      runId: holder.runId,
      host: holder.host,
      pid: holder.pid,
      command: holder.command,
      started: holder.started,
    };
    let res: ITxnResponse;
    try {
      res = await conn.call(`registering the run in ${k.base}`, (o) =>
        conn.client.kv.txn(
          {
            compare: [
              { key: Buffer.from(k.lock), target: 'Create', result: 'Equal', create_revision: 0 },
              { key: Buffer.from(k.run), target: 'Mod', result: 'Equal', mod_revision: seen.runRevision },
              { key: Buffer.from(k.antiFlap), target: 'Mod', result: 'Equal', mod_revision: seen.antiFlapRevision },
            ],
            success: [{ request_put: { key: Buffer.from(k.lock), value: encodeLock(value), lease: grant.ID } }],
            failure: [get(k.lock), get(k.run), get(k.antiFlap)],
          },
          o,
        ),
      );
    } catch (err) {
      // It may have landed all the same: revoking the lease deletes a lock key made with it.
      await this.revokeQuietly(grant.ID);
      throw err;
    }
    if (!res.succeeded) {
      await this.revokeQuietly(grant.ID);
      return this.refusal(res, seen);
    }
    // A server may grant more than asked (its minimum TTL), never less: count with the smaller.
    const lease = new LeaseKeeper(conn, grant.ID, Math.min(this.ttlSeconds, Number(grant.TTL)), sentAt);
    lease.start();
    const lock = new EtcdLock(
      {
        conn,
        keys: k,
        cluster: this.cluster,
        publishOrchestratorKeys: this.options.publishOrchestratorKeys ?? DEFAULT_PUBLISH,
      },
      res.header.revision,
      lease,
      value,
      { lines: seen.run?.lines ?? [], revision: seen.runRevision },
    );
    this.locks.add(lock);
    return { ok: true, lock };
  }

  private refusal(res: ITxnResponse, seen: StoreSnapshot): RegisterOutcome {
    const [lock, run] = [0, 1].map((i) => kvAt(res, i));
    if (lock) {
      const h = { ...decodeLock(lock.value), epoch: lock.create_revision };
      const step = h.step === undefined ? '' : `, at step ${h.step}`;
      return {
        ok: false,
        holder: h,
        why: `held by run ${h.runId}: pid ${h.pid} on ${h.host} since ${h.started} (${h.command})${step}`,
      };
    }
    const changed =
      (run?.mod_revision ?? '0') !== seen.runRevision ? 'the record of the run in progress' : 'the anti-flap record';
    const why = `${changed} changed since this run read it: another monitor acted in between`;
    return { ok: false, why };
  }

  private async revokeQuietly(id: string): Promise<void> {
    await this.conn
      .call('revoking an unused lease', (o) => this.conn.client.leaseClient.leaseRevoke({ ID: id }, o))
      .catch(() => undefined); // it expires by itself after the TTL
  }

  async readOffline(): Promise<string[]> {
    const k = this.keys.offline;
    const res = await this.conn.call(`reading ${k}`, (o) => this.conn.client.kv.range({ key: Buffer.from(k) }, o));
    const names = decodeJson<unknown>(res.kvs[0]?.value);
    return Array.isArray(names) ? names.map(String) : [];
  }

  /**
   * Every key a run writes, in the branch of a transaction that never runs (etcd checks the permission of both
   * branches, and writes nothing), then one real write: a probe key on a lease of its own, removed by revoking
   * the lease (etcd deletes it by itself within the TTL if the revoke is lost).
   */
  async probeWrite(): Promise<void> {
    const { conn, keys: k } = this;
    const probe = `${k.base}probe/${randomUUID()}`;
    const keys = [k.lock, k.run, k.antiFlap, k.offline, k.master, k.history('probe')];
    if (this.options.publishOrchestratorKeys) keys.push(k.orchestrator, `${k.orchestrator}/hostname`);
    const never: ICompare = { key: Buffer.from(probe), target: 'Create', result: 'Less', create_revision: 0 };
    const puts = keys.map((key): IRequestOp => ({ request_put: { key: Buffer.from(key), value: Buffer.from('') } }));
    const res = await conn.call(`checking write access to ${keys.join(', ')}`, (o) =>
      conn.client.kv.txn({ compare: [never], success: puts, failure: [] }, o),
    );
    if (res.succeeded) throw new Error(`internal: etcd ran a transaction whose comparison cannot hold (${probe})`);
    const grant = await conn.call('granting a probe lease', (o) => conn.client.leaseClient.leaseGrant({ TTL: 5 }, o));
    try {
      await conn.call(`writing ${probe}`, (o) =>
        conn.client.kv.put({ key: Buffer.from(probe), value: Buffer.from('mmmf check'), lease: grant.ID }, o),
      );
    } finally {
      await this.revokeQuietly(grant.ID);
    }
  }

  /** Ends keepalives (a lock not released then expires after its TTL) and every grpc channel. */
  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    for (const lock of this.locks) lock.abandon();
    this.locks.clear();
    this.conn.close();
    return Promise.resolve();
  }
}

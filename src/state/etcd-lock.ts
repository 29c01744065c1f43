/**
 * A run lock held in etcd. The lock key's create revision is the epoch: every write is one transaction that
 * first compares it, so a run whose lease expired (its lock key deleted by etcd) or whose lock another run now
 * holds writes nothing, even before its own client noticed.
 */
import type { ICompare, IRequestOp, ITxnResponse } from 'etcd3';
import {
  LockLostError,
  type JournalLine,
  type LastFailover,
  type PublishedMaster,
  type StoreLock,
} from './cluster-store.js';
import type { EtcdConnection } from './etcd-client.js';
import {
  decodeJournal,
  decodeLock,
  encodeJournal,
  encodeJson,
  encodeLock,
  type ClusterKeys,
  type LockValue,
} from './etcd-keys.js';
import type { LeaseKeeper } from './etcd-lease.js';

const key = (k: string) => Buffer.from(k);
const put = (k: string, value: Buffer, lease?: string): IRequestOp => ({
  request_put: { key: key(k), value, ...(lease ? { lease } : {}) },
});
const get = (k: string): IRequestOp => ({ request_range: { key: key(k) } });

export interface LockContext {
  conn: EtcdConnection;
  keys: ClusterKeys;
  cluster: string;
  publishOrchestratorKeys: boolean;
}

export class EtcdLock implements StoreLock {
  private lines: JournalLine[];
  /** The run record's mod revision as this run last saw it ('0': absent). */
  private runRevision: string;
  private released = false;
  /** The writes under way, one after the other (see {@link serially}). */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly ctx: LockContext,
    readonly epoch: string,
    readonly lease: LeaseKeeper,
    private value: LockValue,
    run: { lines: JournalLine[]; revision: string },
  ) {
    this.lines = [...run.lines];
    this.runRevision = run.revision;
  }

  private get name(): string {
    return `the lock of cluster ${this.ctx.cluster} (epoch ${this.epoch})`;
  }

  private owned(): ICompare {
    return { key: key(this.ctx.keys.lock), target: 'Create', result: 'Equal', create_revision: this.epoch };
  }

  private assertNotLost(): void {
    if (this.lease.lost) throw new LockLostError(`${this.name} is lost: ${this.lease.lost}`);
    if (this.released) throw new LockLostError(`${this.name} was released`);
  }

  private assertValidFor(budgetMs: number, extra = ''): void {
    const left = this.lease.validForMs();
    if (left >= budgetMs) return;
    const tooLong =
      budgetMs > this.lease.ttlMs - this.lease.marginMs ? ' (longer than lockTtlSeconds allows: raise it)' : '';
    throw new LockLostError(
      `${this.name} may expire before the next step ends: its lease is valid for ${Math.max(0, Math.round(left))} ms` +
        ` more by this host's clock (${this.lease.describe()}), the step needs ${budgetMs} ms${tooLong}${extra}`,
    );
  }

  /** The guard failed: says who holds the lock now (or that it is gone) and stops using the lease. */
  private lostBy(res: ITxnResponse): never {
    const kv = res.responses[0]?.response_range?.kvs[0];
    const now = kv && decodeLock(kv.value);
    const why = kv
      ? `it is now held by run ${now?.runId} on ${now?.host} (epoch ${kv.create_revision})`
      : `its lease expired in etcd (${this.lease.describe()})`;
    this.lease.markLost(why);
    throw new LockLostError(`${this.name} is no longer this run's: ${why}`);
  }

  private async txn(
    what: string,
    compare: ICompare[],
    success: IRequestOp[],
    failure: IRequestOp[] = [],
    budgetMs?: number,
  ): Promise<ITxnResponse> {
    this.assertNotLost();
    const req = { compare: [this.owned(), ...compare], success, failure: [get(this.ctx.keys.lock), ...failure] };
    const res = await this.ctx.conn.call(
      `${what} (${this.name})`,
      (o) => this.ctx.conn.client.kv.txn(req, o),
      budgetMs,
    );
    if (!res.succeeded && !this.isOurs(res)) this.lostBy(res);
    return res;
  }

  private isOurs(res: ITxnResponse): boolean {
    return res.responses[0]?.response_range?.kvs[0]?.create_revision === this.epoch;
  }

  private async write(what: string, ops: IRequestOp[], budgetMs?: number): Promise<void> {
    const res = await this.txn(what, [], ops, [], budgetMs);
    if (!res.succeeded) this.lostBy(res);
  }

  async check(budgetMs: number): Promise<void> {
    this.assertNotLost();
    // What renewing may take: while the lease covers the step, no more than leaves it covered (a frozen etcd is
    // then noticed while the next step would still have been safe); once it no longer does (a short TTL between
    // two keepalives), as long as the lease surely lives: only the answer says whether it still covers the step.
    const spare = () => {
      const left = this.lease.validForMs();
      return Math.max(0, Math.min(this.ctx.conn.requestTimeoutMs, left >= budgetMs ? left - budgetMs : left));
    };
    if (this.lease.validForMs() <= 0) this.assertValidFor(budgetMs);
    try {
      // Renew first: the step then starts with a full lease, and the answer proves the lease still exists.
      await this.lease.renew(spare());
      this.assertNotLost();
      // Bounded alike: an etcd that froze right after answering the renewal must not hold the check past the
      // lease (seen under a loaded suite: the write waited the whole request timeout, 5 s against a 3 s lease).
      await this.write('checking the lock', [], spare());
    } catch (err) {
      // etcd did not answer in time: if that used up the lease, that is the reason to stop.
      if (!(err instanceof LockLostError)) this.assertValidFor(budgetMs, '; etcd did not answer in time');
      throw err;
    }
    this.assertValidFor(budgetMs);
  }

  /**
   * Writes the journal as `lines` + `line`. The run record's revision is compared too: when it changed while the
   * lock stayed ours, an earlier write whose answer was lost did land, so its content is taken and written again.
   */
  private async writeRun(what: string, line: JournalLine, ops: (lines: JournalLine[]) => IRequestOp[]) {
    for (let attempt = 0; attempt < 2; attempt++) {
      const lines = [...this.lines, line];
      const same: ICompare = {
        key: key(this.ctx.keys.run),
        target: 'Mod',
        result: 'Equal',
        mod_revision: this.runRevision,
      };
      const res = await this.txn(what, [same], ops(lines), [get(this.ctx.keys.run)]);
      if (res.succeeded) {
        this.lines = lines;
        return res;
      }
      const stored = res.responses[1]?.response_range?.kvs[0];
      this.lines = stored ? decodeJournal(stored.value) : [];
      this.runRevision = stored?.mod_revision ?? '0';
    }
    throw new LockLostError(`${this.name}: the run record keeps changing under this run: someone else writes it`);
  }

  /**
   * One write at a time: the steps of a parallel phase journal their begin and result at the same moment, and
   * each journal write compares the run record's revision this process last wrote. Concurrent, all but one of
   * them would fail the comparison and, written again, race again (a run stopped as if another wrote its journal).
   */
  private serially<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.queue.then(fn, fn);
    this.queue = next.catch(() => undefined);
    return next;
  }

  append(line: JournalLine): Promise<void> {
    return this.serially(() => this.appendNow(line));
  }

  private async appendNow(line: JournalLine): Promise<void> {
    const res = await this.writeRun('appending to the journal', line, (lines) => [
      put(this.ctx.keys.run, encodeJournal(lines)),
    ]);
    this.runRevision = res.header.revision;
  }

  finish(line: JournalLine): Promise<void> {
    return this.serially(() => this.finishNow(line));
  }

  private async finishNow(line: JournalLine): Promise<void> {
    await this.writeRun('finishing the run', line, (lines) => [
      put(this.ctx.keys.history(this.epoch), encodeJournal(lines)),
      { request_delete_range: { key: key(this.ctx.keys.run) } },
    ]);
    this.lines = [];
    this.runRevision = '0';
  }

  setStep(step: number): Promise<void> {
    return this.serially(async () => {
      const value = { ...this.value, step };
      await this.write('recording the step', [put(this.ctx.keys.lock, encodeLock(value), this.lease.id)]);
      this.value = value;
    });
  }

  recordFailover(last: LastFailover): Promise<void> {
    return this.serially(() => this.write('recording the failover', [put(this.ctx.keys.antiFlap, encodeJson(last))]));
  }

  publishMaster(master: PublishedMaster): Promise<void> {
    return this.serially(() => this.publishNow(master));
  }

  private async publishNow(master: PublishedMaster): Promise<void> {
    const k = this.ctx.keys;
    const ops = [put(k.master, encodeJson(master))];
    if (this.ctx.publishOrchestratorKeys) {
      ops.push(
        put(k.orchestrator, Buffer.from(`${master.host}:${master.port}`)),
        put(`${k.orchestrator}/hostname`, Buffer.from(master.host)),
        put(`${k.orchestrator}/port`, Buffer.from(String(master.port))),
      );
    }
    await this.write('publishing the master', ops);
  }

  writeOffline(names: string[]): Promise<void> {
    const sorted = [...new Set(names)].sort();
    return this.serially(() =>
      this.write('recording the hosts set offline', [put(this.ctx.keys.offline, encodeJson(sorted))]),
    );
  }

  /** Revokes the lease, which deletes the lock key (the journal stays). Only this run's lease can be revoked. */
  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    this.lease.stop();
    const { conn } = this.ctx;
    await conn.call(`releasing ${this.name} (it expires by itself within ${this.lease.ttlMs / 1000} s)`, (o) =>
      conn.client.leaseClient.leaseRevoke({ ID: this.lease.id }, o).catch((err: unknown) => {
        // Already expired: nothing left to release.
        if (!(err instanceof conn.lib.EtcdLeaseInvalidError)) throw err;
        return undefined;
      }),
    );
  }

  /** Stops renewing without releasing: the process goes away and etcd frees the lock after the TTL. */
  abandon(): void {
    this.lease.stop();
  }
}

/**
 * The run lock's lease, kept alive by this process, and how long it is still valid by this process's own
 * monotonic clock.
 *
 * Why our own clock: etcd3's Lease helper declares a lease lost only after about 2×TTL without a keepalive, while
 * the server may expire it after one TTL, and it measures with the wall clock. Here validity is the moment the
 * newest ACKNOWLEDGED keepalive (or the grant) was SENT, plus the TTL, minus a margin: the server received it
 * later than we sent it, so the server's expiry is never earlier than ours. (An etcd leader change resets leases
 * to their full TTL: that only makes the server's expiry later still.)
 */
import type { ILeaseKeepAliveResponse } from 'etcd3';
import type { CallOptions, EtcdConnection } from './etcd-client.js';

const now = () => performance.now();

export class LeaseKeeper {
  readonly ttlMs: number;
  /** Kept off the end of the lease: scheduling delays and clock-rate differences between hosts. */
  readonly marginMs: number;
  private readonly intervalMs: number;
  private ackedAt: number;
  private lostReason: string | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly open = new Set<{ cancel(): void }>();

  constructor(
    private readonly conn: EtcdConnection,
    readonly id: string,
    ttlSeconds: number,
    /** When the grant request was sent (monotonic ms). */
    grantSentAt: number,
  ) {
    this.ttlMs = ttlSeconds * 1000;
    this.marginMs = Math.min(2000, Math.max(200, this.ttlMs / 10));
    // The official Go client renews every TTL/3: two keepalives may be lost before the lease is in danger.
    this.intervalMs = this.ttlMs / 3;
    this.ackedAt = grantSentAt;
  }

  /** How much longer the lease is surely valid (ms; negative once it may have expired). */
  validForMs(): number {
    return this.ackedAt + this.ttlMs - this.marginMs - now();
  }

  /** Why the lease is gone for good (etcd said so), if it is. */
  get lost(): string | undefined {
    return this.lostReason;
  }

  markLost(reason: string): void {
    this.lostReason ??= reason;
    this.stop();
  }

  describe(): string {
    return `last keepalive acknowledged ${Math.round(now() - this.ackedAt)} ms ago, TTL ${this.ttlMs / 1000} s`;
  }

  start(): void {
    this.schedule(this.intervalMs);
  }

  /** Stops renewing (the lease then expires on the server after its TTL) and ends any keepalive under way. */
  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    for (const s of this.open) s.cancel();
    this.open.clear();
  }

  /** One keepalive, now. Throws StoreUnavailableError when etcd does not answer within `budgetMs`. */
  async renew(budgetMs = this.conn.requestTimeoutMs): Promise<void> {
    const sentAt = now();
    const res = await this.conn.call('renewing the lock lease', (o) => this.keepaliveRetried(o), budgetMs);
    if (Number(res.TTL) <= 0) this.markLost(`etcd reports lease ${this.id} expired`);
    else this.ackedAt = Math.max(this.ackedAt, sentAt);
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.tick(), ms);
    // A run that forgot close() must still let the process exit: the lease then simply expires.
    this.timer.unref();
  }

  private async tick(): Promise<void> {
    try {
      await this.renew();
      this.schedule(this.intervalMs);
    } catch (err) {
      // etcd 3.4's simple auth tokens expire (300 s by default); a keepalive stream does not re-authenticate.
      if (/invalid auth token/i.test(String(err))) await this.conn.reauthenticate().catch(() => undefined);
      this.schedule(Math.min(this.intervalMs, 250));
    }
  }

  /** Another endpoint after a failure, while the call's deadline allows (streams are not retried by etcd3). */
  private async keepaliveRetried(options: CallOptions): Promise<ILeaseKeepAliveResponse> {
    const { castGrpcError, isRecoverableError } = this.conn.lib;
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.keepaliveOnce(options);
      } catch (err) {
        const e = err instanceof Error ? castGrpcError(err) : err;
        if (this.stopped || attempt >= this.conn.attempts || !(e instanceof Error && isRecoverableError(e))) throw e;
      }
    }
  }

  /** A keepalive stream per renewal: bounded by the call's deadline, closed as soon as etcd answered. */
  private async keepaliveOnce(options: CallOptions): Promise<ILeaseKeepAliveResponse> {
    const stream = await this.conn.client.leaseClient.leaseKeepAlive(options);
    return new Promise<ILeaseKeepAliveResponse>((resolve, reject) => {
      const handle = {
        cancel: () => {
          stream.cancel();
          reject(new Error('closed'));
        },
      };
      this.open.add(handle);
      stream.on('data', (res) => {
        this.open.delete(handle);
        // Half-close: etcd ends the call with OK (a cancel would read as a failure of this endpoint).
        stream.end();
        resolve(res);
      });
      stream.on('error', (err) => {
        this.open.delete(handle);
        reject(err);
      });
      stream.on('end', () => {
        this.open.delete(handle);
        reject(new Error('etcd ended the keepalive stream without an answer'));
      });
      if (this.stopped) handle.cancel();
      else stream.write({ ID: this.id });
    });
  }
}

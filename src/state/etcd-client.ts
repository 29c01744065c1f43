/**
 * The etcd connection: the npm `etcd3` client (loaded only here, lazily: it parses its protobuf files at import,
 * ~0.4 s, which `mmmf --help` and configs without coordination must not pay), and one bounded way to call it.
 *
 * grpc retries and reconnects on its own and etcd3 adds retries and a circuit breaker: left alone, a call to a
 * frozen or partitioned etcd waits as long as grpc's deadline allows (none by default). Every call here carries a
 * deadline and is also raced against a timer of ours, so no call outlives `requestTimeoutMs`.
 */
import { readFileSync } from 'node:fs';
import type * as Etcd3Module from 'etcd3';
import type { Etcd3, IOptions, KVClient } from 'etcd3';
import { ConfigError } from '../errors.js';
import { CONFIG_DEFAULTS } from '../topology/config-defaults.js';
import { StoreUnavailableError } from './cluster-store.js';

/**
 * `coordination.etcd`. Example:
 * `{ endpoints: ['https://etcd1:2379', 'https://etcd2:2379'], tls: { ca: 'ca.pem', cert: 'mon1.pem', key: 'mon1-key.pem' } }`
 */
export interface EtcdStoreOptions {
  /** `host:port`, `http://host:port` or `https://host:port`; several members of one cluster. */
  endpoints: string[];
  /** Key prefix, default `/mmmf`. */
  prefix?: string;
  /** PEM files. With `cert` and `key`, the client authenticates by certificate (preferred over a password). */
  tls?: { ca: string; cert?: string; key?: string };
  /**
   * etcd user (simple auth). etcd 3.4's simple tokens expire (`--auth-token-ttl`, 300 s): the client
   * authenticates again when told its token is invalid, for requests and for lease keepalives alike.
   */
  username?: string;
  password?: string;
  /** The run lock's lease, default 15 s: a dead monitor's lock frees itself after this long. */
  lockTtlSeconds?: number;
  /** Deadline of every etcd request, default 3000 ms. */
  requestTimeoutMs?: number;
  /** Also publish the master in orchestrator's layout (`mysql/master/<cluster>` = host:port, `/hostname`, `/port`). */
  publishOrchestratorKeys?: boolean;
}

/** grpc's per-call options (a deadline), as etcd3's RPC methods take them. */
export type CallOptions = NonNullable<Parameters<KVClient['range']>[1]>;

/** A call with its deadline: pass `options` to the etcd3 RPC. */
export type Bounded = <T>(what: string, fn: (options: CallOptions) => Promise<T>, budgetMs?: number) => Promise<T>;

export interface EtcdConnection {
  client: Etcd3;
  /** The etcd3 module (its error classes), loaded by {@link connectEtcd}. */
  lib: typeof Etcd3Module;
  call: Bounded;
  requestTimeoutMs: number;
  /** How many attempts a call may make (each on another endpoint when there are several). */
  attempts: number;
  /** For messages: the endpoints, e.g. `etcd 127.0.0.1:2379,127.0.0.1:2381`. */
  where: string;
  /** Makes the next request authenticate again (etcd said the token expired). */
  reauthenticate(): Promise<void>;
  close(): void;
}

function readPem(path: string, what: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new ConfigError(`coordination.etcd.tls.${what}: cannot read ${path}`, [String(err)]);
  }
}

/**
 * The client's retries: each retry goes to another endpoint (etcd3 shuffles them, and skips one whose breaker is
 * open). With several endpoints, one failure opens a member's breaker for a second, so a dead or frozen member is
 * not tried again by the next attempt (lease keepalives are streams: etcd3 never retries those by itself).
 */
async function faultHandling(endpoints: number): Promise<IOptions['faultHandling']> {
  const { circuitBreaker, ConsecutiveBreaker, ConstantBackoff, handleWhen, noop, retry } = await import('cockatiel');
  const { isRecoverableError } = await import('etcd3');
  return {
    host: () =>
      endpoints > 1
        ? circuitBreaker(handleWhen(isRecoverableError), { halfOpenAfter: 1000, breaker: new ConsecutiveBreaker(1) })
        : noop,
    global: retry(handleWhen(isRecoverableError), { maxAttempts: 2 * endpoints, backoff: new ConstantBackoff(50) }),
  };
}

export async function connectEtcd(opts: EtcdStoreOptions): Promise<EtcdConnection> {
  if (!opts.endpoints.length) throw new ConfigError('coordination.etcd.endpoints: at least one endpoint is needed');
  const requestTimeoutMs = opts.requestTimeoutMs ?? CONFIG_DEFAULTS['coordination.etcd.requestTimeoutMs'];
  const credentials = opts.tls && {
    rootCertificate: readPem(opts.tls.ca, 'ca'),
    ...(opts.tls.cert ? { certChain: readPem(opts.tls.cert, 'cert') } : {}),
    ...(opts.tls.key ? { privateKey: readPem(opts.tls.key, 'key') } : {}),
  };
  const scheme = opts.tls ? 'https://' : 'http://';
  const hosts = opts.endpoints.map((e) => (/^https?:\/\//.test(e) ? e : scheme + e));
  const where = `etcd ${opts.endpoints.join(',')}`;
  if (opts.tls) quietIpServername();
  const lib = await import('etcd3');
  const client = new lib.Etcd3({
    hosts,
    ...(credentials ? { credentials } : {}),
    ...(opts.username
      ? {
          auth: {
            username: opts.username,
            password: opts.password ?? '',
            callOptions: () => ({ deadline: Date.now() + requestTimeoutMs }),
          },
        }
      : {}),
    faultHandling: await faultHandling(hosts.length),
    // grpc's own reconnect backoff grows to 120 s; a member back from a restart should be tried again soon.
    grpcOptions: { 'grpc.max_reconnect_backoff_ms': 1000, 'grpc.initial_reconnect_backoff_ms': 200 },
  });
  const call = boundedCall(where, requestTimeoutMs, hosts.length);
  return {
    client,
    lib,
    call,
    requestTimeoutMs,
    attempts: 2 * hosts.length,
    where,
    // The token is cached; a KV request that meets an invalid token makes etcd3 authenticate again.
    reauthenticate: async () => {
      await call('authenticating again', (o) => client.kv.range({ key: Buffer.from('\0'), limit: 1 }, o));
    },
    close: () => client.close(),
  };
}

/**
 * grpc-js gives Node's TLS the endpoint's host as the server name even when it is an IP address, and Node then
 * prints a deprecation warning (DEP0123) on stderr: once in every timer run's journal with `https://10.0.0.5:2379`.
 * The certificate is still checked against the IP (its subjectAltName), so that one warning is dropped; every
 * other warning is printed as before.
 */
function quietIpServername(): void {
  if (ipServernameQuiet) return;
  ipServernameQuiet = true;
  const emit = process.emitWarning.bind(process) as (...args: unknown[]) => void;
  process.emitWarning = (...args: unknown[]) => {
    const [, type, code] = args;
    const c = typeof type === 'object' && type !== null ? (type as { code?: string }).code : code;
    if (c !== 'DEP0123') emit(...args);
  };
}
let ipServernameQuiet = false;

function boundedCall(where: string, requestTimeoutMs: number, endpoints: number): Bounded {
  return async (what, fn, budgetMs = requestTimeoutMs) => {
    const deadline = Date.now() + budgetMs;
    // Each retry gets a share of the budget, so one frozen member does not use all of it; etcd3 reads the
    // options once per attempt, hence a getter (grpc deadlines are wall-clock).
    const attemptMs = Math.max(budgetMs / Math.min(endpoints, 3), 250);
    const options: CallOptions = {
      get deadline() {
        return Math.min(deadline, Date.now() + attemptMs);
      },
    };
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${budgetMs} ms`)), budgetMs + 100);
    });
    try {
      return await Promise.race([fn(options), late]);
    } catch (err) {
      throw unavailable(where, what, budgetMs, err);
    } finally {
      clearTimeout(timer);
    }
  };
}

/** What the operator needs: which etcd, what we were doing, what failed, and what it likely means. */
export function unavailable(where: string, what: string, budgetMs: number, err: unknown): StoreUnavailableError {
  const e = err as { name?: string; message?: string };
  const message = (e.message ?? String(err)).replace(/\s*Resolution note:\s*$/, '');
  const text = `${e.name && e.name !== 'Error' ? `${e.name}: ` : ''}${message}`;
  const silent = `no member answered within ${budgetMs} ms: etcd down, frozen, or without quorum`;
  // grpc's own words for a deadline ("waiting for name resolution", "0.001s" on a retry) only mislead.
  if (/deadline|no answer within/i.test(text)) return new StoreUnavailableError(`${where}: ${what} failed: ${silent}`);
  const hint = /permission|auth|token|certificate|handshake|SSL|TLS/i.test(text)
    ? ' (check the etcd user, its password or client certificate, and its role on the key prefix)'
    : /timed out|no leader|unavailable|ECONNREFUSED|circuit/i.test(text)
      ? ` (${silent})`
      : '';
  return new StoreUnavailableError(`${where}: ${what} failed: ${text}${hint}`);
}

import { CONFIG_DEFAULTS } from './config-defaults.js';
import { existsSync } from 'node:fs';
import { resolve as resolvePath } from 'node:path';
import type { EtcdConfig } from './config-types.js';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A cluster name: it names files and etcd keys. */
const CLUSTER_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const ETCD_KEYS = [
  'endpoints',
  'prefix',
  'tls',
  'username',
  'password',
  'lockTtlSeconds',
  'requestTimeoutMs',
  'publishOrchestratorKeys',
];

/** What these keys resolve to. Example: `{ cluster: 'orders', journalMaxAgeMinutes: 60, etcd: { endpoints: [...] } }` */
export interface CoordinationSettings {
  cluster?: string;
  journalMaxAgeMinutes: number;
  etcd?: EtcdConfig;
}

/**
 * `cluster`, `journalMaxAgeMinutes` and `coordination: { etcd }`: who the cluster is, how stale a journal may be
 * before a run no longer resumes it by itself, and where several monitor hosts keep their shared state. Every
 * problem is reported through `p`.
 */
export function checkCoordination(raw: Obj, p: (m: string) => void, baseDir: string): CoordinationSettings {
  const out: CoordinationSettings = { journalMaxAgeMinutes: CONFIG_DEFAULTS.journalMaxAgeMinutes };
  if (raw.cluster !== undefined) {
    if (typeof raw.cluster !== 'string' || !CLUSTER_RE.test(raw.cluster)) {
      p(`cluster: a name of letters, digits, '.', '_', '-' (up to 64), got ${JSON.stringify(raw.cluster)}`);
    } else out.cluster = raw.cluster;
  }
  const age = raw.journalMaxAgeMinutes;
  if (age !== undefined) {
    if (typeof age !== 'number' || !(age > 0))
      p(`journalMaxAgeMinutes: a number of minutes > 0, got ${JSON.stringify(age)}`);
    else out.journalMaxAgeMinutes = age;
  }
  const c = raw.coordination;
  if (c === undefined) return out;
  if (!isObj(c) || !isObj(c.etcd)) {
    p("coordination: must be { etcd: { endpoints: ['etcd1:2379', ...], ... } }");
    return out;
  }
  for (const k of Object.keys(c)) if (k !== 'etcd') p(`coordination.${k}: unknown key (known: etcd)`);
  const etcd = checkEtcd(c.etcd, p, baseDir);
  if (!out.cluster && raw.cluster === undefined) {
    p(
      "cluster: required with coordination (every monitor host's config must name the cluster the same: cluster: 'orders')",
    );
  }
  if (etcd) out.etcd = etcd;
  return out;
}

function checkEtcd(e: Obj, p: (m: string) => void, baseDir: string): EtcdConfig | undefined {
  const at = 'coordination.etcd';
  for (const k of Object.keys(e))
    if (!ETCD_KEYS.includes(k)) p(`${at}.${k}: unknown key (known: ${ETCD_KEYS.join(', ')})`);
  const endpoints = e.endpoints;
  const okEndpoints =
    Array.isArray(endpoints) && endpoints.length > 0 && endpoints.every((x) => typeof x === 'string' && x !== '');
  if (!okEndpoints)
    p(`${at}.endpoints: a non-empty list of 'host:port' (or https://host:port), got ${JSON.stringify(endpoints)}`);
  const str = (k: string) => {
    if (e[k] !== undefined && (typeof e[k] !== 'string' || e[k] === '')) p(`${at}.${k}: must be a non-empty string`);
  };
  ['prefix', 'username', 'password'].forEach(str);
  if (typeof e.prefix === 'string' && !e.prefix.startsWith('/'))
    p(`${at}.prefix: must start with '/', got '${e.prefix}'`);
  if ((e.username === undefined) !== (e.password === undefined)) p(`${at}: username and password go together`);
  const ttl = e.lockTtlSeconds;
  // A step starts only while the lease is surely valid for 2 s more (less a margin of its own): 2 s never are.
  if (ttl !== undefined && !(Number.isInteger(ttl) && (ttl as number) >= 3)) {
    p(`${at}.lockTtlSeconds: a whole number of seconds >= 3, got ${JSON.stringify(ttl)}`);
  }
  const timeout = e.requestTimeoutMs;
  if (timeout !== undefined && !(typeof timeout === 'number' && timeout >= 100)) {
    p(`${at}.requestTimeoutMs: a number of milliseconds >= 100, got ${JSON.stringify(timeout)}`);
  }
  if (e.publishOrchestratorKeys !== undefined && typeof e.publishOrchestratorKeys !== 'boolean') {
    p(`${at}.publishOrchestratorKeys: must be true or false`);
  }
  const tls = e.tls === undefined ? undefined : checkEtcdTls(e.tls, p, baseDir);
  if (!okEndpoints) return undefined;
  return {
    endpoints: endpoints as string[],
    ...(typeof e.prefix === 'string' ? { prefix: e.prefix } : {}),
    ...(tls ? { tls } : {}),
    ...(typeof e.username === 'string' ? { username: e.username } : {}),
    ...(typeof e.password === 'string' ? { password: e.password } : {}),
    ...(typeof ttl === 'number' ? { lockTtlSeconds: ttl } : {}),
    ...(typeof timeout === 'number' ? { requestTimeoutMs: timeout } : {}),
    ...(e.publishOrchestratorKeys === true ? { publishOrchestratorKeys: true } : {}),
  };
}

function checkEtcdTls(v: unknown, p: (m: string) => void, baseDir: string): EtcdConfig['tls'] | undefined {
  const at = 'coordination.etcd.tls';
  if (!isObj(v)) {
    p(`${at}: must be { ca, cert, key } (PEM files relative to the config)`);
    return undefined;
  }
  const files: Record<string, string> = {};
  for (const k of ['ca', 'cert', 'key']) {
    if (v[k] === undefined) continue;
    if (typeof v[k] !== 'string' || v[k] === '') {
      p(`${at}.${k}: must be a file path`);
      continue;
    }
    const file = resolvePath(baseDir, v[k]);
    if (!existsSync(file)) p(`${at}.${k}: ${file} does not exist (paths are relative to the config file)`);
    files[k] = file;
  }
  for (const k of Object.keys(v))
    if (!['ca', 'cert', 'key'].includes(k)) p(`${at}.${k}: unknown key (known: ca, cert, key)`);
  if (!files.ca) p(`${at}.ca: missing; etcd's certificate is verified against it`);
  if ((files.cert === undefined) !== (files.key === undefined)) p(`${at}: cert and key go together`);
  return files.ca
    ? { ca: files.ca, ...(files.cert ? { cert: files.cert } : {}), ...(files.key ? { key: files.key } : {}) }
    : undefined;
}

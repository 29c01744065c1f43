import { homedir } from 'node:os';
import { dirname, join, resolve as resolvePath } from 'node:path';
import { existsSync } from 'node:fs';
import { CONFIG_DEFAULTS as D, DEFAULT_TIMEOUTS } from './config-defaults.js';
import type { ClientTls, Positioning, ReplicationTls, ResolvedConfig, ResolvedHost } from './config-types.js';
import { checkCoordination } from './validate-coordination.js';
import { checkSemiSync, resolveSemiSync } from './validate-semi-sync.js';
import { formatAddress } from '../domain/address.js';

/** $MMMF_STATE_DIR, else $XDG_STATE_HOME/mmmf, else ~/.local/state/mmmf. */
export function defaultStateDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.MMMF_STATE_DIR) return env.MMMF_STATE_DIR;
  return join(env.XDG_STATE_HOME || join(homedir(), '.local/state'), 'mmmf');
}

const TOP_KEYS = [
  'replication',
  'defaults',
  'hosts',
  'timeouts',
  'positioning',
  'stateDir',
  'antiFlapMinutes',
  'deadConfirmSeconds',
  'hooks',
  'logFile',
  'switchover',
  'vip',
  'ssh',
  'candidates',
  'neverPromote',
  'cluster',
  'journalMaxAgeMinutes',
  'coordination',
  'semiSync',
  'salvage',
];
export const POSITIONINGS: readonly Positioning[] = ['gtid', 'file', 'auto'];
const SWITCHOVER_KEYS = ['maxLagSeconds', 'maxTransactionSeconds'];
const HOOK_KEYS = ['preFailover', 'postFailover', 'onFailure', 'fence'];
const CIDR_RE = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/;
const IFACE_RE = /^[A-Za-z0-9_.:@-]{1,15}$/;

function checkSsh(o: unknown, at: string, p: (m: string) => void): void {
  if (o === undefined) return;
  if (!isObj(o)) return p(`${at}: must be an object { user, port, identityFile, options }, got ${kind(o)}`);
  unknownKeys(o, at === 'ssh' ? SSH_KEYS.filter((k) => k !== 'host') : SSH_KEYS, `${at}.`, p);
  for (const k of ['host', 'user', 'identityFile'])
    if (o[k] !== undefined && (typeof o[k] !== 'string' || o[k] === '')) p(`${at}.${k}: must be a non-empty string`);
  if (o.port !== undefined && !(typeof o.port === 'number' && Number.isInteger(o.port) && o.port > 0 && o.port < 65536))
    p(`${at}.port: must be an integer from 1 to 65535`);
  if (
    o.options !== undefined &&
    !(Array.isArray(o.options) && o.options.every((x) => typeof x === 'string' && /^\w+=.*$/.test(x)))
  ) {
    p(`${at}.options: must be an array of 'Name=value' strings (ssh -o), got ${JSON.stringify(o.options)}`);
  }
}
const HOST_KEYS = ['host', 'port', 'user', 'password', 'socket', 'ssh', 'vipInterface', 'ssl', 'binlogDir'];
const SSH_KEYS = ['host', 'user', 'port', 'identityFile', 'options'];
const DEFAULT_KEYS = ['port', 'user', 'password', 'ssl'];
const TLS_KEYS = ['ca', 'cert', 'key', 'verifyServerCert'];
const TIMEOUT_KEYS = ['connect', 'drain', 'equalize', 'verify', 'hook'];
const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const kind = (v: unknown) => (v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v);

type Problem = (m: string) => void;

/**
 * Checks a loaded config and returns either the resolved config or every problem found, so the operator
 * fixes them all in one go. Problems never quote password values.
 */
export function validateConfig(
  raw: unknown,
  source: string,
  named: { flag: string; name: string }[] = [],
): { config?: ResolvedConfig; problems: string[] } {
  const problems: string[] = [];
  const p: Problem = (msg) => problems.push(msg);
  if (!isObj(raw)) {
    return { problems: [`the config must be an object (its default export), got ${kind(raw)}`] };
  }
  unknownKeys(raw, TOP_KEYS, '', p);
  checkReplication(raw.replication, p);
  const defaults = raw.defaults ?? {};
  checkDefaults(defaults, p);
  const positive = (v: number) => v > 0 && Number.isFinite(v);
  checkNumbers(raw.timeouts ?? {}, 'timeouts', TIMEOUT_KEYS, positive, 'a positive number of seconds', p);
  checkScalars(raw, p);
  checkHooks(raw.hooks ?? {}, p);
  checkNumbers(raw.switchover ?? {}, 'switchover', SWITCHOVER_KEYS, (v) => v >= 0, 'a number of seconds >= 0', p);
  checkVip(raw.vip, p);
  checkSsh(raw.ssh, 'ssh', p);
  checkSemiSync(raw.semiSync, p);
  const hosts = checkHosts(raw, isObj(defaults) ? defaults : {}, p, dirname(source));
  checkNames(raw, named, p);
  const coordination = checkCoordination(raw, p, dirname(source));
  checkSalvage(raw.salvage, p);
  if (problems.length) return { problems };
  return { problems, config: resolve(raw, source, hosts, coordination) };
}

/** The resolved config of a raw config that passed every check: defaults filled in, paths made absolute. */
function resolve(
  raw: Obj,
  source: string,
  hosts: ResolvedHost[],
  coordination: ReturnType<typeof checkCoordination>,
): ResolvedConfig {
  const r = raw.replication as { user: string; password: string; ssl?: unknown };
  const replSsl = r.ssl !== undefined ? replicationTls(r.ssl, () => {}) : undefined;
  const vip = raw.vip;
  const list = (v: unknown) => (Array.isArray(v) ? (v as string[]) : []);
  return {
    replication: { user: r.user, password: r.password, ...(replSsl ? { ssl: replSsl } : {}) },
    hosts,
    timeouts: { ...DEFAULT_TIMEOUTS, ...(raw.timeouts as Partial<ResolvedConfig['timeouts']> | undefined) },
    positioning: (raw.positioning as Positioning | undefined) ?? D.positioning,
    stateDir: typeof raw.stateDir === 'string' ? resolvePath(dirname(source), raw.stateDir) : defaultStateDir(),
    antiFlapMinutes: typeof raw.antiFlapMinutes === 'number' ? raw.antiFlapMinutes : D.antiFlapMinutes,
    deadConfirmSeconds: typeof raw.deadConfirmSeconds === 'number' ? raw.deadConfirmSeconds : D.deadConfirmSeconds,
    sshConfigured:
      raw.ssh !== undefined ||
      raw.vip !== undefined ||
      Object.values(isObj(raw.hosts) ? raw.hosts : {}).some((h) => isObj(h) && h.ssh !== undefined),
    hooks: raw.hooks ?? {},
    switchover: {
      maxLagSeconds: D['switchover.maxLagSeconds'],
      maxTransactionSeconds: D['switchover.maxTransactionSeconds'],
      ...(raw.switchover as Partial<ResolvedConfig['switchover']> | undefined),
    },
    candidates: list(raw.candidates),
    neverPromote: list(raw.neverPromote),
    ...(isObj(vip)
      ? {
          vip: {
            address: vip.address as string,
            interface: vip.interface as string,
            readers: Array.isArray(vip.readers) ? list(vip.readers) : [...D['vip.readers']],
            readerMaxLagSeconds:
              typeof vip.readerMaxLagSeconds === 'number' ? vip.readerMaxLagSeconds : D['vip.readerMaxLagSeconds'],
          },
        }
      : {}),
    ...(typeof raw.logFile === 'string' ? { logFile: resolvePath(dirname(source), raw.logFile) } : {}),
    semiSync: resolveSemiSync(raw.semiSync),
    ...resolveSalvage(raw, hosts),
    source,
    journalMaxAgeMinutes: coordination.journalMaxAgeMinutes,
    ...(coordination.cluster ? { cluster: coordination.cluster } : {}),
    ...(coordination.etcd ? { coordination: { etcd: coordination.etcd } } : {}),
  };
}

function checkReplication(repl: unknown, p: Problem): void {
  if (repl === undefined) {
    p('replication: missing; add replication: { user: "repl", password: "..." } (the account replicas connect with)');
  } else if (!isObj(repl)) p(`replication: must be an object { user, password }, got ${kind(repl)}`);
  else {
    unknownKeys(repl, ['user', 'password', 'ssl'], 'replication.', p);
    if (repl.ssl !== undefined) replicationTls(repl.ssl, p);
    str(repl, 'user', 'replication.', p, true);
    str(repl, 'password', 'replication.', p, true, true);
  }
}

function checkDefaults(defaults: unknown, p: Problem): void {
  if (!isObj(defaults)) return p(`defaults: must be an object, got ${kind(defaults)}`);
  unknownKeys(defaults, DEFAULT_KEYS, 'defaults.', p);
  port(defaults, 'defaults.', p);
  str(defaults, 'user', 'defaults.', p, false);
  str(defaults, 'password', 'defaults.', p, false, true);
}

/** An object of numbers (timeouts, switchover limits): known keys only, each one passing `ok`. */
function checkNumbers(
  o: unknown,
  at: string,
  keys: string[],
  ok: (v: number) => boolean,
  what: string,
  p: Problem,
): void {
  if (!isObj(o)) return p(`${at}: must be an object, got ${kind(o)}`);
  unknownKeys(o, keys, `${at}.`, p);
  for (const k of keys) {
    const v = o[k];
    if (v !== undefined && !(typeof v === 'number' && ok(v)))
      p(`${at}.${k}: must be ${what}, got ${JSON.stringify(v)}`);
  }
}

function checkScalars(raw: Obj, p: Problem): void {
  if (raw.positioning !== undefined && !POSITIONINGS.includes(raw.positioning as Positioning)) {
    p(`positioning: must be 'gtid', 'file' or 'auto', got ${JSON.stringify(raw.positioning)}`);
  }
  if (raw.stateDir !== undefined && (typeof raw.stateDir !== 'string' || raw.stateDir === '')) {
    p(`stateDir: must be a folder path, got ${JSON.stringify(raw.stateDir)}`);
  }
  const flap = raw.antiFlapMinutes;
  if (flap !== undefined && !(typeof flap === 'number' && flap >= 0)) {
    p(`antiFlapMinutes: must be a number of minutes >= 0 (0 turns the check off), got ${JSON.stringify(flap)}`);
  }
  const dead = raw.deadConfirmSeconds;
  if (dead !== undefined && !(typeof dead === 'number' && dead >= 0 && dead <= 600)) {
    p(
      `deadConfirmSeconds: must be a number of seconds from 0 to 600 (default ${D.deadConfirmSeconds}), ` +
        `got ${JSON.stringify(dead)}`,
    );
  }
  if (raw.logFile !== undefined && (typeof raw.logFile !== 'string' || raw.logFile === '')) {
    p(`logFile: must be a file path, got ${JSON.stringify(raw.logFile)}`);
  }
}

function checkHooks(hooks: unknown, p: Problem): void {
  if (!isObj(hooks)) return p(`hooks: must be an object { preFailover, postFailover, onFailure }, got ${kind(hooks)}`);
  unknownKeys(hooks, HOOK_KEYS, 'hooks.', p);
  for (const k of HOOK_KEYS) {
    const v = hooks[k];
    const ok =
      v === undefined ||
      (typeof v === 'string' && v.trim() !== '') ||
      (Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === 'string'));
    if (!ok) p(`hooks.${k}: must be a shell command string or an argv array of strings, got ${JSON.stringify(v)}`);
  }
}

function checkVip(vip: unknown, p: Problem): void {
  if (vip === undefined) return;
  if (!isObj(vip))
    return p(
      `vip: must be an object { address: 'A.B.C.D/prefix', interface: 'eth0', readers?: [...] }, got ${kind(vip)}`,
    );
  unknownKeys(vip, ['address', 'interface', 'readers', 'readerMaxLagSeconds'], 'vip.', p);
  const cidr = (v: unknown) => {
    const m = typeof v === 'string' ? CIDR_RE.exec(v) : null;
    return !!m && !m.slice(1, 5).some((x) => Number(x) > 255) && Number(m[5]) <= 32;
  };
  if (!cidr(vip.address)) {
    const got = JSON.stringify(vip.address);
    p(`vip.address: must be an IPv4 address with a prefix length, like '10.0.0.100/24', got ${got}`);
  }
  if (vip.readers !== undefined) {
    const readers = vip.readers;
    if (!Array.isArray(readers) || readers.some((r) => !cidr(r))) {
      p(
        "vip.readers: must be a list of IPv4 addresses with a prefix length, like ['10.0.0.201/24'], " +
          `got ${JSON.stringify(readers)}`,
      );
    } else {
      const seen = new Set<unknown>([vip.address]);
      for (const r of readers) {
        if (seen.has(r))
          p(`vip.readers: ${String(r)} is listed twice (or is the writer VIP): every VIP has one holder`);
        seen.add(r);
      }
    }
  }
  const lag = vip.readerMaxLagSeconds;
  if (lag !== undefined && !(typeof lag === 'number' && lag >= 0)) {
    const def = D['vip.readerMaxLagSeconds'];
    p(`vip.readerMaxLagSeconds: must be a number of seconds >= 0 (default ${def}), got ${JSON.stringify(lag)}`);
  }
  if (typeof vip.interface !== 'string' || !IFACE_RE.test(vip.interface)) {
    p(`vip.interface: must be a network interface name like 'eth0', got ${JSON.stringify(vip.interface)}`);
  }
}

function checkHosts(raw: Obj, d: Obj, p: Problem, baseDir: string): ResolvedHost[] {
  const hosts: ResolvedHost[] = [];
  if (raw.hosts === undefined) {
    p('hosts: missing; list every server of the cluster: hosts: { db1: { host: "10.0.0.1", port: 3306 }, ... }');
    return hosts;
  }
  if (!isObj(raw.hosts)) {
    p(`hosts: must be an object keyed by host name, got ${kind(raw.hosts)}`);
    return hosts;
  }
  const entries = Object.entries(raw.hosts);
  if (entries.length < 2) p(`hosts: a failover needs at least 2 servers, got ${entries.length}`);
  const seen = new Map<string, string>();
  for (const [name, h] of entries) {
    if (!NAME_RE.test(name)) p(`hosts.${name}: a host name may hold only letters, digits, '_', '.', '-'`);
    if (!isObj(h)) {
      p(`hosts.${name}: must be an object { host, port, ... }, got ${kind(h)}`);
      continue;
    }
    const host = checkHost(name, h, d, isObj(raw.ssh) ? raw.ssh : {}, p, baseDir);
    if (!host) continue;
    const key = formatAddress(host);
    const other = seen.get(key);
    if (other) p(`hosts.${name}: same address ${key} as hosts.${other}; every server needs its own host:port`);
    else seen.set(key, name);
    hosts.push(host);
  }
  return hosts;
}

/** One host with the defaults applied; undefined (after its problems) when its address is unusable. */
function checkHost(name: string, h: Obj, d: Obj, ssh: Obj, p: Problem, baseDir: string): ResolvedHost | undefined {
  const at = `hosts.${name}.`;
  unknownKeys(h, HOST_KEYS, at, p);
  const okHost = str(h, 'host', at, p, true);
  const okPort = port(h, at, p);
  str(h, 'user', at, p, false);
  str(h, 'password', at, p, false, true);
  str(h, 'socket', at, p, false);
  checkSsh(h.ssh, `hosts.${name}.ssh`, p);
  if (h.vipInterface !== undefined && (typeof h.vipInterface !== 'string' || !IFACE_RE.test(h.vipInterface))) {
    p(`${at}vipInterface: must be a network interface name`);
  }
  if (h.binlogDir !== undefined && !(typeof h.binlogDir === 'string' && h.binlogDir.startsWith('/'))) {
    p(
      `${at}binlogDir: must be an absolute folder on that host, like '/var/lib/mysql', got ${JSON.stringify(h.binlogDir)}`,
    );
  }
  const user = (h.user ?? d.user) as string | undefined;
  if (user === undefined) p(`${at}user: missing; set it on the host or in defaults.user`);
  const ssl =
    h.ssl !== undefined
      ? clientTls(h.ssl, `${at}ssl`, p, baseDir)
      : d.ssl !== undefined
        ? clientTls(d.ssl, 'defaults.ssl', p, baseDir)
        : undefined;
  if (!okHost || !okPort) return undefined;
  const own = isObj(h.ssh) ? h.ssh : {};
  const identityFile = (own.identityFile || ssh.identityFile) as string | undefined;
  return {
    name,
    host: h.host as string,
    port: (h.port ?? d.port ?? D['defaults.port']) as number,
    user: user ?? '',
    password: (h.password ?? d.password ?? '') as string,
    ...(typeof h.socket === 'string' ? { socket: h.socket } : {}),
    ssh: {
      host: (typeof own.host === 'string' ? own.host : h.host) as string,
      user: (own.user || ssh.user || D['ssh.user']) as string,
      port: (own.port || ssh.port || D['ssh.port']) as number,
      ...(identityFile ? { identityFile } : {}),
      options: [...((ssh.options || []) as string[]), ...((own.options || []) as string[])],
    },
    ...(typeof h.vipInterface === 'string' ? { vipInterface: h.vipInterface } : {}),
    ...(ssl ? { ssl } : {}),
    ...(typeof h.binlogDir === 'string' ? { binlogDir: h.binlogDir.replace(/(.)\/+$/, '$1') } : {}),
  };
}

/** Default bound on the binlog bytes a salvage reads (headers and transactions the replica holds included). */
export const DEFAULT_SALVAGE_MAX_BYTES = 256 * 1024 * 1024;

function checkSalvage(v: unknown, p: Problem): void {
  if (v === undefined || v === false) return;
  if (!isObj(v)) return p(`salvage: must be false or an object { maxBytes }, got ${JSON.stringify(v)}`);
  unknownKeys(v, ['maxBytes'], 'salvage.', p);
  const max = v.maxBytes;
  if (max !== undefined && !(typeof max === 'number' && Number.isSafeInteger(max) && max >= 65536)) {
    p(`salvage.maxBytes: must be a whole number of bytes, at least 65536, got ${JSON.stringify(max)}`);
  }
}

/**
 * Salvage is on unless `salvage: false`, for the hosts SSH is configured for: the shared `ssh` settings or a
 * VIP (which needs SSH on every host), else a host's own `ssh` or `binlogDir`.
 */
function resolveSalvage(raw: Obj, hosts: ResolvedHost[]): Pick<ResolvedConfig, 'salvage'> {
  if (raw.salvage === false) return {};
  const all = raw.ssh !== undefined || raw.vip !== undefined;
  const own = isObj(raw.hosts) ? raw.hosts : {};
  const ssh = hosts.filter((h) => {
    const c = own[h.name];
    return all || (isObj(c) && (c.ssh !== undefined || c.binlogDir !== undefined));
  });
  const max = isObj(raw.salvage) && typeof raw.salvage.maxBytes === 'number' ? raw.salvage.maxBytes : undefined;
  return { salvage: { maxBytes: max ?? DEFAULT_SALVAGE_MAX_BYTES, hosts: ssh.map((h) => h.name) } };
}

/** mmmf's own TLS: known keys, files that exist (relative to the config's folder), a boolean verify flag. */
function clientTls(v: unknown, at: string, p: Problem, baseDir: string): ClientTls | undefined {
  if (!isObj(v)) {
    p(`${at}: must be an object { ca, cert, key, verifyServerCert }, got ${kind(v)}`);
    return undefined;
  }
  unknownKeys(v, TLS_KEYS, `${at}.`, p);
  const out: ClientTls = {};
  for (const k of ['ca', 'cert', 'key'] as const) {
    if (v[k] === undefined) continue;
    if (typeof v[k] !== 'string' || v[k] === '') {
      p(`${at}.${k}: must be a file path, got ${JSON.stringify(v[k])}`);
      continue;
    }
    const file = resolvePath(baseDir, v[k]);
    if (!existsSync(file)) p(`${at}.${k}: ${file} does not exist (paths are relative to the config file)`);
    out[k] = file;
  }
  if ((v.cert === undefined) !== (v.key === undefined))
    p(`${at}: cert and key go together (a client certificate needs its key)`);
  if (v.verifyServerCert !== undefined && typeof v.verifyServerCert !== 'boolean') {
    p(`${at}.verifyServerCert: must be true or false, got ${JSON.stringify(v.verifyServerCert)}`);
  }
  // mmmf logs in with an admin password: over a connection to a server it did not verify, that password goes
  // to whoever answers on the port (a dead master's port is anyone's to take).
  if (v.verifyServerCert === false) {
    p(
      `${at}.verifyServerCert: false would send mmmf's admin password to any server that answers on the port; ` +
        'remove it and set ca to the CA that signed the server certificates',
    );
  } else if (!out.ca) p(`${at}.ca: missing; the server certificate is verified against it`);
  return out;
}

/** The replication channels' TLS: paths on the replicas' hosts (not checked here: they are read by the servers). */
function replicationTls(v: unknown, p: Problem): ReplicationTls | undefined {
  const at = 'replication.ssl';
  if (!isObj(v)) {
    p(`${at}: must be an object { ca, cert, key, verifyServerCert }, got ${kind(v)}`);
    return undefined;
  }
  unknownKeys(v, TLS_KEYS, `${at}.`, p);
  const out: ReplicationTls = {};
  for (const k of ['ca', 'cert', 'key'] as const) {
    if (v[k] === undefined) continue;
    if (typeof v[k] !== 'string' || !v[k].startsWith('/'))
      p(`${at}.${k}: must be an absolute path on the replicas' hosts, got ${JSON.stringify(v[k])}`);
    else out[k] = v[k];
  }
  if (v.verifyServerCert !== undefined && typeof v.verifyServerCert !== 'boolean') {
    p(`${at}.verifyServerCert: must be true or false, got ${JSON.stringify(v.verifyServerCert)}`);
  } else if (v.verifyServerCert === false) out.verifyServerCert = false;
  return out;
}

/**
 * Names that pick hosts: `candidates` and `neverPromote` in the config, and the ones given on the command line
 * (checked with everything else, so all problems show at once). Exact names, never patterns: a typo must not
 * silently change who may be promoted.
 */
function checkNames(raw: Obj, named: { flag: string; name: string }[], p: Problem): void {
  const configured = isObj(raw.hosts) ? Object.keys(raw.hosts) : [];
  if (configured.includes('auto'))
    p("hosts.auto: 'auto' is reserved (--failover-to auto chooses the target); rename it");
  for (const key of ['candidates', 'neverPromote'] as const) {
    const v = raw[key];
    if (v === undefined) continue;
    if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) {
      p(`${key}: must be a list of host names, like ['db2', 'db3'], got ${JSON.stringify(v)}`);
      continue;
    }
    for (const name of v) if (!configured.includes(name)) p(`${key}: '${name}' is not a configured host`);
  }
  for (const n of named) {
    if ((n.name === 'auto' && n.flag === '--failover-to') || configured.includes(n.name)) continue;
    p(`${n.flag} ${n.name}: no such host in the config (configured hosts: ${configured.join(', ') || 'none'})`);
  }
}

function unknownKeys(o: Obj, allowed: string[], at: string, p: (m: string) => void) {
  for (const k of Object.keys(o)) {
    if (!allowed.includes(k)) p(`${at}${k}: unknown key (allowed: ${allowed.join(', ')})`);
  }
}

function str(o: Obj, k: string, at: string, p: (m: string) => void, required: boolean, secret = false): boolean {
  const v = o[k];
  if (v === undefined) {
    if (required) p(`${at}${k}: missing`);
    return !required;
  }
  if (typeof v !== 'string') {
    p(`${at}${k}: must be a string, got ${secret ? kind(v) : JSON.stringify(v)}`);
    return false;
  }
  if (required && !secret && v.length === 0) {
    p(`${at}${k}: must not be empty`);
    return false;
  }
  return true;
}

function port(o: Obj, at: string, p: (m: string) => void): boolean {
  const v = o.port;
  if (v === undefined) return true;
  if (!(typeof v === 'number' && Number.isInteger(v) && v > 0 && v < 65536)) {
    p(`${at}port: must be an integer from 1 to 65535, got ${JSON.stringify(v)}`);
    return false;
  }
  return true;
}

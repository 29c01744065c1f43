import { homedir } from 'node:os';
import { dirname, join, resolve as resolvePath } from 'node:path';
import type { Positioning, ResolvedConfig, ResolvedHost } from './config-types.js';

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
  'hooks',
  'logFile',
  'switchover',
  'vip',
  'ssh',
  'candidates',
  'neverPromote',
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
const HOST_KEYS = ['host', 'port', 'user', 'password', 'socket', 'ssh', 'vipInterface'];
const SSH_KEYS = ['host', 'user', 'port', 'identityFile', 'options'];
const DEFAULT_KEYS = ['port', 'user', 'password'];
const TIMEOUT_KEYS = ['connect', 'drain', 'equalize', 'verify', 'hook'];
const DEFAULT_TIMEOUTS = { connect: 3, drain: 300, equalize: 600, verify: 60, hook: 60 };
const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const kind = (v: unknown) => (v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v);

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
  const p = (msg: string) => problems.push(msg);
  if (!isObj(raw)) {
    return { problems: [`the config must be an object (its default export), got ${kind(raw)}`] };
  }
  unknownKeys(raw, TOP_KEYS, '', p);

  const repl = raw.replication;
  if (repl === undefined)
    p('replication: missing; add replication: { user: "repl", password: "..." } (the account replicas connect with)');
  else if (!isObj(repl)) p(`replication: must be an object { user, password }, got ${kind(repl)}`);
  else {
    unknownKeys(repl, ['user', 'password'], 'replication.', p);
    str(repl, 'user', 'replication.', p, true);
    str(repl, 'password', 'replication.', p, true, true);
  }

  const defaults = raw.defaults ?? {};
  if (!isObj(defaults)) p(`defaults: must be an object, got ${kind(defaults)}`);
  else {
    unknownKeys(defaults, DEFAULT_KEYS, 'defaults.', p);
    port(defaults, 'defaults.', p);
    str(defaults, 'user', 'defaults.', p, false);
    str(defaults, 'password', 'defaults.', p, false, true);
  }

  const timeouts = raw.timeouts ?? {};
  if (!isObj(timeouts)) p(`timeouts: must be an object, got ${kind(timeouts)}`);
  else {
    unknownKeys(timeouts, TIMEOUT_KEYS, 'timeouts.', p);
    for (const k of TIMEOUT_KEYS) {
      const v = timeouts[k];
      if (v !== undefined && !(typeof v === 'number' && v > 0 && Number.isFinite(v)))
        p(`timeouts.${k}: must be a positive number of seconds, got ${JSON.stringify(v)}`);
    }
  }

  if (raw.positioning !== undefined && !POSITIONINGS.includes(raw.positioning as Positioning))
    p(`positioning: must be 'gtid', 'file' or 'auto', got ${JSON.stringify(raw.positioning)}`);

  if (raw.stateDir !== undefined && (typeof raw.stateDir !== 'string' || raw.stateDir === ''))
    p(`stateDir: must be a folder path, got ${JSON.stringify(raw.stateDir)}`);
  if (raw.antiFlapMinutes !== undefined && !(typeof raw.antiFlapMinutes === 'number' && raw.antiFlapMinutes >= 0))
    p(
      `antiFlapMinutes: must be a number of minutes >= 0 (0 turns the check off), got ${JSON.stringify(raw.antiFlapMinutes)}`,
    );

  const hooks = raw.hooks ?? {};
  if (!isObj(hooks)) p(`hooks: must be an object { preFailover, postFailover, onFailure }, got ${kind(hooks)}`);
  else {
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
  const sw = raw.switchover ?? {};
  if (!isObj(sw)) p(`switchover: must be an object { maxLagSeconds, maxTransactionSeconds }, got ${kind(sw)}`);
  else {
    unknownKeys(sw, SWITCHOVER_KEYS, 'switchover.', p);
    for (const k of SWITCHOVER_KEYS) {
      const v = sw[k];
      if (v !== undefined && !(typeof v === 'number' && v >= 0))
        p(`switchover.${k}: must be a number of seconds >= 0, got ${JSON.stringify(v)}`);
    }
  }
  const vip = raw.vip;
  if (vip !== undefined) {
    if (!isObj(vip)) p(`vip: must be an object { address: 'A.B.C.D/prefix', interface: 'eth0' }, got ${kind(vip)}`);
    else {
      unknownKeys(vip, ['address', 'interface'], 'vip.', p);
      const m = typeof vip.address === 'string' ? CIDR_RE.exec(vip.address) : null;
      if (!m || m.slice(1, 5).some((x) => Number(x) > 255) || Number(m[5]) > 32)
        p(
          `vip.address: must be an IPv4 address with a prefix length, like '10.0.0.100/24', got ${JSON.stringify(vip.address)}`,
        );
      if (typeof vip.interface !== 'string' || !IFACE_RE.test(vip.interface))
        p(`vip.interface: must be a network interface name like 'eth0', got ${JSON.stringify(vip.interface)}`);
    }
  }
  checkSsh(raw.ssh, 'ssh', p);
  if (raw.logFile !== undefined && (typeof raw.logFile !== 'string' || raw.logFile === ''))
    p(`logFile: must be a file path, got ${JSON.stringify(raw.logFile)}`);

  const hosts: ResolvedHost[] = [];
  if (raw.hosts === undefined)
    p('hosts: missing; list every server of the cluster: hosts: { db1: { host: "10.0.0.1", port: 3306 }, ... }');
  else if (!isObj(raw.hosts)) p(`hosts: must be an object keyed by host name, got ${kind(raw.hosts)}`);
  else {
    const entries = Object.entries(raw.hosts);
    if (entries.length < 2) p(`hosts: a failover needs at least 2 servers, got ${entries.length}`);
    const seen = new Map<string, string>();
    for (const [name, h] of entries) {
      const at = `hosts.${name}.`;
      if (!NAME_RE.test(name)) p(`hosts.${name}: a host name may hold only letters, digits, '_', '.', '-'`);
      if (!isObj(h)) {
        p(`hosts.${name}: must be an object { host, port, ... }, got ${kind(h)}`);
        continue;
      }
      unknownKeys(h, HOST_KEYS, at, p);
      const okHost = str(h, 'host', at, p, true);
      const okPort = port(h, at, p);
      str(h, 'user', at, p, false);
      str(h, 'password', at, p, false, true);
      str(h, 'socket', at, p, false);
      checkSsh(h.ssh, `hosts.${name}.ssh`, p);
      if (h.vipInterface !== undefined && (typeof h.vipInterface !== 'string' || !IFACE_RE.test(h.vipInterface)))
        p(`${at}vipInterface: must be a network interface name`);
      const d = isObj(defaults) ? defaults : {};
      const resolvedPort = (h.port ?? d.port ?? 3306) as number;
      const user = (h.user ?? d.user) as string | undefined;
      if (user === undefined) p(`${at}user: missing; set it on the host or in defaults.user`);
      if (okHost && okPort) {
        const key = `${h.host}:${resolvedPort}`;
        const other = seen.get(key);
        if (other) p(`hosts.${name}: same address ${key} as hosts.${other}; every server needs its own host:port`);
        else seen.set(key, name);
      }
      hosts.push({
        name,
        host: h.host as string,
        port: resolvedPort,
        user: user ?? '',
        password: (h.password ?? d.password ?? '') as string,
        ...(typeof h.socket === 'string' ? { socket: h.socket } : {}),
        ssh: {
          host: (isObj(h.ssh) && typeof h.ssh.host === 'string' ? h.ssh.host : h.host) as string,
          user: ((isObj(h.ssh) && h.ssh.user) || (isObj(raw.ssh) && raw.ssh.user) || 'root') as string,
          port: ((isObj(h.ssh) && h.ssh.port) || (isObj(raw.ssh) && raw.ssh.port) || 22) as number,
          ...((isObj(h.ssh) && h.ssh.identityFile) || (isObj(raw.ssh) && raw.ssh.identityFile)
            ? {
                identityFile: ((isObj(h.ssh) && h.ssh.identityFile) ||
                  (isObj(raw.ssh) && raw.ssh.identityFile)) as string,
              }
            : {}),
          options: [
            ...(((isObj(raw.ssh) && raw.ssh.options) || []) as string[]),
            ...(((isObj(h.ssh) && h.ssh.options) || []) as string[]),
          ],
        },
        ...(typeof h.vipInterface === 'string' ? { vipInterface: h.vipInterface } : {}),
      });
    }
  }

  // Names given on the command line are checked with everything else, so all problems show at once.
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
    // Exact names, never patterns: a typo must not silently change who may be promoted.
    for (const name of v) if (!configured.includes(name)) p(`${key}: '${name}' is not a configured host`);
  }
  for (const n of named) {
    if (n.name === 'auto' && n.flag === '--failover-to') continue;
    if (configured.includes(n.name)) continue;
    p(`${n.flag} ${n.name}: no such host in the config (configured hosts: ${configured.join(', ') || 'none'})`);
  }
  if (problems.length) return { problems };
  const r = repl as { user: string; password: string };
  return {
    problems,
    config: {
      replication: { user: r.user, password: r.password },
      hosts,
      timeouts: { ...DEFAULT_TIMEOUTS, ...timeouts },
      positioning: (raw.positioning as Positioning | undefined) ?? 'auto',
      stateDir: typeof raw.stateDir === 'string' ? resolvePath(dirname(source), raw.stateDir) : defaultStateDir(),
      antiFlapMinutes: typeof raw.antiFlapMinutes === 'number' ? raw.antiFlapMinutes : 60,
      hooks: hooks,
      switchover: { maxLagSeconds: 10, maxTransactionSeconds: 5, ...sw },
      candidates: Array.isArray(raw.candidates) ? (raw.candidates as string[]) : [],
      neverPromote: Array.isArray(raw.neverPromote) ? (raw.neverPromote as string[]) : [],
      ...(isObj(vip) ? { vip: { address: vip.address as string, interface: vip.interface as string } } : {}),
      ...(typeof raw.logFile === 'string' ? { logFile: resolvePath(dirname(source), raw.logFile) } : {}),
      source,
    },
  };
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

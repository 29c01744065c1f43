import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runChild } from '../process/run-child.js';
import type { ResolvedHost } from '../topology/config-types.js';
import { shellQuote } from './vip-commands.js';

export { shellQuote, showRemote } from './vip-commands.js';

/**
 * SSH for the VIP steps, the reader-VIP survey, check and --if-dead's host check.
 *
 * Multiplexing (one connection per host, its handshake paid while probing rather than while writes are blocked)
 * is private to one run: a connection process per host, started by this run, its socket in a folder of the
 * private state folder named for this run, never looked at by another run, and ended when the run ends. A
 * shared socket that outlives its run is what hung failovers after a power loss: every later ssh through it
 * waited on a host that no longer answered. ServerAlive options make a silent host fail within the connect
 * timeout, and every ssh runs with a deadline that ends its whole process group (process/run-child.ts).
 */

/** Keep-alive probes: a host silent for about the connect timeout is given up. */
function aliveOptions(connectTimeoutSec: number): string[] {
  const t = Math.max(1, Math.round(connectTimeoutSec));
  return ['-o', `ConnectTimeout=${t}`, '-o', 'ServerAliveInterval=1', '-o', `ServerAliveCountMax=${t}`];
}

function baseOptions(host: ResolvedHost, connectTimeoutSec: number): string[] {
  const s = host.ssh;
  return [
    '-o',
    'BatchMode=yes',
    ...aliveOptions(connectTimeoutSec),
    ...s.options.flatMap((o) => ['-o', o]),
    ...(s.identityFile ? ['-i', s.identityFile] : []),
    '-p',
    String(s.port),
    '-l',
    s.user,
  ];
}

/** The ssh argv for running `argv` on `host` (through this run's connection to it when `controlPath` is given). */
export function sshArgs(host: ResolvedHost, argv: string[], connectTimeoutSec: number, controlPath?: string): string[] {
  const control = controlPath
    ? ['-o', 'ControlMaster=no', '-o', `ControlPath=${controlPath}`]
    : ['-o', 'ControlPath=none'];
  return [...baseOptions(host, connectTimeoutSec), ...control, '--', host.ssh.host, argv.map(shellQuote).join(' ')];
}

export interface RemoteResult {
  ok: boolean;
  code: number | undefined;
  out: string;
}

/** This run's connection processes: host name → control socket, and the folder that holds them. */
interface Mux {
  dir: string;
  sockets: Map<string, string>;
  pids: Map<string, number>;
}
// One run per process: the mux is module state, opened by the session and closed by it, however the run ends.
let mux: Mux | undefined;

/** Unix socket paths are limited to 107 bytes; a deeper state folder runs without multiplexing. */
const MAX_SOCKET_PATH = 100;

/**
 * Opens this run's connection to every host (failures are left for the real steps to report: they connect on
 * their own). `stateDir` is the private state folder; the sockets live in `<stateDir>/ssh/<pid>-<time>/`.
 */
export async function openMux(hosts: ResolvedHost[], stateDir: string, connectTimeoutSec: number): Promise<void> {
  await closeMux();
  const root = join(stateDir, 'ssh');
  mkdirSync(root, { recursive: true, mode: 0o700 });
  removeStaleMuxes(root);
  const dir = join(root, `${process.pid}-${Date.now().toString(36)}`);
  mkdirSync(dir, { mode: 0o700 });
  writeFileSync(join(dir, 'pid'), String(process.pid), { mode: 0o600 });
  const m: Mux = { dir, sockets: new Map(), pids: new Map() };
  mux = m;
  await Promise.all(
    hosts.map(async (h, i) => {
      const socket = join(dir, String(i));
      if (socket.length <= MAX_SOCKET_PATH) await startMaster(m, h, socket, connectTimeoutSec);
    }),
  );
}

/**
 * One connection process (`ssh -M -N`), in its own process group, stdio on /dev/null so nothing can hold a
 * pipe of ours; ready once its socket exists. It lives until closeMux, or until the host is silent for the
 * connect timeout (ServerAlive), or at most an hour should this run be killed without closing it.
 */
async function startMaster(m: Mux, h: ResolvedHost, socket: string, connectTimeoutSec: number): Promise<void> {
  const { spawn } = await import('node:child_process');
  const args = [
    ...baseOptions(h, connectTimeoutSec),
    '-M',
    '-N',
    '-o',
    `ControlPath=${socket}`,
    '-o',
    'ControlPersist=no',
    '--',
    h.ssh.host,
  ];
  const child = spawn('timeout', ['-s', 'KILL', '3600', 'ssh', ...args], { detached: true, stdio: 'ignore' });
  child.on('error', () => {});
  child.unref();
  if (child.pid !== undefined) {
    m.pids.set(h.name, child.pid);
    // So that a later run can end it if this one is killed before closing it.
    writeFileSync(`${socket}.pid`, String(child.pid), { mode: 0o600 });
  }
  const until = Date.now() + connectTimeoutSec * 1000 + 1000;
  let exited = false;
  child.on('exit', () => (exited = true));
  while (!exited && Date.now() < until && !existsSync(socket)) await new Promise((r) => setTimeout(r, 10));
  if (existsSync(socket) && !exited) m.sockets.set(h.name, socket);
}

/** Ends this run's connection processes and removes their folder. */
export async function closeMux(): Promise<void> {
  const m = mux;
  mux = undefined;
  if (!m) return;
  for (const pid of m.pids.values()) killGroup(pid);
  rmSync(m.dir, { recursive: true, force: true });
}

function killGroup(pid: number): void {
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // gone already
  }
}

/** Folders of runs whose process is gone (killed): their connection processes are ended, the folder removed. */
function removeStaleMuxes(root: string): void {
  for (const name of readdirSync(root)) {
    const dir = join(root, name);
    let pid = NaN;
    try {
      pid = Number(readFileSync(join(dir, 'pid'), 'utf8'));
    } catch {
      // no pid file: a folder being created right now, or a broken one; left alone
      continue;
    }
    if (!Number.isFinite(pid) || alive(pid)) continue;
    for (const f of readdirSync(dir).filter((x) => x.endsWith('.pid') && x !== 'pid')) {
      const master = Number(readFileSync(join(dir, f), 'utf8'));
      if (Number.isFinite(master) && master > 1 && ownMaster(master, join(dir, f.slice(0, -4)))) killGroup(master);
    }
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The process still is that connection process (a pid can be reused): its command line names the socket. */
function ownMaster(pid: number, socket: string): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(`ControlPath=${socket}`);
  } catch {
    return false;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Runs `argv` on `host` over SSH, through this run's connection when there is one, within a deadline that ends
 * the whole process group. `shared: false` opens a connection of its own (a check that must see the network as
 * it is now, not through a connection opened before a cut).
 */
export async function runRemote(
  host: ResolvedHost,
  argv: string[],
  connectTimeoutSec: number,
  o: { shared?: boolean; timeoutSec?: number } = {},
): Promise<RemoteResult> {
  const socket = o.shared === false ? undefined : mux?.sockets.get(host.name);
  const usable = socket && existsSync(socket) ? socket : undefined;
  const r = await runChild('ssh', sshArgs(host, argv, connectTimeoutSec, usable), {
    timeoutMs: (o.timeoutSec ?? connectTimeoutSec + 20) * 1000,
  });
  const out = r.timedOut
    ? `${r.out ? `${r.out}\n` : ''}no answer within ${o.timeoutSec ?? connectTimeoutSec + 20} s`
    : r.out;
  return { ok: r.ok, code: r.timedOut ? undefined : (r.code ?? (r.startError ? 255 : undefined)), out };
}

/** What a binary-safe remote command gave: its stdout as bytes, never decoded or trimmed, apart from stderr. */
export interface RemoteBytes {
  exitCode: number | undefined;
  stdout: Buffer;
  stderr: string;
}

/**
 * Runs `argv` on `host` over SSH like runRemote (this run's connection, a deadline that ends the whole group),
 * but keeps stdout as bytes and stderr apart: binlog bytes must reach mmmf exactly as they are on disk, and an
 * ssh or tool complaint must never be mistaken for them. At most `maxBytes` + 1 bytes of stdout are kept, so
 * a reader asking for `maxBytes` sees an overrun. Rejects when ssh cannot run or the deadline passes.
 */
export async function runRemoteBytes(
  host: ResolvedHost,
  argv: string[],
  connectTimeoutSec: number,
  o: { maxBytes: number; timeoutSec?: number },
): Promise<RemoteBytes> {
  const socket = mux?.sockets.get(host.name);
  const usable = socket && existsSync(socket) ? socket : undefined;
  const seconds = o.timeoutSec ?? connectTimeoutSec + 60;
  const r = await runChild('ssh', sshArgs(host, argv, connectTimeoutSec, usable), {
    timeoutMs: seconds * 1000,
    binary: true,
    maxOutputBytes: o.maxBytes + 1,
  });
  if (r.startError) throw new Error(`cannot run ssh: ${r.startError}`);
  if (r.timedOut) throw new Error(`ssh ${host.ssh.user}@${host.ssh.host}: no answer within ${seconds} s`);
  return { exitCode: r.code, stdout: r.bytes ?? Buffer.alloc(0), stderr: r.stderr };
}

import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';

/**
 * Every child process mmmf starts (ssh, hooks, the binlog tools) runs here: in a process group of its own,
 * with a deadline that ends the whole group.
 *
 * Why not execa's `timeout`: it kills the direct child only and then waits for the pipes to close. A child's
 * child that inherited them (an OpenSSH connection process, the `cat` of `sleep 3600 | cat`) keeps them open,
 * so the wait has no bound — measured: `sh -c 'sleep 6|cat'` with a 1 s timeout returned after 6 s. Here the
 * result is settled when the direct child exits (its pipes get a short grace to drain) or at the deadline, and
 * then whatever is left of its group is killed and the pipes are destroyed.
 */

/** Example: `{ ok: false, code: undefined, signal: 'SIGKILL', timedOut: true, out: '...', stdout: '...' }` */
export interface ChildResult {
  /** Exited with code 0 before its deadline. */
  ok: boolean;
  code: number | undefined;
  signal: string | undefined;
  timedOut: boolean;
  /** stdout and stderr interleaved as they came (trimmed, at most MAX_OUTPUT bytes). */
  out: string;
  /** stdout alone (at most MAX_OUTPUT bytes). */
  stdout: string;
  /** stderr alone (at most MAX_OUTPUT bytes): a binary stdout is judged apart from what the child complained. */
  stderr: string;
  /** Why it could not start (ENOENT, EACCES), when it could not. */
  startError?: string;
}

export interface ChildOptions {
  /** The whole group is killed when this passes (SIGTERM, then SIGKILL a moment later). */
  timeoutMs: number;
  /** Written to stdin, which is then closed; without it stdin is /dev/null. */
  input?: string | Buffer;
  /**
   * Instead of `input`: stdin stays open and is handed over, for a command started ahead of time that waits
   * for a word on its stdin (vip/armed.ts). Closing it (or mmmf dying) ends that wait.
   */
  openStdin?: (stdin: NodeJS.WritableStream) => void;
  /** Sees stdout as it comes (besides collecting it): a command that says it is done before its ssh has ended. */
  onStdout?: (chunk: Buffer) => void;
  /**
   * A file the child reads as its stdin (instead of `input`): it is read whole whatever happens to mmmf, never
   * cut short by mmmf dying half-way through writing a pipe.
   */
  stdinFile?: string;
  /** The child's whole environment (nothing is inherited when given). */
  env?: Record<string, string>;
  /**
   * Collect stdout as bytes only (binlog reads, decoded SQL: megabytes): `stdout` is then '' and `out` is stderr's
   * text. Turning tens of megabytes into strings nobody reads cost more than reading them over SSH (measured: a
   * 24 MB binlog read in 4 MB pieces took 500 ms instead of 110 ms).
   */
  binary?: boolean;
  /** Cap on collected output (bytes); beyond it the output is cut, never buffered without bound. */
  maxOutputBytes?: number;
}

const MAX_OUTPUT = 1 << 20;
/** After the direct child exits, how long its pipes may take to deliver what it wrote. */
const PIPE_GRACE_MS = 100;
/** Between SIGTERM to the group and SIGKILL. */
const KILL_GRACE_MS = 500;

/** Groups whose leader still runs: killed when mmmf exits (an uncaught error, a signal it handles). */
const live = new Set<number>();
let exitHookInstalled = false;

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // the group is gone already
  }
}

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const pid of live) killGroup(pid, 'SIGKILL');
  });
}

/** Runs `file args` in its own process group; never throws, never waits past `timeoutMs` (plus a kill grace). */
export function runChild(file: string, args: string[], o: ChildOptions): Promise<ChildResult & { bytes?: Buffer }> {
  installExitHook();
  const cap = o.maxOutputBytes ?? MAX_OUTPUT;
  return new Promise((resolve) => {
    const started = spawnGroup(file, args, o);
    if (!started.child) return resolve(notStarted(started.error));
    const { child } = started;
    const all = capped(cap);
    const out = capped(cap);
    const err = capped(cap);
    child.stdout?.on('data', (c: Buffer) => {
      if (!o.binary) all.push(c);
      out.push(c);
      o.onStdout?.(c);
    });
    child.stderr?.on('data', (c: Buffer) => (all.push(c), err.push(c)));
    let settled = false;
    let timedOut = false;
    const pid = child.pid;
    if (pid !== undefined) live.add(pid);
    const settle = (code: number | null, signal: NodeJS.Signals | null, startError?: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      // At the deadline nothing of the group may stay (a pipeline's other half, an ssh connection process). A
      // child that exited by itself may have started something meant to outlive it (a hook's daemon): that
      // stays, but our ends of its pipes are closed, so it cannot hold the run.
      if (pid !== undefined) {
        if (timedOut) killGroup(pid, 'SIGKILL');
        live.delete(pid);
      }
      child.stdout?.destroy();
      child.stderr?.destroy();
      child.stdin?.destroy();
      const stdoutBuf = out.bytes();
      resolve({
        ok: !timedOut && !startError && code === 0,
        code: code ?? undefined,
        signal: signal ?? undefined,
        timedOut,
        out: all.bytes().toString('utf8').trim(),
        stdout: o.binary ? '' : stdoutBuf.toString('utf8'),
        stderr: err.bytes().toString('utf8'),
        ...(o.binary ? { bytes: stdoutBuf } : {}),
        ...(startError ? { startError } : {}),
      });
    };
    const deadline = setTimeout(() => {
      timedOut = true;
      if (pid === undefined) return settle(null, null, 'no process');
      killGroup(pid, 'SIGTERM');
      setTimeout(() => settle(null, 'SIGKILL'), KILL_GRACE_MS).unref();
    }, o.timeoutMs);
    child.on('error', (err) => settle(null, null, (err as NodeJS.ErrnoException).code ?? err.message));
    // 'close' waits for the pipes, which a grandchild may hold forever: 'exit' plus a short grace instead.
    child.on('exit', (code, signal) => {
      setTimeout(() => settle(code, signal), PIPE_GRACE_MS).unref();
    });
    child.on('close', (code, signal) => settle(code, signal));
    feedStdin(child, o);
  });
}

/** The child as the leader of its own process group (so a deadline can end all of it), or why it did not start. */
function spawnGroup(
  file: string,
  args: string[],
  o: ChildOptions,
): { child: ChildProcess; error?: undefined } | { child?: undefined; error: unknown } {
  let stdinFd: number | undefined;
  try {
    stdinFd = o.stdinFile === undefined ? undefined : openSync(o.stdinFile, 'r');
    const child = spawn(file, args, {
      detached: true,
      stdio: [stdinFd ?? (o.input === undefined && !o.openStdin ? 'ignore' : 'pipe'), 'pipe', 'pipe'],
      ...(o.env ? { env: o.env } : {}),
    });
    return { child };
  } catch (error) {
    return { error };
  } finally {
    if (stdinFd !== undefined) closeSync(stdinFd); // the child has its own copy
  }
}

function feedStdin(child: ChildProcess, o: ChildOptions): void {
  if (o.openStdin && child.stdin) {
    child.stdin.on('error', () => {});
    o.openStdin(child.stdin);
  } else if (o.input !== undefined && child.stdin) {
    child.stdin.on('error', () => {}); // a child that exits without reading its stdin is not an error here
    child.stdin.end(o.input);
  }
}

/** Collects chunks up to `cap` bytes; what comes after is dropped, never buffered without bound. */
function capped(cap: number): { push(chunk: Buffer): void; bytes(): Buffer } {
  const chunks: Buffer[] = [];
  let n = 0;
  return {
    push(chunk) {
      if (n >= cap) return;
      chunks.push(chunk.subarray(0, cap - n));
      n += chunk.length;
    },
    bytes: () => Buffer.concat(chunks),
  };
}

function notStarted(err: unknown): ChildResult {
  const why = (err as NodeJS.ErrnoException).code ?? String(err);
  return {
    ok: false,
    code: undefined,
    signal: undefined,
    timedOut: false,
    out: '',
    stdout: '',
    stderr: '',
    startError: why,
  };
}

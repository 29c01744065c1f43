import { type ChildProcess, spawn } from 'node:child_process';

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
  /** Why it could not start (ENOENT, EACCES), when it could not. */
  startError?: string;
}

export interface ChildOptions {
  /** The whole group is killed when this passes (SIGTERM, then SIGKILL a moment later). */
  timeoutMs: number;
  /** Written to stdin, which is then closed; without it stdin is /dev/null. */
  input?: string | Buffer;
  /** The child's whole environment (nothing is inherited when given). */
  env?: Record<string, string>;
  /** Also collect stdout as bytes (binlog reads). */
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
    let child: ChildProcess;
    try {
      child = spawn(file, args, {
        detached: true,
        stdio: [o.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
        ...(o.env ? { env: o.env } : {}),
      });
    } catch (err) {
      resolve(notStarted(err));
      return;
    }
    const all: Buffer[] = [];
    const out: Buffer[] = [];
    let allBytes = 0;
    let outBytes = 0;
    const collect = (chunk: Buffer, isStdout: boolean) => {
      if (allBytes < cap) {
        all.push(chunk.subarray(0, cap - allBytes));
        allBytes += chunk.length;
      }
      if (isStdout && outBytes < cap) {
        out.push(chunk.subarray(0, cap - outBytes));
        outBytes += chunk.length;
      }
    };
    child.stdout?.on('data', (c: Buffer) => collect(c, true));
    child.stderr?.on('data', (c: Buffer) => collect(c, false));
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
      const stdoutBuf = Buffer.concat(out);
      resolve({
        ok: !timedOut && !startError && code === 0,
        code: code ?? undefined,
        signal: signal ?? undefined,
        timedOut,
        out: Buffer.concat(all).toString('utf8').trim(),
        stdout: stdoutBuf.toString('utf8'),
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
    if (o.input !== undefined && child.stdin) {
      child.stdin.on('error', () => {}); // a child that exits without reading its stdin is not an error here
      child.stdin.end(o.input);
    }
  });
}

function notStarted(err: unknown): ChildResult {
  const why = (err as NodeJS.ErrnoException).code ?? String(err);
  return { ok: false, code: undefined, signal: undefined, timedOut: false, out: '', stdout: '', startError: why };
}

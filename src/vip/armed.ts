import { runChild } from '../process/run-child.js';
import type { ResolvedHost } from '../topology/config-types.js';
import { muxSocket, type RemoteResult, sshArgs } from './remote.js';

/**
 * A remote command started ahead of time: ssh is running, the host's shell is up and waits for one line on its
 * stdin. `fire` sends "go" and the command runs at once — no ssh to start, no session to open, only the bytes
 * to carry — so the writer VIP leaves the old master and reaches the new one milliseconds apart. Anything but
 * "go" (stdin closed by `disarm`, by mmmf's death, by the deadline) ends it with nothing done.
 */
export interface Armed {
  /** Runs the command now; `at` is the host's clock (epoch ms) it reported, when it could say. */
  fire(): Promise<RemoteResult & { at?: number }>;
  /** Ends the wait without running the command (the host's shell reads end of file). */
  disarm(): Promise<void>;
}

export { NOT_FIRED } from './vip-commands.js';

/**
 * The line an armed command prints when it has done its work (vip-commands.ts): the host's clock in nanoseconds
 * and its exit code. `fire` answers on this line, not when ssh has ended: the session's teardown (exit status,
 * channel close, the ssh client's exit) took 1–2 ms that the VIP's new host would otherwise wait for.
 */
const DONE = /mmmf-done-at (\d+) (\d+)\n/;

/**
 * Arms `argv` — a `sh -c SCRIPT NAME ARGS...` that reads the word itself and prints the DONE line — on `host`
 * through this run's SSH connection; the whole wait ends after `holdSec` at most.
 */
export function armRemote(
  host: ResolvedHost,
  argv: string[],
  o: { connectTimeoutSec: number; holdSec: number },
): Armed {
  if (argv[0] !== 'sh' || argv[1] !== '-c') throw new Error('internal: an armed command is a sh -c script');
  let stdin: NodeJS.WritableStream | undefined;
  let stdout = '';
  let said: ((m: RegExpExecArray) => void) | undefined;
  const saidDone = new Promise<RegExpExecArray>((resolve) => (said = resolve));
  const done = runChild('ssh', sshArgs(host, argv, o.connectTimeoutSec, muxSocket(host.name)), {
    timeoutMs: o.holdSec * 1000,
    openStdin: (s) => (stdin = s),
    onStdout: (c) => {
      stdout += c.toString('utf8');
      const m = DONE.exec(stdout);
      if (m) said?.(m);
    },
  });
  const send = (line?: string) => {
    if (line) stdin?.write(line);
    stdin?.end();
  };
  return {
    async fire() {
      send('go\n');
      // Its stdout has all come by the time ssh has ended: a done line then has answered already.
      const m = await Promise.race([saidDone, done.then(() => undefined)]);
      if (m) {
        const code = Number(m[2]);
        const at = Number(BigInt(m[1] ?? '0') / 1000n) / 1000;
        return { ok: code === 0, code, out: stdout.replace(DONE, '').trim(), ...(at > 0 ? { at } : {}) };
      }
      const r = await done;
      const code = r.timedOut ? undefined : (r.code ?? (r.startError ? 255 : undefined));
      return { ok: false, code, out: r.out || `no answer from the armed command (exit ${code ?? 'none'})` };
    },
    async disarm() {
      send();
      await done;
    },
  };
}

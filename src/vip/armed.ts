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
  /** Runs the command now; `at` is the host's clock (epoch ms) when it finished, when it could say. */
  fire(): Promise<RemoteResult & { at?: number }>;
  /** Ends the wait without running the command (the host's shell reads end of file). */
  disarm(): Promise<void>;
}

/** Exit code of a wrapper that never got its "go": the command did not run. */
export const NOT_FIRED = 97;

/**
 * The wrapper around a `sh -c SCRIPT NAME ARGS...` command (vip-commands.ts): waits for "go", then evaluates
 * SCRIPT in this same shell with ARGS as its positional parameters (no second shell to start; the values stay
 * parameters, never code), and prints the host's clock in nanoseconds. A SCRIPT that fails exits on its own.
 * The removal reads the clock before it runs, the add after it (and after its ARP went out): the window they
 * give is never shorter than the real one, and no clock is read between the removal and its answer.
 */
const WRAPPER =
  `IFS= read -r go && [ "$go" = go ] || exit ${NOT_FIRED}; ` +
  'script=$3; when=$4; shift 5; [ "$when" = before ] && t=$(date +%s%N); eval "$script"; rc=$?; ' +
  '[ "$when" = before ] || t=$(date +%s%N); echo "mmmf-done-at $t"; exit $rc';

/**
 * Arms `argv` on `host` through this run's SSH connection; the whole wait ends after `holdSec` at most. `clock`:
 * read the host's clock before the command runs or after it.
 */
export function armRemote(
  host: ResolvedHost,
  argv: string[],
  o: { connectTimeoutSec: number; holdSec: number; clock: 'before' | 'after' },
): Armed {
  if (argv[0] !== 'sh' || argv[1] !== '-c') throw new Error('internal: an armed command is a sh -c script');
  const { connectTimeoutSec, holdSec } = o;
  let stdin: NodeJS.WritableStream | undefined;
  const wrapped = ['sh', '-c', WRAPPER, 'mmmf-armed', argv[0], argv[1], argv[2] ?? '', o.clock, ...argv.slice(3)];
  const done = runChild('ssh', sshArgs(host, wrapped, connectTimeoutSec, muxSocket(host.name)), {
    timeoutMs: holdSec * 1000,
    openStdin: (s) => (stdin = s),
  });
  const send = (line?: string) => {
    if (line) stdin?.write(line);
    stdin?.end();
  };
  return {
    async fire() {
      send('go\n');
      const r = await done;
      const m = /mmmf-done-at (\d+)/.exec(r.stdout);
      const out = r.out.replace(/mmmf-done-at \d+\n?/, '').trim();
      const code = r.timedOut ? undefined : (r.code ?? (r.startError ? 255 : undefined));
      return { ok: r.ok, code, out, ...(m?.[1] ? { at: Number(BigInt(m[1]) / 1000n) / 1000 } : {}) };
    },
    async disarm() {
      send();
      await done;
    },
  };
}

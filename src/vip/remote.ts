import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ResolvedHost } from '../topology/config-types.js';
import { shellQuote } from './vip-commands.js';

export { shellQuote, showRemote } from './vip-commands.js';

/**
 * One shared SSH connection per host for the whole run (OpenSSH multiplexing): the handshake is paid while
 * probing, before anything changes, so moving the VIP while writes are blocked costs a round trip, not a login.
 */
const CONTROL = [
  '-o',
  'ControlMaster=auto',
  '-o',
  `ControlPath=${join(tmpdir(), 'mmmf-ssh-%C')}`,
  '-o',
  'ControlPersist=60',
];

/** The ssh argv for running `argv` on `host`: batch mode (never a password prompt), bounded connect time. */
export function sshArgs(host: ResolvedHost, argv: string[], connectTimeoutSec: number, shared = true): string[] {
  const s = host.ssh;
  return [
    '-o',
    'BatchMode=yes',
    '-o',
    `ConnectTimeout=${Math.max(1, Math.round(connectTimeoutSec))}`,
    ...(shared ? CONTROL : ['-o', 'ControlPath=none']),
    ...s.options.flatMap((o) => ['-o', o]),
    ...(s.identityFile ? ['-i', s.identityFile] : []),
    '-p',
    String(s.port),
    '-l',
    s.user,
    '--',
    s.host,
    argv.map(shellQuote).join(' '),
  ];
}

export interface RemoteResult {
  ok: boolean;
  code: number | undefined;
  out: string;
}

/** Opens the shared connections ahead of time (failures are left for the real steps to report). */
export async function warmUp(hosts: ResolvedHost[], connectTimeoutSec: number): Promise<void> {
  await Promise.all(hosts.map((h) => runRemote(h, ['true'], connectTimeoutSec)));
}

/** Closes the shared connections, so no ssh process outlives the run. */
export async function closeShared(hosts: ResolvedHost[]): Promise<void> {
  const { execa } = await import('execa');
  await Promise.all(
    hosts.map((h) =>
      execa(
        'ssh',
        [
          ...CONTROL,
          ...h.ssh.options.flatMap((o) => ['-o', o]),
          '-p',
          String(h.ssh.port),
          '-l',
          h.ssh.user,
          '-O',
          'exit',
          '--',
          h.ssh.host,
        ],
        { reject: false, timeout: 5000, stdin: 'ignore' },
      ),
    ),
  );
}

/** `shared: false` opens a connection of its own (a check that must fail, not hang, when the network is cut). */
export async function runRemote(
  host: ResolvedHost,
  argv: string[],
  connectTimeoutSec: number,
  o: { shared?: boolean; timeoutSec?: number } = {},
): Promise<RemoteResult> {
  const { execa } = await import('execa');
  const r = await execa('ssh', sshArgs(host, argv, connectTimeoutSec, o.shared ?? true), {
    reject: false,
    all: true,
    timeout: (o.timeoutSec ?? connectTimeoutSec + 20) * 1000,
    stdin: 'ignore',
  });
  return { ok: r.exitCode === 0, code: r.exitCode, out: String(r.all ?? '').trim() };
}

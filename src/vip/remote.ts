import type { ResolvedHost } from '../topology/config-types.js';

/**
 * One argument for a POSIX shell, single-quoted: nothing inside is expanded, whatever it holds
 * (quotes, `$`, `;`, backticks, spaces). ssh hands the remote command to the remote user's shell.
 */
export function shellQuote(arg: string): string {
  return /^[A-Za-z0-9_./:=@%+-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** The ssh argv for running `argv` on `host`: batch mode (never a password prompt), bounded connect time. */
export function sshArgs(host: ResolvedHost, argv: string[], connectTimeoutSec: number): string[] {
  const s = host.ssh;
  return [
    '-o', 'BatchMode=yes',
    '-o', `ConnectTimeout=${Math.max(1, Math.round(connectTimeoutSec))}`,
    ...s.options.flatMap((o) => ['-o', o]),
    ...(s.identityFile ? ['-i', s.identityFile] : []),
    '-p', String(s.port),
    '-l', s.user,
    '--', s.host,
    argv.map(shellQuote).join(' '),
  ];
}

/** How the plan shows a remote command (a person could paste it). */
export function showRemote(host: ResolvedHost, argv: string[]): string {
  return `ssh ${host.ssh.user}@${host.ssh.host} ${argv.map(shellQuote).join(' ')}`;
}

export interface RemoteResult {
  ok: boolean;
  code: number | undefined;
  out: string;
}

export async function runRemote(host: ResolvedHost, argv: string[], connectTimeoutSec: number): Promise<RemoteResult> {
  const { execa } = await import('execa');
  const r = await execa('ssh', sshArgs(host, argv, connectTimeoutSec), { reject: false, all: true, timeout: (connectTimeoutSec + 20) * 1000, stdin: 'ignore' });
  return { ok: r.exitCode === 0, code: r.exitCode, out: String(r.all ?? '').trim() };
}

// An sshd on loopback for a loopback sandbox's host (root only): the chaos harness's masters whose mysqld dies
// while their host stays up, so a failover can salvage their binlog over SSH as on a real host. Its key and
// config live in the cluster's folder; it stops by its pid file with the cluster.
import { execa } from 'execa';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Cluster } from './cluster.js';
import { until } from './load.js';

export interface LoopbackSsh {
  port: number;
  identityFile: string;
  stop(): Promise<void>;
}

export async function startLoopbackSsh(c: Cluster, port: number): Promise<LoopbackSsh> {
  const dir = join(c.dir, 'ssh');
  mkdirSync(dir, { recursive: true });
  mkdirSync('/run/sshd', { recursive: true });
  const key = join(dir, 'id_ed25519');
  const hostKey = join(dir, 'host_ed25519');
  for (const f of [key, hostKey]) {
    if (!existsSync(f))
      await execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'mmmf-chaos', '-f', f], { timeout: 10_000 });
  }
  writeFileSync(join(dir, 'authorized_keys'), readFileSync(`${key}.pub`), { mode: 0o600 });
  const pidFile = join(dir, 'sshd.pid');
  const config = join(dir, 'sshd_config');
  writeFileSync(
    config,
    [
      `Port ${port}`,
      'ListenAddress 127.0.0.1',
      `HostKey ${hostKey}`,
      `PidFile ${pidFile}`,
      `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
      'PermitRootLogin prohibit-password',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'UsePAM no',
      'StrictModes no',
      'UseDNS no',
      'LogLevel ERROR',
      '',
    ].join('\n'),
  );
  // Sessions see an empty ~/.bashrc (bind-mounted in a mount namespace of their own; the machine's file is
  // untouched): bash reads it for every ssh command, and one that prints or is slow would break or slow each.
  const bashrc = join(dir, 'bashrc');
  writeFileSync(bashrc, '');
  // sshd detaches at once; the bound is for a machine where it does not.
  await execa(
    'unshare',
    [
      '--mount',
      '--propagation',
      'private',
      'sh',
      '-c',
      'if [ -f "$HOME/.bashrc" ]; then mount --bind "$1" "$HOME/.bashrc"; fi; exec /usr/sbin/sshd -f "$2" -E "$3"',
      'chaos-sshd',
      bashrc,
      config,
      join(dir, 'sshd.log'),
    ],
    { timeout: 10_000 },
  );
  await until(async () => existsSync(pidFile), 10_000, 'the loopback sshd');
  return {
    port,
    identityFile: key,
    async stop() {
      if (!existsSync(pidFile)) return;
      try {
        process.kill(Number(readFileSync(pidFile, 'utf8').trim()));
      } catch {
        // already gone
      }
    },
  };
}

/** hosts.NAME's `ssh` in a config: this sshd, its key, no host-key prompts. */
export const sshEntry = (s: LoopbackSsh) =>
  `{ host: '127.0.0.1', port: ${s.port}, user: 'root', identityFile: '${s.identityFile}', ` +
  `options: ['StrictHostKeyChecking=no', 'UserKnownHostsFile=/dev/null', 'LogLevel=ERROR'] }`;

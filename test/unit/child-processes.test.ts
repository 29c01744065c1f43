// Child processes (hooks, ssh) never outlive their deadline, whatever their children do with the pipes, and
// get only the environment they are meant to; a server's greeting is read without sending anything.
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { showHookCommand } from '../../src/algorithm/plan/fence.js';
import { runChild } from '../../src/process/run-child.js';
import { runHook } from '../../src/safety/hooks.js';
import { parseGreeting } from '../../src/topology/handshake.js';
import { sshArgs } from '../../src/vip/remote.js';
import { unitConfig } from './fixture-config.js';

/** Live processes whose process group is `pgid` (read from /proc; a zombie is dead, only not yet reaped). */
function groupMembers(pgid: number): number[] {
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .flatMap((d) => {
      try {
        // /proc/PID/stat: pid (comm) state ppid pgrp ...; comm may hold spaces, so split after the last ')'.
        const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        return Number(fields[2]) === pgid && fields[0] !== 'Z' ? [Number(d)] : [];
      } catch {
        return [];
      }
    });
}

describe('runChild', () => {
  it('ends a child whose grandchild holds its output at the deadline, and nothing of its group survives', async () => {
    const started = Date.now();
    const r = await runChild('/bin/sh', ['-c', 'echo $$; sleep 30 | cat'], { timeoutMs: 500 });
    const took = Date.now() - started;
    expect(r.timedOut).toBe(true);
    expect(r.ok).toBe(false);
    expect(took).toBeLessThan(3000);
    const pgid = Number(r.stdout.trim());
    expect(pgid).toBeGreaterThan(1);
    await new Promise((res) => setTimeout(res, 100));
    expect(groupMembers(pgid)).toEqual([]);
  });

  it('reports exit codes, output, stdin and start failures', async () => {
    const r = await runChild('/bin/sh', ['-c', 'cat; echo err >&2; exit 3'], { timeoutMs: 5000, input: 'in\n' });
    expect([r.ok, r.code, r.timedOut, r.out]).toEqual([false, 3, false, 'in\nerr']);
    const missing = await runChild('/nonexistent/program', [], { timeoutMs: 5000 });
    expect([missing.ok, missing.startError]).toEqual([false, 'ENOENT']);
  });
});

describe('runChild for binlog bytes', () => {
  it('keeps stdout bytes apart from stderr, and reads stdin from a file it reads whole', async () => {
    const r = await runChild('sh', ['-c', 'printf "\\000\\377\\n"; echo warn >&2'], { timeoutMs: 5000, binary: true });
    expect([...r.bytes!]).toEqual([0, 255, 10]);
    expect(r.stderr).toBe('warn\n');
    // Bytes only: never decoded as text (a failure message is stderr's).
    expect([r.stdout, r.out]).toEqual(['', 'warn']);
    const dir = mkdtempSync(join(tmpdir(), 'mmmf-child-'));
    try {
      const file = join(dir, 'in.sql');
      writeFileSync(file, 'x'.repeat(1 << 20));
      const wc = await runChild('wc', ['-c'], { timeoutMs: 5000, stdinFile: file });
      expect(wc.stdout.trim()).toBe(String(1 << 20));
      expect((await runChild('cat', [], { timeoutMs: 5000, stdinFile: join(dir, 'nope') })).startError).toBe('ENOENT');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('hooks', () => {
  it('a hook that never exits is stopped at timeouts.hook and reported as timed out', async () => {
    const config = unitConfig(2, {
      hooks: { preFailover: 'sleep 3600 | cat' },
      timeouts: { connect: 3, drain: 300, equalize: 600, verify: 60, hook: 1 },
    });
    const started = Date.now();
    const r = await runHook(config, 'preFailover', { MMMF_HOOK: 'preFailover' }, {});
    expect(Date.now() - started).toBeLessThan(4000);
    expect(r?.ok).toBe(false);
    expect(r?.detail).toMatch(/^timed out after 1 s/);
  });

  it("gets the MMMF_* event variables and PATH, never mmmf's own environment", async () => {
    process.env.MMMF_REPL_PASSWORD = 'repl-pw-from-env';
    process.env.SOME_TOKEN = 'tok-123';
    try {
      const config = unitConfig(2, { hooks: { postFailover: ['/usr/bin/env'] } });
      const r = await runHook(config, 'postFailover', { MMMF_HOOK: 'postFailover', MMMF_NEW_MASTER: 'db2' }, {});
      expect(r?.ok).toBe(true);
      const r2 = await runChild('/usr/bin/env', [], { timeoutMs: 5000 });
      expect(r2.out).toContain('repl-pw-from-env'); // the test's own environment has it, the hook's does not
      const env = await hookEnvOf(config);
      expect(env).toContain('MMMF_NEW_MASTER=db2');
      expect(env).toMatch(/^PATH=/m);
      expect(env).not.toContain('repl-pw-from-env');
      expect(env).not.toContain('tok-123');
    } finally {
      delete process.env.MMMF_REPL_PASSWORD;
      delete process.env.SOME_TOKEN;
    }
  });

  it("a fence hook's arguments never appear in a plan", () => {
    expect(showHookCommand('ipmitool -H 10.0.0.9 -U admin -P s3cret chassis power off')).toBe(
      'ipmitool … (hooks.fence; arguments not shown: they may hold credentials)',
    );
    expect(showHookCommand(['/usr/local/bin/fence', '--password', 's3cret'])).not.toContain('s3cret');
    expect(showHookCommand('IPMI_PASSWORD=s3cret ipmitool power off')).not.toContain('s3cret');
  });
});

/** What a hook's environment holds: a hook that writes `env` to its stdout, read back through runHook's detail. */
async function hookEnvOf(config: ReturnType<typeof unitConfig>): Promise<string> {
  const c = { ...config, hooks: { postFailover: '/usr/bin/env | tr "\\n" " "' } };
  const r = await runHook(c, 'postFailover', { MMMF_HOOK: 'postFailover', MMMF_NEW_MASTER: 'db2' }, {});
  return (r?.detail ?? '').split(' ').join('\n');
}

describe('ssh', () => {
  it('gives up on a silent host within the connect timeout and shares no connection across runs', () => {
    const host = unitConfig(1).hosts[0]!;
    const args = sshArgs(host, ['true'], 3).join(' ');
    expect(args).toContain('ServerAliveInterval=1');
    expect(args).toContain('ServerAliveCountMax=3');
    expect(args).toContain('ControlPath=none');
    expect(sshArgs(host, ['true'], 3, '/state/ssh/1-x/0').join(' ')).toContain('ControlMaster=no');
  });
});

describe('server greeting', () => {
  it('tells whether a server offers TLS from its greeting alone', () => {
    const greeting = (caps: number) => {
      const version = Buffer.from('10.11.19-MariaDB\0', 'latin1');
      const rest = Buffer.alloc(4 + 8 + 1 + 2);
      rest.writeUInt16LE(caps, 13);
      return Buffer.concat([Buffer.from([10]), version, rest]);
    };
    expect(parseGreeting(greeting(0x0800 | 0x0200))).toEqual({ version: '10.11.19-MariaDB', offersTls: true });
    expect(parseGreeting(greeting(0x0200))?.offersTls).toBe(false);
    expect(parseGreeting(Buffer.from([0xff, 0x15, 0x04]))).toBeUndefined();
  });
});

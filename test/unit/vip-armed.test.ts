// The writer VIP's armed commands, run by a real shell against a scripted `ip`, `arping` and `ssh` (no root, no
// network): nothing is done without "go"; the add's `ip` is running before the word comes; a failed change is
// told apart from one already made; and `fire` answers when the command says it is done, not when ssh ends.
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runChild } from '../../src/process/run-child.js';
import { armRemote } from '../../src/vip/armed.js';
import { NOT_FIRED, vipAddNowArgv, vipRemoveNowArgv } from '../../src/vip/vip-commands.js';
import type { ResolvedHost } from '../../src/topology/config-types.js';

const ADDRESS = '10.9.8.7/24';
let dir = '';
let log = '';
/** A folder whose `sh` is the shell under test, put first on the PATH of the commands run here. */
let shDir = '';
/** The hosts' `sh`: dash on Debian and Ubuntu, bash (in POSIX mode, as `sh`) on RHEL and its kin. */
const SHELLS = ['/bin/dash', '/bin/bash'].filter((p) => existsSync(p));
let state = '';
const PATH0 = process.env.PATH;

/**
 * `ip`: logs how it was started and keeps "the address" as a file ($STATE). In batch mode it logs each command it
 * reads and adds the address (unless IP_ADDS=no), exiting IP_BATCH_RC; `-o addr show` prints the address while
 * the file is there; `addr del` removes it, or exits DEL_RC instead. `arping` logs its arguments. `ssh` runs its
 * last argument with sh, then lingers 2 s before it exits, as a session's teardown would (only much slower).
 */
const FAKES: Record<string, string> = {
  ip: `#!/bin/sh
echo "start $*" >> "$LOG"
case "$*" in
  "-batch -") while IFS= read -r l; do echo "cmd $l" >> "$LOG"; [ "$IP_ADDS" = no ] || touch "$STATE"; done
    exit \${IP_BATCH_RC:-0} ;;
  "-o addr show"*) [ -e "$STATE" ] && echo "2: eth0    inet ${ADDRESS} scope global eth0"; exit 0 ;;
  "addr del"*) [ -n "$DEL_RC" ] && exit "$DEL_RC"; rm -f "$STATE" ;;
esac`,
  arping: `#!/bin/sh
echo "arping $*" >> "$LOG"`,
  ssh: `#!/bin/sh
for a; do last=$a; done
sh -c "$last"; rc=$?; sleep 2; exit $rc`,
};

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'mmmf-armed-'));
  for (const [name, text] of Object.entries(FAKES)) {
    writeFileSync(join(dir, name), text + '\n');
    chmodSync(join(dir, name), 0o755);
  }
  log = join(dir, 'log');
  state = join(dir, 'holds');
  process.env.PATH = `${dir}:${PATH0}`;
});
afterAll(() => {
  process.env.PATH = PATH0;
  rmSync(dir, { recursive: true, force: true });
});

/** Runs an armed argv locally; `word` (or nothing: end of file) is sent once `ip` may have started. */
async function run(argv: string[], word: string | undefined, env: Record<string, string> = {}, holds = false) {
  writeFileSync(log, '');
  if (holds) writeFileSync(state, '');
  else rmSync(state, { force: true });
  let stdin: NodeJS.WritableStream | undefined;
  const done = runChild(argv[0]!, argv.slice(1), {
    timeoutMs: 10_000,
    openStdin: (s) => (stdin = s),
    env: { PATH: `${shDir}:${process.env.PATH}`, LOG: log, STATE: state, ...env },
  });
  await new Promise((r) => setTimeout(r, 300));
  const before = readFileSync(log, 'utf8');
  if (word) stdin!.end(word);
  else stdin!.end();
  const r = await done;
  return { ...r, before, after: readFileSync(log, 'utf8'), holds: existsSync(state) };
}

describe.each(SHELLS)('with %s as sh', (shell) => {
  beforeAll(() => {
    shDir = join(dir, shell.replace(/\W/g, '-'));
    mkdirSync(shDir, { recursive: true });
    if (!existsSync(join(shDir, 'sh'))) symlinkSync(shell, join(shDir, 'sh'));
  });

  describe('the armed VIP add', () => {
    it('has ip running before the word, adds on "go", announces, reads it back and says so', async () => {
      const r = await run(vipAddNowArgv(ADDRESS, 'eth0'), 'go\n');
      expect(r.before).toBe('start -batch -\n');
      expect(r.after).toContain(`cmd address add ${ADDRESS} dev eth0\n`);
      expect(r.after).toContain('start -o addr show dev eth0\n');
      expect([r.code, r.holds]).toEqual([0, true]);
      expect(r.stdout).toMatch(/^mmmf-done-at \d{16,} 0\n$/);
      await new Promise((res) => setTimeout(res, 200)); // arping runs in the background
      expect(readFileSync(log, 'utf8')).toContain('arping -q -U -c 1 -I eth0 10.9.8.7\n');
    });

    it('does nothing without the word', async () => {
      for (const word of [undefined, 'nogo\n']) {
        const r = await run(vipAddNowArgv(ADDRESS, 'eth0'), word);
        expect([r.code, r.after, r.stdout, r.holds]).toEqual([NOT_FIRED, 'start -batch -\n', '', false]);
        await new Promise((res) => setTimeout(res, 200));
        expect(readFileSync(log, 'utf8')).not.toContain('arping');
      }
    });

    it('goes by the address read back, not by what ip answered', async () => {
      const present = await run(vipAddNowArgv(ADDRESS, 'eth0'), 'go\n', { IP_BATCH_RC: '2', IP_ADDS: 'no' }, true);
      expect([present.code, present.stdout]).toEqual([0, expect.stringMatching(/^mmmf-done-at \d+ 0\n$/)]);
      const failed = await run(vipAddNowArgv(ADDRESS, 'eth0'), 'go\n', { IP_BATCH_RC: '2', IP_ADDS: 'no' });
      expect([failed.code, failed.stdout, failed.holds]).toEqual([1, '', false]);
      const silent = await run(vipAddNowArgv(ADDRESS, 'eth0'), 'go\n', { IP_ADDS: 'no' });
      expect([silent.code, silent.stdout, silent.holds]).toEqual([1, '', false]);
    });
  });

  describe('the armed VIP removal', () => {
    it('removes on "go" only, and fails only when the address stays', async () => {
      const r = await run(vipRemoveNowArgv(ADDRESS, 'eth0'), 'go\n', {}, true);
      expect([r.code, r.after, r.holds]).toEqual([0, `start addr del ${ADDRESS} dev eth0\n`, false]);
      expect(r.stdout).toMatch(/^mmmf-done-at \d{16,} 0\n$/);
      const idle = await run(vipRemoveNowArgv(ADDRESS, 'eth0'), undefined, {}, true);
      expect([idle.code, idle.after, idle.holds]).toEqual([NOT_FIRED, '', true]);
      const gone = await run(vipRemoveNowArgv(ADDRESS, 'eth0'), 'go\n', { DEL_RC: '2' });
      expect(gone.code).toBe(0);
      const stays = await run(vipRemoveNowArgv(ADDRESS, 'eth0'), 'go\n', { DEL_RC: '2' }, true);
      expect([stays.code, stays.stdout]).toEqual([1, '']);
    });
  });
});

describe('fire', () => {
  const host = {
    name: 'h1',
    ssh: { host: 'h1.invalid', port: 22, user: 'root', options: [] },
  } as unknown as ResolvedHost;

  it('answers when the command says it is done, not when ssh ends', async () => {
    process.env.LOG = log;
    process.env.STATE = state;
    rmSync(state, { force: true });
    try {
      const a = armRemote(host, vipAddNowArgv(ADDRESS, 'eth0'), { connectTimeoutSec: 5, holdSec: 10 });
      await new Promise((r) => setTimeout(r, 300));
      const t = Date.now();
      const r = await a.fire();
      expect(Date.now() - t).toBeLessThan(1500);
      expect(r.ok).toBe(true);
      expect(r.at).toBeGreaterThan(Date.now() - 60_000);
      // A command that failed says nothing: its answer is its exit, after ssh ends.
      rmSync(state, { force: true });
      process.env.IP_ADDS = 'no';
      const b = armRemote(host, vipAddNowArgv(ADDRESS, 'eth0'), { connectTimeoutSec: 5, holdSec: 10 });
      await new Promise((r) => setTimeout(r, 300));
      const f = await b.fire();
      expect([f.ok, f.code]).toEqual([false, 1]);
    } finally {
      delete process.env.LOG;
      delete process.env.STATE;
      delete process.env.IP_ADDS;
    }
  });
});

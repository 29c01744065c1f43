// The remote read commands, run here through a real POSIX shell the way ssh hands them to the remote one:
// exact bytes back whatever the file is called, and a server check that sees a running server and its port.
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  fileSizeArgv,
  locateSalvage,
  remoteBinlogSource,
  type RemoteRunner,
  noServerCheckArgv,
  parseNoServerCheck,
  readIndexArgv,
  readRangeArgv,
  remoteCommandLine,
} from '../../src/binlog/binlog-file/index.js';
import { FIXTURES, fixture, memorySource, scenarioFiles } from './binlog-fixtures.js';
import { basePortOf } from '../../harness/ports.js';

/** What ssh does with an argv: one command line, parsed by the remote user's shell. */
function runRemote(argv: string[]): { code: number | null; out: Buffer } {
  const r = spawnSync('sh', ['-c', remoteCommandLine(argv)]);
  return { code: r.status, out: Buffer.concat([r.stdout, r.stderr]) };
}

let dir: string;
let awkward: string;
const bytes = fixture('mariadb', 'row', 'mysql-bin.000002');

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'mmmf-remote-read-'));
  // A folder and a file name no shell may interpret: quotes, $, ;, backticks, spaces, a glob and a dash.
  const folder = join(dir, `it's $HOME; \`id\` *`);
  mkdirSync(folder);
  awkward = join(folder, '-mysql-bin.000002');
  copyFileSync(join(FIXTURES, 'mariadb', 'row', 'mysql-bin.000002'), awkward);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('reading binlog bytes with plain tools', () => {
  it('returns exactly the bytes asked for, from any offset, fewer at the end of the file', () => {
    for (const [offset, length] of [
      [0, 4],
      [0, bytes.length],
      [256, 1000],
      [bytes.length - 7, 100],
      [bytes.length, 10],
      [bytes.length + 5, 10],
    ] as const) {
      const r = runRemote(readRangeArgv(awkward, offset, length));
      expect(r.code).toBe(0);
      expect(r.out).toEqual(bytes.subarray(offset, offset + length));
    }
  });

  it('prints the size and the index of files with awkward names', () => {
    expect(runRemote(fileSizeArgv(awkward)).out.toString().trim()).toBe(String(bytes.length));
    const index = join(FIXTURES, 'mariadb', 'row', 'mysql-bin.index');
    expect(runRemote(readIndexArgv(index)).out.toString()).toBe(
      fixture('mariadb', 'row', 'mysql-bin.index').toString(),
    );
  });

  it('fails, not empty-handed, when the file is missing', () => {
    const r = runRemote(fileSizeArgv(join(dir, 'gone')));
    expect(r.code).not.toBe(0);
  });

  it('refuses offsets and lengths that are not whole numbers', () => {
    expect(() => readRangeArgv('/x', -1, 10)).toThrow(/offset/);
    expect(() => readRangeArgv('/x', 0, 1.5)).toThrow(/length/);
  });
});

describe('a BinlogSource over remote commands', () => {
  /** Runs the argv as ssh would (one command line for the remote shell), here, with stdout kept as bytes. */
  const shell: RemoteRunner = async (argv) => {
    const r = spawnSync('sh', ['-c', remoteCommandLine(argv)]);
    return { exitCode: r.status ?? undefined, stdout: r.stdout, stderr: r.stderr.toString() };
  };

  it('salvages exactly what the same files give in memory', async () => {
    const index = join(FIXTURES, 'mariadb', 'row', 'mysql-bin.index');
    const req = { from: { gtid: '0-1-4' }, maxBytes: 1 << 20, chunkBytes: 1000 };
    const remote = await locateSalvage(remoteBinlogSource(shell, index), req);
    const local = await locateSalvage(memorySource(scenarioFiles('row')), req);
    expect(remote.refusal).toBeUndefined();
    expect(remote.transactions.length).toBeGreaterThan(0);
    expect(remote).toEqual(local);
  });

  it('fails on a missing index or file instead of taking it as empty', async () => {
    const missing = remoteBinlogSource(shell, join(dir, 'nothing.index'));
    await expect(missing.listFiles()).rejects.toThrow(/reading .*nothing.index failed/);
    const index = join(FIXTURES, 'mariadb', 'row', 'mysql-bin.index');
    await expect(remoteBinlogSource(shell, index).read('./mysql-bin.000009', 0, 10)).rejects.toThrow(/failed/);
  });
});

describe('proving no server runs for a datadir and port', () => {
  // This suite's ports (harness/ports.ts); each listener below is held for the test's whole life.
  const PORT = basePortOf('binlog-remote-unit') + 3;
  let datadir: string;
  let bin: string;
  let fake: ChildProcess | undefined;
  let listener: Server | undefined;

  beforeAll(() => {
    datadir = join(dir, 'data');
    mkdirSync(datadir);
    // A program named mysqld (a copy of sleep): the check knows servers by their process name.
    bin = join(dir, 'mysqld');
    copyFileSync(execFileSync('sh', ['-c', 'command -v sleep'], { encoding: 'utf8' }).trim(), bin);
  });
  afterAll(() => {
    if (fake?.pid) process.kill(fake.pid, 'SIGKILL');
    listener?.close();
  });

  const check = (o: { port: number; datadir?: string }) => {
    const r = spawnSync('sh', ['-c', remoteCommandLine(noServerCheckArgv(o))], { encoding: 'utf8' });
    return parseNoServerCheck(r.status ?? undefined, r.stdout + r.stderr);
  };

  it('says none when no server has that datadir and nothing listens on the port', () => {
    expect(check({ port: PORT, datadir })).toEqual({ running: false });
  });

  it('sees a server process working in the datadir (a supervisor restarted it)', async () => {
    // Its working directory is the datadir, as a server chdirs there.
    fake = spawn(bin, ['60'], { cwd: datadir, stdio: 'ignore' });
    await new Promise((r) => setTimeout(r, 100));
    const seen = check({ port: PORT, datadir });
    expect(seen).toEqual({ running: true, evidence: [`server pid=${fake.pid} mysqld cwd=${datadir}`] });
    // Another datadir's server is not this one's; with no datadir given, any server counts.
    expect(check({ port: PORT, datadir: join(dir, 'other') })).toEqual({ running: false });
    expect(check({ port: PORT })).toMatchObject({ running: true });
    const exited = once(fake, 'exit');
    process.kill(fake.pid!, 'SIGKILL');
    await exited;
    fake = undefined;
  });

  it('a killed server its parent has not reaped yet (a zombie) holds nothing: none', async () => {
    // The parent execs into sleep, which never reaps: the killed child stays a zombie while it lives.
    const parent = spawn('sh', ['-c', '"$0" 60 & echo $!; exec sleep 60', bin], { cwd: datadir });
    const [line] = (await once(parent.stdout, 'data')) as [Buffer];
    const child = Number(line.toString().trim());
    try {
      expect(check({ port: PORT, datadir })).toMatchObject({ running: true });
      process.kill(child, 'SIGKILL');
      await new Promise((r) => setTimeout(r, 100));
      expect(check({ port: PORT, datadir })).toEqual({ running: false });
    } finally {
      parent.kill('SIGKILL');
    }
  });

  it.skipIf(process.getuid?.() !== 0)(
    'a server whose working directory it cannot read, looked at twice, still counts as running',
    async () => {
      // Checked as another user (nobody), root's server's working directory is unreadable — as for a server exiting
      // this very moment, which the second look lets go: one that stays unreadable is never taken for none.
      const server = spawn(bin, ['60'], { cwd: datadir, stdio: 'ignore' });
      try {
        await new Promise((r) => setTimeout(r, 100));
        const script = remoteCommandLine(noServerCheckArgv({ port: PORT, datadir }));
        const r = spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', 'sh', '-c', script], {
          encoding: 'utf8',
          cwd: '/',
        });
        // Other servers on this machine (a test suite's sandboxes) are unreadable to nobody too: listed beside it.
        const seen = parseNoServerCheck(r.status ?? undefined, r.stdout + r.stderr);
        expect(seen.running).toBe(true);
        expect(seen.running === true && seen.evidence).toContain(`server pid=${server.pid} mysqld cwd=unreadable`);
      } finally {
        server.kill('SIGKILL');
      }
    },
  );

  it('sees something listening on the port', async () => {
    listener = createServer();
    await new Promise<void>((r) => listener!.listen(PORT, '127.0.0.1', r));
    expect(check({ port: PORT, datadir })).toEqual({ running: true, evidence: [`listening port=${PORT}`] });
  });

  it('reads an exit it does not know as unproved, never as no server', () => {
    expect(parseNoServerCheck(2, 'cannot see other processes in /proc')).toMatchObject({ running: 'unknown' });
    expect(parseNoServerCheck(0, '')).toMatchObject({ running: 'unknown' });
    expect(parseNoServerCheck(255, 'ssh: connect to host db1 port 22: Connection refused')).toMatchObject({
      running: 'unknown',
    });
  });
});

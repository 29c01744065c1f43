// The shipped bin runs heavy parts only when a command uses them: `--help` no MySQL driver, listr2 or jiti; a
// status the driver (which must really connect: a bundled driver that failed to load once made every host look
// unreachable) but not listr2; jiti only while a TypeScript config is not in the compiled-config cache. Each
// command runs twice: without and then with its code cache. What ran is read from V8's log of every function's
// first execution: bundled packages by the module names esbuild gives their lazily run bodies, others by file.
import { execa } from 'execa';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SHIPPED_BIN } from '../../harness/paths.js';

const dir = mkdtempSync(join(tmpdir(), 'mmmf-lazy-'));
const LOG = join(dir, 'functions.log');
const HEAVY = ['mysql2', 'listr2', 'jiti'];
const PACKAGE = /node_modules\/((?:@[^/]+\/)?[^/"]+)\//;

/** The packages of which some code ran, from V8's function events. */
function packagesRun(log: string): Set<string> {
  const scripts = new Map<string, string>();
  const packages = new Set<string>();
  for (const line of log.split('\n')) {
    const f = line.split(',');
    if (f[0] === 'script-details') scripts.set(f[1]!, f[2] ?? '');
    if (f[0] !== 'function' || f[1] !== 'first-execution') continue;
    const p = PACKAGE.exec(scripts.get(f[2]!) ?? '')?.[1] ?? PACKAGE.exec(f.slice(7).join(','))?.[1];
    if (p) packages.add(p);
  }
  return packages;
}

async function run(args: string[]): Promise<{ exitCode: number; stdout: string; heavy: string[] }> {
  const v8log = ['--log-function-events', `--logfile=${LOG}`, '--no-logfile-per-isolate'];
  const r = await execa('node', [...v8log, SHIPPED_BIN, ...args], {
    reject: false,
    env: { NO_COLOR: '1', MMMF_STATE_DIR: join(dir, 'state') },
    timeout: 60_000,
  });
  const ran = packagesRun(readFileSync(LOG, 'utf8'));
  return { exitCode: r.exitCode ?? -1, stdout: String(r.stdout), heavy: HEAVY.filter((p) => ran.has(p)) };
}

let servers: Server[] = [];
let ports: number[] = [];
let connections = 0;

beforeAll(async () => {
  // Where the configs' two hosts point: each accepts and hangs up, so the driver has something to connect to.
  // Held by this file for its whole life.
  servers = [0, 1].map(() =>
    createServer((s) => {
      connections++;
      s.destroy();
    }),
  );
  await Promise.all(servers.map((s) => new Promise<void>((r) => s.listen(0, '127.0.0.1', r))));
  ports = servers.map((s) => (s.address() as { port: number }).port);
});
afterAll(async () => {
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  rmSync(dir, { recursive: true, force: true });
});

const config = () => ({
  replication: { user: 'repl', password: 'r' },
  defaults: { user: 'root', password: '' },
  hosts: { db1: { host: '127.0.0.1', port: ports[0] }, db2: { host: '127.0.0.1', port: ports[1] } },
});

describe('what the shipped bin runs', () => {
  it('`--help` runs none of the MySQL driver, listr2 or jiti, with its code cache or without', async () => {
    for (const _ of ['no code cache yet', 'code cache']) {
      const r = await run(['--help']);
      expect(r.exitCode).toBe(0);
      expect(r.stdout).toMatch(/--failover-to/);
      expect(r.heavy).toEqual([]);
    }
  });

  it('a status runs the MySQL driver, which connects, and neither listr2 nor jiti', async () => {
    const cfg = join(dir, 'mmmf.config.json');
    writeFileSync(cfg, JSON.stringify(config()));
    for (const _ of ['no code cache yet', 'code cache']) {
      const before = connections;
      const r = await run(['status', '--cfg', cfg, '--json']);
      expect(r.exitCode).toBe(0);
      const states = (JSON.parse(r.stdout) as { hosts: { name: string; reachable: boolean; error?: string }[] }).hosts;
      expect(states.map((h) => [h.name, h.reachable])).toEqual([
        ['db1', false],
        ['db2', false],
      ]);
      // The driver tried: the listeners saw it, and the reason is the hang-up, not a driver that is not there.
      expect(connections - before).toBeGreaterThanOrEqual(2);
      for (const h of states) expect(h.error).not.toMatch(/not a function|did not load/);
      expect(r.heavy).toEqual(['mysql2']);
    }
  });

  it('a TypeScript config runs jiti on the first run only; later runs use the compiled-config cache', async () => {
    const cfg = join(dir, 'mmmf.config.ts');
    writeFileSync(
      cfg,
      `import type { MmmfConfig } from 'mmmf';\nexport default ${JSON.stringify(config())} satisfies MmmfConfig;\n`,
    );
    const first = await run(['status', '--cfg', cfg, '--json']);
    const second = await run(['status', '--cfg', cfg, '--json']);
    expect([first.exitCode, second.exitCode]).toEqual([0, 0]);
    expect(first.heavy).toEqual(['mysql2', 'jiti']);
    expect(second.heavy).toEqual(['mysql2']);
    const names = (out: string) => (JSON.parse(out) as { hosts: { name: string }[] }).hosts.map((h) => h.name);
    expect(names(second.stdout)).toEqual(names(first.stdout));
  });
});

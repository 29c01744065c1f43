// Scenario (v): broken configs exit 2, list every problem at once, and contact no server.
import { createServer, type Server } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mmmf } from '../../harness/cluster.js';

describe('config errors', () => {
  let dir: string;
  let server: Server;
  let port = 0;
  let connections = 0;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mmmf-cfg-'));
    // A listener where the config points: any connection attempt would be counted here.
    server = createServer((s) => {
      connections++;
      s.destroy();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as { port: number }).port;
  });
  afterAll(async () => {
    await new Promise((r) => server.close(r));
    rmSync(dir, { recursive: true, force: true });
  });
  const write = (name: string, text: string) => {
    const f = join(dir, name);
    writeFileSync(f, text);
    return f;
  };

  it('lists every problem of a broken TypeScript config with exit 2, before contacting any server', async () => {
    const f = write(
      'broken.config.ts',
      `import type { MmmfConfig } from 'mmmf';
      export default {
        replication: { user: 'repl' },
        hosts: {
          db1: { host: '127.0.0.1', port: ${port}, user: 'root', password: 'Sup3rSecret' },
          db2: { host: '127.0.0.1', port: ${port}, user: 'root' },
          db3: { host: '127.0.0.1', port: 'x', user: 7 },
          db4: { port: ${port}, user: 'root', colour: 'blue' },
        },
        timeouts: { drain: 0 },
        retries: 3,
      };`,
    );
    const r = await mmmf(['--cfg', f, '--failover-to', 'db2']);
    expect(r.exitCode).toBe(2);
    for (const p of [
      'replication.password: missing',
      `hosts.db2: same address 127.0.0.1:${port} as hosts.db1`,
      'hosts.db3.port: must be an integer',
      'hosts.db3.user: must be a string',
      'hosts.db4.host: missing',
      'hosts.db4.colour: unknown key',
      'timeouts.drain: must be a positive number',
      'retries: unknown key',
    ]) {
      expect(r.stderr).toContain(p);
    }
    expect(r.stderr).toMatch(/has 8 problems/);
    expect(r.stderr + r.stdout).not.toContain('Sup3rSecret');
    expect(connections).toBe(0);
  });

  it('refuses a --failover-to that names no configured host, with exit 2 and no connection', async () => {
    const f = write(
      'ok.json',
      JSON.stringify({
        replication: { user: 'repl', password: 'x' },
        hosts: { db1: { host: '127.0.0.1', port, user: 'root' }, db2: { host: '127.0.0.2', port, user: 'root' } },
      }),
    );
    const r = await mmmf(['--cfg', f, '--failover-to', 'db9']);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/--failover-to db9: no such host in the config/);
    expect(r.stderr).toContain('configured hosts: db1, db2');
    expect(connections).toBe(0);
  });

  it('reports a config that does not load or does not exist, and bad usage, with exit 2', async () => {
    const bad = await mmmf(['--cfg', write('syntax.config.ts', 'export default { hosts: '), '--failover-to', 'x']);
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toMatch(/cannot load config/);
    const missing = await mmmf(['--cfg', join(dir, 'nope.ts'), '--failover-to', 'x']);
    expect(missing.exitCode).toBe(2);
    expect(missing.stderr).toMatch(/config file not found/);
    const usage = await mmmf(['--failover-to', 'x']);
    expect(usage.exitCode).toBe(2);
    const unknown = await mmmf(['--cfg', 'x.ts', '--frobnicate']);
    expect(unknown.exitCode).toBe(2);
    expect(unknown.stderr).toMatch(/Unknown argument/);
    expect(connections).toBe(0);
  });
});

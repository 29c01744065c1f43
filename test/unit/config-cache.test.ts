// TypeScript configs and the private cache of compiled configs: an unchanged config runs without loading jiti,
// yet every run sees what the config computes now (the environment) and what the files it imports hold now.
import { chownSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { importTypeScript } from '../../src/commands/config-cache.js';

let dir: string;
let cacheDir: string;
let jitiLoads = 0;
const loadJiti = () => {
  jitiLoads++;
  return import('jiti');
};
const load = (file: string) => importTypeScript(file, { cacheDir, loadJiti });
/** The cache's own entries (jiti may keep its files in the same folder). */
const entries = () => readdirSync(cacheDir).filter((f) => /^[0-9a-f]{16}-[0-9a-f]{32}\.cjs$/.test(f));

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'mmmf-cfgcache-'));
  cacheDir = join(dir, 'state', 'config-cache');
  jitiLoads = 0;
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
  delete process.env.MMMF_TEST_PASSWORD;
});

const write = (name: string, text: string) => {
  const f = join(dir, name);
  writeFileSync(f, text);
  return f;
};

const typed = (port: number) => `import type { MmmfConfig } from 'mmmf';
// A comment that says module, require and import: it must not cost the fast path.
const port: number = ${port};
export default {
  replication: { user: 'repl', password: process.env.MMMF_TEST_PASSWORD ?? 'unset' },
  hosts: { db1: { host: '127.0.0.1', port } },
} satisfies MmmfConfig;
`;

describe('TypeScript configs through the compiled-config cache', () => {
  it('runs an unchanged config from the cache without loading jiti, with the environment of each run', async () => {
    const f = write('mmmf.config.ts', typed(3306));
    process.env.MMMF_TEST_PASSWORD = 'first';
    expect(await load(f)).toEqual({
      replication: { user: 'repl', password: 'first' },
      hosts: { db1: { host: '127.0.0.1', port: 3306 } },
    });
    expect(jitiLoads).toBe(1);
    process.env.MMMF_TEST_PASSWORD = 'second';
    expect(await load(f)).toMatchObject({ replication: { password: 'second' } });
    expect(await load(f)).toMatchObject({ hosts: { db1: { port: 3306 } } });
    expect(jitiLoads).toBe(1);
    expect(entries()).toHaveLength(1);
    expect(statSync(join(cacheDir, entries()[0]!)).mode & 0o777).toBe(0o600);
  });

  it('compiles a changed config again and keeps only its newest entry', async () => {
    const f = write('mmmf.config.ts', typed(3306));
    await load(f);
    write('mmmf.config.ts', typed(3307));
    expect(await load(f)).toMatchObject({ hosts: { db1: { port: 3307 } } });
    expect(await load(f)).toMatchObject({ hosts: { db1: { port: 3307 } } });
    expect(jitiLoads).toBe(2);
    expect(entries()).toHaveLength(1);
  });

  it('keeps one entry per config: two configs do not evict each other', async () => {
    const a = write('a.config.ts', typed(3306));
    const b = write('b.config.ts', typed(3308));
    await load(a);
    await load(b);
    expect(await load(a)).toMatchObject({ hosts: { db1: { port: 3306 } } });
    expect(await load(b)).toMatchObject({ hosts: { db1: { port: 3308 } } });
    expect(jitiLoads).toBe(2);
    expect(entries()).toHaveLength(2);
  });

  it('loads a config that imports another file through jiti every time, with what that file holds now', async () => {
    write('hosts.ts', `export const port: number = 3306;`);
    const f = write('mmmf.config.ts', `import { port } from './hosts.ts';\nexport default { port };\n`);
    expect(await load(f)).toEqual({ port: 3306 });
    write('hosts.ts', `export const port: number = 3309;`);
    expect(await load(f)).toEqual({ port: 3309 });
    expect(jitiLoads).toBe(2);
    expect(entries()).toHaveLength(0);
  });

  it.skipIf(process.getuid?.() !== 0)(
    'keeps nothing in a folder another user owns, and still loads the config',
    async () => {
      const f = write('mmmf.config.ts', typed(3306));
      mkdirSync(cacheDir, { recursive: true });
      chownSync(cacheDir, 65534, 65534);
      expect(await load(f)).toMatchObject({ hosts: { db1: { port: 3306 } } });
      expect(await load(f)).toMatchObject({ hosts: { db1: { port: 3306 } } });
      expect(jitiLoads).toBe(2);
      expect(readdirSync(cacheDir)).toEqual([]);
    },
  );

  it('reports a config that does not compile, every time, and keeps nothing for it', async () => {
    const f = write('mmmf.config.ts', 'export default { hosts: ');
    await expect(load(f)).rejects.toThrow(/Unexpected token/);
    await expect(load(f)).rejects.toThrow(/Unexpected token/);
    expect(entries()).toHaveLength(0);
  });

  it("reports a config's own error from the cache as on the first run", async () => {
    const f = write(
      'mmmf.config.ts',
      `const n: number = 1;\nif (n) throw new Error('no hosts today');\nexport default {};\n`,
    );
    await expect(load(f)).rejects.toThrow('no hosts today');
    await expect(load(f)).rejects.toThrow('no hosts today');
    expect(jitiLoads).toBe(1);
  });
});

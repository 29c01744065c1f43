// A server whose global sql_mode holds NO_BACKSLASH_ESCAPES, and a replication password full of \'"$; — the
// statements mmmf builds must still mean what they say, and no error, output or log may show the password.
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { mmmf } from '../../harness/cluster.js';
import { useCluster } from '../cluster-fixture.js';
import { expectIdenticalData } from '../expect-data.js';

const PASSWORD = `a'b\\c"d$e;f`;

describe('session settings and secrets', () => {
  const cluster = useCluster({ basePort: 33501, replicas: 2 }, async (c) => {
    await c.sandbox('load', '100');
    // Set through the driver's own escaping, before the global sql_mode changes how backslashes read.
    const conn = await c.connect('test1');
    await conn.query("ALTER USER 'repl'@'%' IDENTIFIED BY ?", [PASSWORD]);
    await conn.end();
    for (const n of c.names) {
      await c.query(n, "SET GLOBAL sql_mode = CONCAT(@@GLOBAL.sql_mode, ',NO_BACKSLASH_ESCAPES')");
    }
  });

  it('fails over with NO_BACKSLASH_ESCAPES everywhere; the password reaches no output, log or state file', async () => {
    const c = cluster();
    const cfg = join(c.dir, 'secret.config.ts');
    writeFileSync(
      cfg,
      `import base from './mmmf.config.ts';\n` +
        `export default { ...base, logFile: 'run.log', replication: { user: 'repl', password: ${JSON.stringify(PASSWORD)} } };\n`,
    );
    await c.sandbox('kill', 'test1');
    const r = await mmmf(['--cfg', cfg, '--failover-to', 'test3', '--debug']);
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    for (const n of ['test2']) {
      const [s] = await c.query<Record<string, string>>(n, 'SHOW SLAVE STATUS');
      // Connected with the password as written: the statement was read as mmmf meant it.
      expect([String(s?.Master_Port), s?.Slave_IO_Running, s?.Slave_SQL_Running]).toEqual([
        String(c.port('test3')),
        'Yes',
        'Yes',
      ]);
    }
    await expectIdenticalData(c, ['test2', 'test3']);
    const log = readFileSync(join(c.dir, 'run.log'), 'utf8');
    for (const text of [r.stdout, r.stderr, log]) {
      expect(text).not.toContain('b\\c');
      expect(text).not.toContain('d$e;f');
    }
    expect(statSync(join(c.dir, 'run.log')).mode & 0o077).toBe(0);
    expect(statSync(join(c.dir, 'state')).mode & 0o077).toBe(0);
  });
});

// A server whose global sql_mode holds NO_BACKSLASH_ESCAPES, and a replication password full of \'"$; — the
// statements mmmf builds must still mean what they say, and no error, output or log may show the password.
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { mmmf } from '../../harness/cluster.js';
import { readJournals } from '../../harness/journal-view.js';
import { ledgerEvidence } from '../../harness/ledger.js';
import { basePortOf } from '../../harness/ports.js';
import { useCluster } from '../cluster-fixture.js';
import { expectIdenticalData, expectNothingLost } from '../expect-data.js';

/** Every file under a folder, with its text. */
const filesUnder = (dir: string): { path: string; text: string }[] =>
  readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name))
    .map((path) => ({ path, text: readFileSync(path, 'latin1') }));

const PASSWORD = `a'b\\c"d$e;f`;

describe('session settings and secrets', () => {
  const cluster = useCluster({ basePort: basePortOf('session-settings'), replicas: 2 }, async (c) => {
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
    const ev = await ledgerEvidence(c, ['test2', 'test3'], 'test1');
    const r = await mmmf(['--cfg', cfg, '--failover-to', 'test3', '--debug']);
    expect.soft(r.exitCode, r.stdout + r.stderr).toBe(0);
    for (const n of ['test2']) {
      const [s] = await c.query<Record<string, string>>(n, 'SHOW SLAVE STATUS');
      // Connected with the password as written: the statement was read as mmmf meant it.
      expect([String(s?.Master_Port), s?.Slave_IO_Running, s?.Slave_SQL_Running]).toEqual([
        String(c.port('test3')),
        'Yes',
        'Yes',
      ]);
    }
    const [ro2, ro3] = await Promise.all(
      ['test2', 'test3'].map((n) => c.query<{ ro: number }>(n, 'SELECT @@read_only AS ro')),
    );
    expect([Number(ro2![0]?.ro), Number(ro3![0]?.ro)]).toEqual([1, 0]);
    await expectNothingLost(c, ['test2', 'test3'], ev);
    await expectIdenticalData(c, ['test2', 'test3']);
    // Every file mmmf wrote in its state folder — the journal (with the plan and every step's result) among them
    // — and the run log.
    const state = join(c.dir, 'state');
    expect(readJournals(state).closed.length).toBe(1);
    const written = [...filesUnder(state), { path: 'run.log', text: readFileSync(join(c.dir, 'run.log'), 'utf8') }];
    for (const { path, text } of [...written, { path: 'stdout', text: r.stdout }, { path: 'stderr', text: r.stderr }]) {
      expect(text, path).not.toContain('b\\c');
      expect(text, path).not.toContain('d$e;f');
    }
    expect(statSync(join(c.dir, 'run.log')).mode & 0o077).toBe(0);
    expect(statSync(join(c.dir, 'state')).mode & 0o077).toBe(0);
  });
});

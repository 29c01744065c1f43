// Salvaging what only a dead master's binlog holds (issue 21), by binlog file and position and in STATEMENT
// format, on network-namespace hosts (sshd on each, mmmf on a client host). One cluster, scenarios in order:
// acknowledged transactions no replica received, mmmf killed while the apply client runs and run again (every
// one on every survivor, once); a flipped byte in the middle of the tail (what precedes it salvaged, the rest
// named). `check` says what a salvage would lack. Needs root (CI runs as root).
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { dataFingerprint, mmmfOnClient, type Cluster } from '../../harness/cluster.js';
import { until } from '../../harness/load.js';
import { binlogEndOf, SALVAGE_DDL, salvagedIds, stopReceiving, writeOnly } from '../../harness/salvage-load.js';
import { useCluster } from '../cluster-fixture.js';
import { basePortOf } from '../../harness/ports.js';

const root = process.getuid?.() === 0;
const run = (c: Cluster, args: string[], env: Record<string, string> = {}) =>
  mmmfOnClient(c, ['--cfg', c.cfg, ...args], env);

async function expectSame(c: Cluster, names: string[]): Promise<void> {
  const prints = await Promise.all(names.map((n) => dataFingerprint(c, n)));
  for (const [i, p] of prints.entries()) expect(p, names[i]).toBe(prints[0]);
}

describe.skipIf(!root)('salvaging the dead master binlog over SSH (file and position, STATEMENT)', () => {
  const cluster = useCluster(
    { basePort: basePortOf('salvage-file'), replicas: 3, netns: true, positioning: 'file', format: 'STATEMENT' },
    async (c) => {
      for (const sql of SALVAGE_DDL) await c.query('test1', sql);
      await until(async () => (await salvagedIds(c, 'test4').catch(() => null)) !== null, 20_000, 'the table');
    },
  );

  it('check: SSH and binlog access per host, the tools here; a wrong binlogDir is named', async () => {
    const c = cluster();
    const ok = await run(c, ['check', '--json']);
    const findings = JSON.parse(ok.stdout).findings as { host?: string; message: string }[];
    expect(findings.filter((f) => /salvage/.test(f.message))).toEqual([]);
    const cfg = join(c.dir, 'wrong-dir.config.ts');
    writeFileSync(
      cfg,
      "import base from './mmmf.config.ts';\n" +
        "export default { ...base, hosts: { ...base.hosts, test2: { ...base.hosts.test2, binlogDir: '/nowhere' } } };\n",
    );
    const wrong = await mmmfOnClient(c, ['check', '--cfg', cfg]);
    expect(wrong.stdout).toMatch(
      /! test2: a failover while it is the master could not salvage what only its binlog holds: cannot read the binlog index \/nowhere\/mysql-bin\.index/,
    );
  });

  it('acknowledged transactions no replica received; mmmf killed while applying, run again: each once, everywhere', async () => {
    const c = cluster();
    await stopReceiving(c, ['test3']);
    const lagging = await writeOnly(c, 'test1', { firstId: 1, count: 10, tag: 'lagging' });
    await stopReceiving(c, ['test2', 'test4']);
    const only = await writeOnly(c, 'test1', { firstId: 100, count: 27, tag: 'only', ddlAt: 13 });
    await c.sandbox('kill', 'test1');
    const dry = await run(c, ['--failover-to', 'test3', '--dry-run']);
    expect(dry.stdout).toMatch(/Salvage what only the dead master's binlog holds/);
    expect(dry.stdout).toMatch(/mariadb-binlog --no-defaults --skip-annotate-row-events - < <checked bytes>/);
    const killed = await run(c, ['--failover-to', 'test3'], { MMMF_TEST_FAULTS: 'kill@salvage:applying' });
    expect(killed.exitCode, killed.stdout + killed.stderr).not.toBe(0);
    const r = await run(c, ['--failover-to', 'test3', '--json']);
    const report = JSON.parse(r.stdout);
    expect([r.exitCode, report.ok], r.stdout.slice(-3000) + r.stderr).toEqual([0, true]);
    expect(report.salvage).toMatchObject({ outcome: 'applied', transactions: 28, tornTailBytes: 0, refusals: [] });
    expect(report.salvage.positions).toEqual([expect.stringMatching(/^mysql-bin\.000001:\d+\.\.\d+$/)]);
    expect(report.salvage.gtids).toEqual([expect.stringMatching(/^0-1-\d+\.\.\d+$/)]);
    for (const n of ['test2', 'test3', 'test4']) {
      const ids = await salvagedIds(c, n);
      expect(
        [...lagging, ...only].filter((id) => !ids.includes(id)),
        `${n} lacks`,
      ).toEqual([]);
    }
    await expectSame(c, ['test2', 'test3', 'test4']);
  });

  it('a flipped byte in the middle of the tail: only what precedes it is salvaged, and the rest is named', async () => {
    const c = cluster();
    await stopReceiving(c, ['test2', 'test4']);
    const kept = await writeOnly(c, 'test3', { firstId: 1000, count: 5, tag: 'kept' });
    const at = await binlogEndOf(c, 'test3');
    const broken = await writeOnly(c, 'test3', { firstId: 2000, count: 1, tag: 'broken', pad: 100 });
    const end = await binlogEndOf(c, 'test3');
    const after = await writeOnly(c, 'test3', { firstId: 3000, count: 4, tag: 'after' });
    await c.sandbox('kill', 'test3');
    const file = join(c.dir, 'test3', 'data', at.file);
    const bytes = readFileSync(file);
    const flip = Math.floor((at.position + end.position) / 2);
    bytes[flip] = bytes[flip]! ^ 0x40;
    writeFileSync(file, bytes);
    const r = await run(c, ['--failover-to', 'test2', '--force']);
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/✔ 5 transactions applied to test\d/);
    const stop = new RegExp(`NOT salvaged: test3's binlog from ${at.file}:(\\d+) on`);
    expect(r.stdout).toMatch(stop);
    const from = Number(stop.exec(r.stdout)![1]);
    expect(from).toBeGreaterThanOrEqual(at.position);
    expect(from).toBeLessThanOrEqual(flip);
    for (const n of ['test2', 'test4']) {
      const ids = await salvagedIds(c, n);
      expect(
        kept.filter((id) => !ids.includes(id)),
        `${n} lacks`,
      ).toEqual([]);
      expect(
        [...broken, ...after].filter((id) => ids.includes(id)),
        `${n} holds`,
      ).toEqual([]);
    }
    await expectSame(c, ['test2', 'test4']);
  });
});

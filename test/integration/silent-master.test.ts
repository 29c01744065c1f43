// A master that goes silent instead of refusing: its host drops off the network (link down in its namespace),
// so every packet to it vanishes — no RST, no answer, only TCP timeouts — while an application writes to it
// through the writer VIP. mmmf runs on the client host over TCP, as in production. Needs root (CI runs as
// root).
import { execa } from 'execa';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { mmmfOnClient, ROOT, type Cluster } from '../../harness/cluster.js';
import { ledgerEvidence } from '../../harness/ledger.js';
import { LEDGER_DDL, until } from '../../harness/load.js';
import { basePortOf } from '../../harness/ports.js';
import { useCluster } from '../cluster-fixture.js';
import { expectIdenticalData, expectNothingLost } from '../expect-data.js';

const root = process.getuid?.() === 0;
const REPLICAS = ['test2', 'test3', 'test4'];
const status = async (c: Cluster, n: string) =>
  (await c.query<Record<string, string>>(n, 'SHOW SLAVE STATUS'))[0] ?? {};

describe.skipIf(!root)('a silent master on network-namespace hosts', () => {
  const cluster = useCluster({ basePort: basePortOf('silent-master'), replicas: 3, netns: true }, async (c) => {
    await c.query('test1', LEDGER_DDL);
    await c.sandbox('load', '100');
    // Replicas notice a silent master after slave_net_timeout: 4 s here.
    for (const n of REPLICAS) {
      await c.query(n, 'STOP SLAVE');
      await c.query(n, 'SET GLOBAL slave_net_timeout = 4');
      await c.query(n, 'CHANGE MASTER TO MASTER_HEARTBEAT_PERIOD = 1');
      await c.query(n, 'START SLAVE');
    }
  });

  it('writes through the VIP until the master goes silent; failover over TCP timeouts loses nothing any replica received', async () => {
    const c = cluster();
    const vip = (
      await c.sandbox('client', 'sh', '-c', 'grep -o "address: \'[0-9.]*" ' + c.cfg + " | cut -d\\' -f2")
    ).trim();
    // The application: writer 8 through the VIP, one ledger row per transaction, stopping at its first error.
    let out = '';
    const writer = execa('bash', [
      join(ROOT, 'scripts/sandbox.sh'),
      '--dir',
      c.dir,
      'client',
      'node',
      join(ROOT, 'dist/harness/vip-writer.js'),
      vip,
      'app',
      'app-secret',
      '60',
      '8',
      'stop-on-error',
    ]);
    writer.stdout?.on('data', (d: Buffer) => (out += String(d)));
    const acks = () => out.split('\n').filter((l) => l.startsWith('ack ')).length;
    await until(async () => acks() > 100, 30_000, 'writes through the VIP');
    await c.query('test4', 'STOP SLAVE IO_THREAD'); // test4 falls behind: the target must catch up
    const lagged = acks();
    await until(async () => acks() > lagged + 100, 30_000, 'writes test4 does not receive');
    await c.sandbox('netcut', 'test1'); // silent from here: link down, packets dropped
    await writer; // it stops at its first error: a query that timed out
    expect(out.trim().split('\n').at(-2)).toMatch(/^err \d+ \d+ /);
    await until(
      async () => (await Promise.all(REPLICAS.map((n) => status(c, n)))).every((s) => s.Slave_IO_Running !== 'Yes'),
      30_000,
      'replicas to notice the silence',
    );
    const ev = await ledgerEvidence(c, REPLICAS, 'test1');
    expect(ev.longest.get(8)!.seq).toBeGreaterThan(lagged);

    const cfg = join(c.dir, 'silent.config.ts');
    writeFileSync(cfg, "import base from './mmmf.config.ts';\nexport default { ...base, timeouts: { connect: 2 } };\n");
    const started = Date.now();
    const r = await mmmfOnClient(c, ['--cfg', cfg, '--failover-to', 'test4']);
    expect.soft(r.exitCode, r.stdout + r.stderr).toBe(0);
    // Silence costs a timeout (a refused port answers at once), and mmmf says it did not answer.
    expect(Date.now() - started).toBeGreaterThan(2000);
    expect(r.stdout).toMatch(/test1 .*(timed out|ETIMEDOUT|did not answer)/i);
    expect(r.stdout).not.toMatch(/ECONNREFUSED/);

    // On the servers: nothing any replica received is lost, test4 is the one writable replica, the others
    // replicate from it, and the VIP answers there.
    await expectNothingLost(c, REPLICAS, ev);
    await expectIdenticalData(c, REPLICAS);
    const ro = await Promise.all(
      REPLICAS.map(async (n) => Number((await c.query<{ ro: number }>(n, 'SELECT @@read_only AS ro'))[0]?.ro)),
    );
    expect(ro).toEqual([1, 1, 0]);
    for (const n of ['test2', 'test3']) {
      const s = await status(c, n);
      expect([n, String(s.Master_Server_Id), s.Slave_IO_Running, s.Slave_SQL_Running]).toEqual([n, '4', 'Yes', 'Yes']);
    }
    expect((await c.sandbox('vip-holders')).split('\n')).toContain('test4');
  });
});

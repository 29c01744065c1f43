// Clusters as users have them, not as the sandbox makes them: a master named by another address, replicas an
// operator or a backup stopped, a delayed replica, a target that cannot be brought up. GTID and file modes,
// a fresh cluster per case (each is torn down, pass or fail).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type Cluster, mmmf, replicationSnapshot, startCluster } from '../../harness/cluster.js';
import { ledgerEvidence } from '../../harness/ledger.js';
import { gtidSeq, until } from '../../harness/load.js';
import { basePortOf } from '../../harness/ports.js';
import { expectIdenticalData, expectNothingLost } from '../expect-data.js';

const REPLICAS = ['test2', 'test3', 'test4'];

async function withCluster(
  basePort: number,
  positioning: 'gtid' | 'file',
  fn: (c: Cluster) => Promise<void>,
): Promise<void> {
  const c = await startCluster({ basePort, replicas: 3, positioning });
  try {
    await fn(c);
  } finally {
    await c.down();
  }
}

/** The sandbox config with test1 named differently (and, without a socket, reached only at that address). */
function configNamingMaster(c: Cluster, test1: string): string {
  const file = join(c.dir, 'alias.config.ts');
  writeFileSync(
    file,
    `import base from './mmmf.config.ts';
export default { ...base, hosts: { ...base.hosts, test1: ${test1} } };\n`,
  );
  return file;
}

const io = async (c: Cluster, n: string) => (await c.query<Record<string, string>>(n, 'SHOW SLAVE STATUS'))[0] ?? {};
const readOnly = async (c: Cluster, n: string) =>
  Number((await c.query<{ ro: number }>(n, 'SELECT @@read_only AS ro'))[0]?.ro);

describe.each([
  ['gtid', basePortOf('replica-states-gtid')],
  ['file', basePortOf('replica-states-file')],
] as const)('replica states (%s positioning)', (positioning, basePort) => {
  it('refuses when the live master is configured at an address mmmf cannot reach, and changes nothing', async () => {
    await withCluster(basePort, positioning, async (c) => {
      await c.sandbox('load', '50');
      const cfg = configNamingMaster(c, `{ host: '127.0.0.2', port: ${c.port('test1')} }`);
      const before = await replicationSnapshot(c, ['test1', ...REPLICAS]);
      const r = await mmmf(['--cfg', cfg, '--failover-to', 'test3']);
      expect(r.exitCode, r.stdout + r.stderr).toBe(3);
      expect(r.stderr).toMatch(
        /127\.0\.0\.1:\d+ \(server_id 1, not in the config\) matches no reachable host in the config, but test2, test3, test4 still have a running IO thread/,
      );
      expect(r.stderr).toMatch(/test1 \(127\.0\.0\.2:\d+\) did not answer: if it is that server/);
      expect(await replicationSnapshot(c, ['test1', ...REPLICAS])).toEqual(before);
    });
  });

  it('knows a live master named by another address by its server_id, and fences it: one writable server', async () => {
    await withCluster(basePort, positioning, async (c) => {
      await c.sandbox('load', '50');
      // The one config here that reaches a server over its Unix socket: mmmf running on the database host.
      const socket = join(c.dir, 'test1', 'mariadbd.sock');
      const cfg = configNamingMaster(c, `{ host: 'localhost', port: ${c.port('test1')}, socket: '${socket}' }`);
      const r = await mmmf(['--cfg', cfg, '--failover-to', 'test3', '--fence-live-master']);
      expect.soft(r.exitCode, r.stdout + r.stderr).toBe(0);
      // Everything the fenced master had committed is everywhere, each writer's ledger gap-free.
      await expectNothingLost(c, ['test1', ...REPLICAS], await ledgerEvidence(c, ['test1']));
      expect(r.stdout).toMatch(
        /replicas reach the old master as 127\.0\.0\.1:\d+; the config names it test1 at localhost/,
      );
      expect(r.stdout).toMatch(/Make the old master read-only/);
      expect(await Promise.all(['test1', ...REPLICAS].map((n) => readOnly(c, n)))).toEqual([1, 1, 0, 1]);
      await expectIdenticalData(c, ['test1', ...REPLICAS]);
    });
  });

  it('fails over to a backup replica stopped with everything applied, with every replica stopped by an operator', async () => {
    await withCluster(basePort, positioning, async (c) => {
      await c.sandbox('load', '100');
      // Everything the master wrote (not just 100 transactions: the sandbox's own setup counts too), so that
      // "nothing left to apply" is true when both threads stop.
      const end = await gtidSeq(c, 'test1');
      await until(async () => (await gtidSeq(c, 'test2', 'gtid_slave_pos')) >= end, 30_000, 'test2 applied');
      await c.query('test2', 'STOP SLAVE'); // the backup replica: both threads stopped, nothing left to apply
      await c.sandbox('load', '200');
      await c.sandbox('kill', 'test1');
      for (const n of ['test3', 'test4']) await c.query(n, 'STOP SLAVE'); // the on-call DBA's reflex
      const ev = await ledgerEvidence(c, REPLICAS, 'test1');
      const r = await mmmf(['--cfg', c.cfg, '--failover-to', 'test2']);
      expect.soft(r.exitCode, r.stdout + r.stderr).toBe(0);
      await expectNothingLost(c, REPLICAS, ev);
      expect(r.stdout).toMatch(
        /test2: Apply the relay log to its end — applied everything received .* its threads were already stopped/,
      );
      await expectIdenticalData(c, REPLICAS);
      for (const n of ['test3', 'test4']) {
        const s = await io(c, n);
        expect([String(s.Master_Port), s.Slave_IO_Running, s.Slave_SQL_Running]).toEqual([
          `${c.port('test2')}`,
          'Yes',
          'Yes',
        ]);
      }
    });
  });

  it('uses a backup replica stopped with everything applied as the best one, the source the target catches up from', async () => {
    await withCluster(basePort, positioning, async (c) => {
      await c.sandbox('load', '100');
      for (const n of ['test3', 'test4']) await c.query(n, 'STOP SLAVE IO_THREAD'); // they lag
      await c.sandbox('load', '150');
      const end = await gtidSeq(c, 'test1');
      await until(async () => (await gtidSeq(c, 'test2', 'gtid_slave_pos')) >= end, 30_000, 'test2 applied');
      await c.query('test2', 'STOP SLAVE'); // the backup job: it alone holds the last 150
      await c.sandbox('kill', 'test1');
      const ev = await ledgerEvidence(c, REPLICAS, 'test1');
      expect(ev.longest.get(100)?.on).toBe('test2');
      const r = await mmmf(['--cfg', c.cfg, '--failover-to', 'test3']);
      expect.soft(r.exitCode, r.stdout + r.stderr).toBe(0);
      await expectNothingLost(c, REPLICAS, ev);
      expect(r.stdout).toMatch(/best\s+test2/);
      expect(r.stdout).toMatch(/test3: Catch up from test2/);
      await expectIdenticalData(c, REPLICAS);
      expect(await gtidSeq(c, 'test3')).toBeGreaterThanOrEqual(end);
    });
  });

  it('does not wait for a delayed replica, and it follows the new master with its delay (or is left stopped by file)', async () => {
    await withCluster(basePort, positioning, async (c) => {
      await c.query('test4', 'STOP SLAVE');
      await c.query('test4', 'CHANGE MASTER TO MASTER_DELAY = 3600');
      await c.query('test4', 'START SLAVE');
      await c.sandbox('load', '100');
      await until(async () => (await gtidSeq(c, 'test3', 'gtid_slave_pos')) >= 100, 30_000, 'test3 applied');
      await c.sandbox('kill', 'test1');
      const dry = await mmmf(['--cfg', c.cfg, '--failover-to', 'test2', '--dry-run']);
      expect(dry.stdout).toMatch(/test4\s+delayed\s+delayed by 3600 s/);
      const ev = await ledgerEvidence(c, REPLICAS, 'test1'); // the delayed one's relay log included
      const t0 = Date.now();
      const r = await mmmf(['--cfg', c.cfg, '--failover-to', 'test2']);
      expect.soft(r.exitCode, r.stdout + r.stderr).toBe(0);
      expect(Date.now() - t0).toBeLessThan(60_000); // the drain timeout is 300 s: it was never waited for
      await expectNothingLost(c, ['test2', 'test3'], ev);
      await expectIdenticalData(c, ['test2', 'test3']);
      const s4 = await io(c, 'test4');
      if (positioning === 'gtid') {
        expect([String(s4.Master_Port), s4.Slave_IO_Running, String(s4.SQL_Delay)]).toEqual([
          `${c.port('test2')}`,
          'Yes',
          '3600',
        ]);
      } else {
        expect([s4.Slave_IO_Running, s4.Slave_SQL_Running]).toEqual(['No', 'No']);
      }
    });
  });

  it('promotes nobody and points nothing at a target that cannot be brought up; another target then works', async () => {
    await withCluster(basePort, positioning, async (c) => {
      await c.sandbox('load', '50');
      await c.sandbox('lag', 'test3');
      const [m] = await c.query<{ n: string }>('test1', 'SELECT MAX(id) AS n FROM sbtest.t');
      const conn = await c.connect('test3');
      await conn.query('SET SESSION sql_log_bin = 0'); // drift GTIDs cannot see: the id the master uses next
      await conn.query(`INSERT INTO sbtest.t (id, k, pad) VALUES (${Number(m?.n) + 3}, 0, 'drift')`);
      await conn.end();
      await c.sandbox('load', '100');
      await c.sandbox('kill', 'test1');
      const ev = await ledgerEvidence(c, REPLICAS, 'test1');
      const before = await Promise.all(['test2', 'test4'].map((n) => io(c, n)));
      const r = await mmmf(['--cfg', c.cfg, '--failover-to', 'test3']);
      expect(r.exitCode, r.stdout).toBe(1);
      expect(r.stdout).toMatch(/Nothing was promoted: no replica was pointed at test3/);
      expect(r.stdout).toMatch(/Next: mmmf --cfg \S+ --failover-to test2/);
      expect(r.stdout).not.toMatch(/SAFETY INVARIANT BROKEN/);
      expect(await Promise.all(REPLICAS.map((n) => readOnly(c, n)))).toEqual([1, 1, 1]); // nobody writable
      for (const [i, n] of ['test2', 'test4'].entries()) {
        expect((await io(c, n)).Master_Port).toBe(before[i]!.Master_Port); // never pointed at test3
      }
      const again = await mmmf(['--cfg', c.cfg, '--failover-to', 'test2']);
      expect.soft(again.exitCode, again.stdout + again.stderr).toBe(0);
      expect(await Promise.all(REPLICAS.map((n) => readOnly(c, n)))).toEqual([0, 1, 1]);
      await expectNothingLost(c, ['test2', 'test4'], ev);
      await expectIdenticalData(c, ['test2', 'test4']);
    });
  });
});

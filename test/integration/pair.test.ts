// MMM's master-master pair, set up by hand as users do: test1 (active, writable) and test2 (passive,
// read-only) replicate from each other; test3 and test4 replicate from test1. Discovered, never declared.
import { describe, expect, it } from 'vitest';
import { mmmf, type Cluster } from '../../harness/cluster.js';
import { ledgerEvidence } from '../../harness/ledger.js';
import { followingWriter, LEDGER_DDL, until } from '../../harness/load.js';
import { basePortOf } from '../../harness/ports.js';
import { useCluster } from '../cluster-fixture.js';
import { expectAckedEverywhere, expectIdenticalData, expectNothingLost } from '../expect-data.js';

const slave = async (c: Cluster, n: string) => (await c.query<Record<string, string>>(n, 'SHOW SLAVE STATUS'))[0];
const link = async (c: Cluster, n: string) => {
  const s = await slave(c, n);
  return s ? `${s.Master_Port} ${s.Slave_IO_Running} ${s.Slave_SQL_Running}` : 'none';
};
const readOnly = async (c: Cluster, n: string) =>
  Number((await c.query<{ ro: number }>(n, 'SELECT @@read_only AS ro'))[0]?.ro);

describe.each([
  { positioning: 'gtid' as const, basePort: basePortOf('pair-gtid') },
  { positioning: 'file' as const, basePort: basePortOf('pair-file') },
])('master-master pair ($positioning positioning)', ({ positioning, basePort }) => {
  const cluster = useCluster({ basePort, replicas: 3, positioning }, async (c) => {
    await c.query('test1', LEDGER_DDL);
    await c.sandbox('load', '100');
    const [end] = await c.query<{ File: string; Position: string }>('test2', 'SHOW MASTER STATUS');
    const at =
      positioning === 'gtid'
        ? 'MASTER_USE_GTID = current_pos'
        : `MASTER_USE_GTID = no, MASTER_LOG_FILE = '${end!.File}', MASTER_LOG_POS = ${end!.Position}`;
    await c.query(
      'test1',
      `CHANGE MASTER TO MASTER_HOST = '127.0.0.1', MASTER_PORT = ${c.port('test2')}, MASTER_USER = 'repl', ` +
        `MASTER_PASSWORD = 'repl-secret', ${at}`,
    );
    await c.query('test1', 'START SLAVE');
    // Tuned as README advises for unattended runs, so that check has nothing true to warn about.
    for (const n of c.names) await c.query(n, 'SET GLOBAL slave_net_timeout = 10');
    await until(async () => (await link(c, 'test1')).endsWith('Yes Yes'), 10_000, 'the circular link');
  });

  it('status draws the pair; check passes it with no findings', async () => {
    const c = cluster();
    const status = await mmmf(['status', '--cfg', c.cfg]);
    expect(status.stdout).toMatch(/^● test1 .* active master ⇄ test2 {2}writable/m);
    expect(status.stdout).toMatch(/^├─ ● test2 .* passive master ⇄ test1 {2}read_only/m);
    const check = await mmmf(['check', '--cfg', c.cfg]);
    expect(check.exitCode, check.stdout).toBe(0);
    expect(check.stdout).toMatch(/Preflight for a failover to test2, test3, test4\n/);
    expect(check.stdout).toContain('no findings');
  });

  it('switchover to the passive under write load keeps the pair circular and loses nothing', async () => {
    const c = cluster();
    const w = followingWriter(c);
    await until(async () => w.acked.size > 300, 30_000, 'writes before the switchover');
    const r = await mmmf(['--cfg', c.cfg, '--switchover-to', 'test2']);
    await until(async () => w.acked.size > 600, 30_000, 'writes after the switchover');
    await w.stop();
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/test1 ⇄ test2 is a master-master pair: test1 becomes the read-only passive/);
    expect(r.stdout).toMatch(/Promote to active master \(the pair stays circular\)/);
    expect(r.stdout).toMatch(/✔ test2\s+new master, writable, active master of the pair, replicating from test1/);
    const blocked = Number(/Writes were blocked for (\d+) ms/.exec(r.stdout)?.[1]);
    console.log(`pair switchover: writes blocked ${blocked} ms; longest gap between acknowledged writes ${w.gap()} ms`);

    expect([await readOnly(c, 'test2'), await readOnly(c, 'test1')]).toEqual([0, 1]);
    expect(await link(c, 'test2')).toBe(`${c.port('test1')} Yes Yes`);
    expect(await link(c, 'test1')).toBe(`${c.port('test2')} Yes Yes`);
    for (const n of ['test3', 'test4']) expect(await link(c, n)).toBe(`${c.port('test2')} Yes Yes`);
    await expectAckedEverywhere(c, 'test2', w.acked);
    await expectNothingLost(c, c.names, await ledgerEvidence(c, ['test2']), new Map([[1, w.attempted()]]));
    await expectIdenticalData(c, c.names);
    // A write on the new active reaches the old one over the circle, and nothing loops back.
    await c.query('test2', "INSERT INTO sbtest.t (k, pad) VALUES (7, 'through the circle')");
    await until(
      async () => (await c.query('test1', "SELECT 1 FROM sbtest.t WHERE pad = 'through the circle'")).length === 1,
      10_000,
      'the write on test1',
    );
    expect(await link(c, 'test2')).toBe(`${c.port('test1')} Yes Yes`);

    const back = await mmmf(['--cfg', c.cfg, '--switchover-to', 'test1']);
    expect(back.exitCode, back.stdout + back.stderr).toBe(0);
    const status = await mmmf(['status', '--cfg', c.cfg]);
    expect(status.stdout).toMatch(/^● test1 .* active master ⇄ test2 {2}writable/m);
  });

  it('failover to the passive after the active died: its link to the dead active is stopped', async () => {
    const c = cluster();
    await c.sandbox('kill', 'test1');
    const ev = await ledgerEvidence(c, ['test2', 'test3', 'test4'], 'test1');
    const r = await mmmf(['--cfg', c.cfg, '--failover-to', 'test2']); // switchovers do not arm anti-flap
    expect.soft(r.exitCode, r.stdout + r.stderr).toBe(0);
    await expectNothingLost(c, ['test2', 'test3', 'test4'], ev);
    expect(await readOnly(c, 'test2')).toBe(0);
    expect(await slave(c, 'test2')).toBeUndefined(); // nothing test1 wrote but never sent can flow in
    for (const n of ['test3', 'test4']) expect(await link(c, n)).toBe(`${c.port('test2')} Yes Yes`);
    await expectIdenticalData(c, ['test2', 'test3', 'test4']);
  });
  it('rejoin: the old active comes back as the passive (pair circular again); one holding an unsent transaction is refused and listed', async () => {
    const c = cluster();
    await c.sandbox('start', 'test1'); // comes back writable, as a server without read_only in my.cnf does
    const dry = await mmmf(['--cfg', c.cfg, 'rejoin', 'test1', '--dry-run']);
    expect(dry.exitCode, dry.stdout + dry.stderr).toBe(0);
    expect(dry.stdout).toMatch(/Rejoin plan \(dry run: nothing will be changed\)/);
    expect(dry.stdout).toMatch(/test2: Replicate from test1 again \(the pair is circular\)/);
    const r = await mmmf(['--cfg', c.cfg, 'rejoin', 'test1']);
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/test1 rejoined: a read-only replica of test2, and test2 replicates from it again/);
    expect([await readOnly(c, 'test1'), await readOnly(c, 'test2')]).toEqual([1, 0]);
    expect(await link(c, 'test1')).toBe(`${c.port('test2')} Yes Yes`);
    expect(await link(c, 'test2')).toBe(`${c.port('test1')} Yes Yes`);
    const again = await mmmf(['--cfg', c.cfg, 'rejoin', 'test1']);
    expect([again.exitCode, again.stdout]).toEqual([0, expect.stringMatching(/nothing to do/)]);
    await expectIdenticalData(c, c.names);

    // test2 (active) writes one transaction nobody receives, and dies.
    for (const n of ['test1', 'test3', 'test4']) await c.query(n, 'STOP SLAVE IO_THREAD');
    await c.query('test2', "INSERT INTO sbtest.t (k, pad) VALUES (42, 'only on test2')");
    await c.sandbox('kill', 'test2');
    const failover = await mmmf(['--cfg', c.cfg, '--failover-to', 'test1', '--force']);
    expect(failover.exitCode, failover.stdout + failover.stderr).toBe(0);
    await c.sandbox('start', 'test2');
    // Restarted, test2 tries its old link to test1 by itself (and fails on its own GTID): only what mmmf would
    // change is compared.
    const pointed = async () => [(await slave(c, 'test2'))?.Master_Port, await readOnly(c, 'test2')];
    const before = await pointed();
    const refused = await mmmf(['--cfg', c.cfg, 'rejoin', 'test2']);
    expect(refused.exitCode, refused.stdout + refused.stderr).toBe(3);
    expect(refused.stderr).toMatch(
      /test2 holds transactions that test1 \(the master\) does not have: refusing, nothing was changed/,
    );
    expect(refused.stderr).toMatch(/1 transaction only test2 holds/);
    expect(refused.stderr).toMatch(
      /0-2-\d+ at mysql-bin\.\d+:\d+ tables sbtest\.t: INSERT INTO sbtest\.t .*only on test2/,
    );
    expect(refused.stderr).toMatch(/choose: rebuild test2 from a backup of test1/);
    expect(await pointed()).toEqual(before);
    expect((await c.query('test1', "SELECT 1 FROM sbtest.t WHERE pad = 'only on test2'")).length).toBe(0);
  });
});

// --if-dead, as cron runs it every minute: a healthy master is left alone (exit 0, no lock, no anti-flap); a
// hung master (SIGSTOP) whose replicas are still connected is refused until they notice; a killed master is
// failed over to the target the rules choose, which catches up from the best replica that may not be promoted.
import { execa } from 'execa';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { mmmf, replicationSnapshot, type Cluster } from '../../harness/cluster.js';
import { ledgerEvidence } from '../../harness/ledger.js';
import { LEDGER_DDL, until } from '../../harness/load.js';
import { basePortOf } from '../../harness/ports.js';
import { useCluster } from '../cluster-fixture.js';
import { expectIdenticalData, expectNothingLost } from '../expect-data.js';

const pidOf = (c: Cluster, n: string) => Number(readFileSync(join(c.dir, n, 'mariadbd.pid'), 'utf8').trim());
const config = (c: Cluster, file: string, extra: string) => {
  const path = join(c.dir, file);
  writeFileSync(
    path,
    `import base from './mmmf.config.ts';\n` +
      `export default { ...base, deadConfirmSeconds: 2, neverPromote: ['test4'], timeouts: { connect: 1 }, ${extra} };\n`,
  );
  return path;
};
const source = async (c: Cluster, n: string) => {
  const [s] = await c.query<Record<string, string>>(n, 'SHOW SLAVE STATUS');
  return s ? `${s.Master_Port} ${s.Slave_IO_Running} ${s.Slave_SQL_Running}` : 'none';
};
const readOnly = async (c: Cluster, n: string) =>
  Number((await c.query<{ ro: number }>(n, 'SELECT @@read_only AS ro'))[0]?.ro);

describe('--if-dead (unattended runs)', () => {
  const cluster = useCluster({ basePort: basePortOf('if-dead'), replicas: 3 }, async (c) => {
    await c.query('test1', LEDGER_DDL);
    await c.sandbox('load', '100');
  });
  let frozen: number | undefined;

  it('a healthy master, three runs: exit 0 "nothing to do", nothing changed, no lock, no anti-flap', async () => {
    const c = cluster();
    const cfg = config(c, 'cron.config.ts', '');
    const all = ['test1', 'test2', 'test3', 'test4'];
    const before = await replicationSnapshot(c, all);
    for (let i = 0; i < 3; i++) {
      const r = await mmmf(['--cfg', cfg, '--failover-to', 'auto', '--if-dead']);
      expect(r.exitCode, r.stdout + r.stderr).toBe(0);
      expect(r.stdout).toMatch(/^test1 is alive and serves 3 replicas: nothing to do$/m);
    }
    const json = await mmmf(['--cfg', cfg, '--failover-to', 'test3', '--if-dead', '--json']);
    expect(json.exitCode).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: true, exitCode: 0, masterCheck: { verdict: 'alive' } });
    expect(await replicationSnapshot(c, all)).toEqual(before);
    const state = join(c.dir, 'state');
    // No lock left, no last-failover record, no cluster folder: only what it saw of each host (hosts/: where each
    // keeps its binlog, which a salvage needs once that host's server is dead).
    expect(existsSync(state) ? readdirSync(state) : []).toEqual(['hosts']);
    expect(readdirSync(join(state, 'hosts')).sort()).toEqual(all.map((n) => `${n}.json`));
  });

  it('a hung master (SIGSTOP), replicas still connected: exit 3 until they notice, then a failover', async () => {
    const c = cluster();
    const cfg = config(c, 'cron.config.ts', '');
    // Replicas notice a silent master after slave_net_timeout: 8 s here (60 s by default: mmmf check warns).
    for (const n of ['test2', 'test3', 'test4']) {
      await c.query(n, 'STOP SLAVE');
      await c.query(n, 'SET GLOBAL slave_net_timeout = 8');
      await c.query(n, 'CHANGE MASTER TO MASTER_HEARTBEAT_PERIOD = 1');
      await c.query(n, 'START SLAVE');
    }
    // Every replica connected (the snapshot itself waits until each applied what it read).
    await until(
      async () =>
        (await Promise.all(['test2', 'test3', 'test4'].map((n) => source(c, n)))).every((x) => x.endsWith('Yes Yes')),
      20_000,
      'replicas connected',
    );
    const before = await replicationSnapshot(c, ['test2', 'test3', 'test4']);
    frozen = pidOf(c, 'test1');
    process.kill(frozen, 'SIGSTOP');
    const refused = await mmmf(['--cfg', cfg, '--failover-to', 'auto', '--if-dead']);
    expect(refused.exitCode, refused.stdout + refused.stderr).toBe(3);
    expect(refused.stderr).toMatch(/signals disagree about whether test1 is dead: nothing was changed/);
    expect(refused.stderr).toMatch(/test2: its IO thread is still connected to test1/);
    expect(await replicationSnapshot(c, ['test2', 'test3', 'test4'])).toEqual(before);

    // Frozen, its binlog is still on disk: what each replica had received is read before any run changes it.
    const ev = await ledgerEvidence(c, ['test2', 'test3', 'test4'], 'test1');
    let r = refused;
    const started = Date.now();
    while (r.exitCode === 3 && Date.now() - started < 60_000) {
      r = await mmmf(['--cfg', cfg, '--failover-to', 'auto', '--if-dead']);
    }
    expect.soft(r.exitCode, r.stdout + r.stderr).toBe(0);
    await expectNothingLost(c, ['test2', 'test3', 'test4'], ev);
    expect(r.stdout).toMatch(/dead: mmmf: test1 did not answer on \d+ of \d+ attempts/);
    expect(r.stdout).toMatch(/dead: test2: IO thread Connecting, received nothing new/);
    expect(r.stdout).toMatch(/Failover to test2 done/);
    expect(await Promise.all(['test2', 'test3', 'test4'].map((n) => readOnly(c, n)))).toEqual([0, 1, 1]);
    for (const n of ['test3', 'test4']) expect(await source(c, n)).toBe(`${c.port('test2')} Yes Yes`);
    await expectIdenticalData(c, ['test2', 'test3', 'test4']);
    // A hung master that wakes up would be a second writer: this is what the fence hook is for.
    process.kill(frozen, 'SIGKILL');
    frozen = undefined;
  });

  it('a killed master: --failover-to auto picks by the rules, catching up from a neverPromote best', async () => {
    const c = cluster();
    if (frozen) process.kill(frozen, 'SIGKILL');
    // Anti-flap off: the previous test's failover was seconds ago.
    const cfg = config(c, 'again.config.ts', 'antiFlapMinutes: 0');
    await c.query('test3', 'STOP SLAVE IO_THREAD'); // test3 lags; test4 (neverPromote) receives the most
    await c.query('test2', 'CREATE TABLE sbtest.late (id INT PRIMARY KEY)');
    for (let i = 1; i <= 50; i++) await c.query('test2', `INSERT INTO sbtest.late VALUES (${i})`);
    await until(
      async () => Number((await c.query<{ n: number }>('test4', 'SELECT COUNT(*) AS n FROM sbtest.late'))[0]?.n) === 50,
      20_000,
      'test4 received everything',
    );
    await execa('kill', ['-9', String(pidOf(c, 'test2'))]);
    // test3 tries to receive again: it votes "dead" with test4 (test1, long dead, is no vote: 2 of 3 is a majority).
    await c.query('test3', 'START SLAVE IO_THREAD');
    await until(async () => !(await source(c, 'test4')).includes('Yes Yes'), 10_000, 'test4 noticed');
    const ev = await ledgerEvidence(c, ['test3', 'test4'], 'test2');

    const r = await mmmf(['--cfg', cfg, '--failover-to', 'auto', '--if-dead']);
    expect.soft(r.exitCode, r.stdout + r.stderr).toBe(0);
    await expectNothingLost(c, ['test3', 'test4'], ev);
    expect(r.stdout).toMatch(/new master {2}test3 \(auto:/);
    expect(r.stdout).toMatch(/best {8}test4/);
    expect(r.stdout).toMatch(/test3: Catch up from test4/);
    const rows = await c.query<{ n: number }>('test3', 'SELECT COUNT(*) AS n FROM sbtest.late');
    expect(Number(rows[0]?.n)).toBe(50);
    expect([await readOnly(c, 'test3'), await readOnly(c, 'test4')]).toEqual([0, 1]);
    expect(await source(c, 'test4')).toBe(`${c.port('test3')} Yes Yes`);
    await expectIdenticalData(c, ['test3', 'test4']);
  });
});

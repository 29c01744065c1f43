// A semi-synchronous MariaDB cluster (sandbox --semi-sync: master side on test1 with a 3 s timeout and
// AFTER_SYNC, replica side on the others) through a switchover, a failover, a rejoin and a crash under load, in
// sequence on one cluster. After each: the master side on the new master with the carried settings, the replica
// side on (and acknowledging) on every replica, Rpl_semi_sync_master_status ON after the first write, which
// an acknowledging replica confirmed; a write with every replica's IO thread stopped waits for the timeout.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type Cluster, mmmf } from '../../harness/cluster.js';
import { followingWriter, LEDGER_DDL, LEDGER_KEYS, until } from '../../harness/load.js';
import { useCluster } from '../cluster-fixture.js';
import { expectAckedEverywhere, expectIdenticalData } from '../expect-data.js';
import { basePortOf } from '../../harness/ports.js';

const TIMEOUT_MS = 3000; // the sandbox's rpl_semi_sync_master_timeout

type NameValue = { Variable_name: string; Value: string };
const read = async (c: Cluster, n: string, sql: string) =>
  Object.fromEntries((await c.query<NameValue>(n, sql)).map((r) => [r.Variable_name, r.Value]));
const vars = (c: Cluster, n: string) => read(c, n, "SHOW GLOBAL VARIABLES LIKE 'rpl_semi_sync%'");
const counters = (c: Cluster, n: string) => read(c, n, "SHOW GLOBAL STATUS LIKE 'Rpl_semi_sync%'");

/** A config of this sandbox with anti-flap off (several failovers in a row) and the given semiSync. */
function config(c: Cluster, semiSync?: object): string {
  const file = join(c.dir, 'semi-sync.config.json');
  const hosts = c.names.map((n) => [
    n,
    { host: '127.0.0.1', port: c.port(n), socket: join(c.dir, n, 'mariadbd.sock') },
  ]);
  writeFileSync(
    file,
    JSON.stringify({
      replication: { user: 'repl', password: 'repl-secret' },
      defaults: { user: 'root', password: '' },
      stateDir: 'state',
      antiFlapMinutes: 0,
      hosts: Object.fromEntries(hosts),
      ...(semiSync ? { semiSync } : {}),
    }),
  );
  return file;
}

let seq = 0;
/** One write on the master: how long its commit took, and the master's counters around it. */
async function write(c: Cluster, master: string) {
  const before = await counters(c, master);
  const t0 = Date.now();
  await c.query(master, `INSERT INTO sbtest.ledger (writer, seq) VALUES (9, ${++seq})`);
  const ms = Date.now() - t0;
  return { ms, before, after: await counters(c, master) };
}

/** The roles as the servers say: master side on with the settings, every replica acknowledging, master side off. */
async function expectSemiSync(c: Cluster, master: string, replicas: string[]) {
  const m = await vars(c, master);
  expect(m).toMatchObject({
    rpl_semi_sync_master_enabled: 'ON',
    rpl_semi_sync_master_timeout: String(TIMEOUT_MS),
    rpl_semi_sync_master_wait_point: 'AFTER_SYNC',
  });
  for (const r of replicas) {
    expect(await vars(c, r), r).toMatchObject({
      rpl_semi_sync_slave_enabled: 'ON',
      rpl_semi_sync_master_enabled: 'OFF',
    });
    expect((await counters(c, r)).Rpl_semi_sync_slave_status, `${r} acknowledges`).toBe('ON');
  }
  expect((await counters(c, master)).Rpl_semi_sync_master_clients).toBe(String(replicas.length));
  // The first write waits for a replica's acknowledgement (yes_tx), not for the timeout (no_tx).
  const w = await write(c, master);
  expect(w.ms).toBeLessThan(TIMEOUT_MS / 2);
  expect(Number(w.after.Rpl_semi_sync_master_yes_tx)).toBe(Number(w.before.Rpl_semi_sync_master_yes_tx) + 1);
  expect(w.after.Rpl_semi_sync_master_no_tx).toBe(w.before.Rpl_semi_sync_master_no_tx);
  expect(w.after.Rpl_semi_sync_master_status).toBe('ON');
}

/** Every acknowledged ledger key is on each of these servers, once they hold the master's binlog. */
async function expectAckedOn(c: Cluster, master: string, names: string[], acked: Set<string>) {
  const [m] = await c.query<{ g: string }>(master, 'SELECT @@gtid_binlog_pos AS g');
  for (const n of names) {
    // The master's own writes never enter its gtid_slave_pos: it is not waited for.
    if (n !== master) await c.query(n, `SELECT MASTER_GTID_WAIT('${m!.g}', 30)`);
    const keys = new Set((await c.query<{ k: string }>(n, LEDGER_KEYS)).map((x) => x.k));
    expect(
      [...acked].filter((k) => !keys.has(k)),
      `acknowledged writes missing on ${n}`,
    ).toEqual([]);
  }
}

describe('semi-synchronous cluster', () => {
  const cluster = useCluster({ basePort: basePortOf('semi-sync'), replicas: 2, semiSync: true }, async (c) => {
    await c.query('test1', LEDGER_DDL);
    await c.sandbox('load', '100');
  });

  it('status shows each side; check names what a failover to a replica would run with', async () => {
    const c = cluster();
    const st = await mmmf(['status', '--cfg', config(c)]);
    expect(st.stdout).toMatch(/semi-sync master ON, status ON, 2 clients, timeout 3000 ms, AFTER_SYNC/);
    expect(st.stdout.match(/semi-sync slave ON, acknowledging/g)).toHaveLength(2);
    const check = await mmmf(['check', '--cfg', config(c)]);
    expect(check.exitCode, check.stdout + check.stderr).toBe(0);
    expect(check.stdout).toMatch(
      /test2: promoted while test1 is down, it would run semi-sync with its own timeout 10000 ms, wait point AFTER_COMMIT \(test1: timeout 3000 ms, wait point AFTER_SYNC\)/,
    );
  });

  it('switchover under writes: the new master carries the old one’s side, writes open once a replica acknowledges', async () => {
    const c = cluster();
    const w = followingWriter(c);
    await until(async () => w.acked.size > 200, 30_000, 'writes before the switchover');
    const r = await mmmf(['--cfg', config(c), '--switchover-to', 'test2']);
    await until(async () => w.acked.size > 400, 30_000, 'writes after the switchover');
    await w.stop();
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/semi-sync +test1 runs it .*; test2: timeout 3000 ms, wait point AFTER_SYNC.*\(test1's\)/);
    expect(r.stdout).toMatch(/Open writes once 1 replica acknowledges/);
    const blocked = Number(/Writes were blocked for (\d+) ms/.exec(r.stdout)?.[1]);
    console.log(`semi-sync switchover: writes blocked ${blocked} ms by mmmf's measure; longest gap ${w.gap()} ms`);
    await expectSemiSync(c, 'test2', ['test1', 'test3']);
    await expectAckedEverywhere(c, 'test2', w.acked);
  });

  it('a commit is acknowledged only once a replica received it: with every IO thread stopped it waits the timeout', async () => {
    const c = cluster();
    for (const n of ['test1', 'test3']) await c.query(n, 'STOP SLAVE IO_THREAD');
    await until(async () => (await counters(c, 'test2')).Rpl_semi_sync_master_clients === '0', 5000, 'no clients');
    const w = await write(c, 'test2');
    expect(w.ms).toBeGreaterThanOrEqual(TIMEOUT_MS - 100);
    expect(Number(w.after.Rpl_semi_sync_master_no_tx)).toBe(Number(w.before.Rpl_semi_sync_master_no_tx) + 1);
    for (const n of ['test1', 'test3']) await c.query(n, 'START SLAVE IO_THREAD');
    await until(async () => (await counters(c, 'test2')).Rpl_semi_sync_master_status === 'ON', 10_000, 'status ON');
    await until(async () => (await counters(c, 'test2')).Rpl_semi_sync_master_clients === '2', 10_000, '2 clients');
  });

  it('failover after the master died: the cluster counts as semi-sync by its replicas, settings from the config', async () => {
    const c = cluster();
    await c.sandbox('kill', 'test2');
    const cfg = config(c, { timeoutMs: TIMEOUT_MS, waitPoint: 'AFTER_SYNC' });
    const r = await mmmf(['--cfg', cfg, '--failover-to', 'test3']);
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(
      /semi-sync +test2 does not answer, and test1, test3 have the replica side on; test3: timeout 3000 ms, wait point AFTER_SYNC \(from the config\)/,
    );
    await expectSemiSync(c, 'test3', ['test1']);
  });

  it('rejoin: the old master comes back with its master side on and rejoins acknowledging', async () => {
    const c = cluster();
    // As a my.cnf would bring it back: the master side on (and read_only, replica side from the sandbox's my.cnf).
    await c.sandbox('cnf', 'test2', 'rpl_semi_sync_master_enabled=ON');
    expect((await vars(c, 'test2')).rpl_semi_sync_master_enabled).toBe('ON');
    const r = await mmmf(['--cfg', config(c), 'rejoin', 'test2']);
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/test2 rejoins with its replica side on, its master side off/);
    await expectSemiSync(c, 'test3', ['test1', 'test2']);
    await expectIdenticalData(c, c.names);
  });

  it('the master killed under writes: every acknowledged commit is on every survivor', async () => {
    const c = cluster();
    const w = followingWriter(c);
    await until(async () => w.acked.size > 300, 30_000, 'writes before the crash');
    await c.sandbox('kill', 'test3');
    const r = await mmmf([
      '--cfg',
      config(c, { timeoutMs: TIMEOUT_MS, waitPoint: 'AFTER_SYNC' }),
      '--failover-to',
      'test1',
    ]);
    const before = w.acked.size;
    await until(async () => w.acked.size > before + 100, 30_000, 'writes after the failover');
    await w.stop();
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    await expectAckedOn(c, 'test1', ['test1', 'test2'], w.acked);
    await expectSemiSync(c, 'test1', ['test2']);
  });
});

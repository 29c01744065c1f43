// The writer VIP on real hosts: every server in a network namespace of its own with sshd, mmmf and the
// application on a separate client host. Needs root (CI runs as root).
import { execa } from 'execa';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { mmmfOnClient, ROOT, type Cluster } from '../../harness/cluster.js';
import { readJournals } from '../../harness/journal-view.js';
import { ledgerEvidence } from '../../harness/ledger.js';
import { LEDGER_DDL, LEDGER_KEYS, until } from '../../harness/load.js';
import { basePortOf } from '../../harness/ports.js';
import { useCluster } from '../cluster-fixture.js';
import { expectNothingLost } from '../expect-data.js';

const root = process.getuid?.() === 0;
/** The servers that answer (over their sockets) and accept writes. */
const writable = async (c: Cluster, among = c.names) => {
  const out: string[] = [];
  for (const n of among) {
    const rows = await c.query<{ ro: number }>(n, 'SELECT @@read_only AS ro').catch(() => undefined);
    if (rows && Number(rows[0]?.ro) === 0) out.push(n);
  }
  return out;
};
/** Where a server replicates from, by the source's server_id (every host listens on port 3306 of its own). */
const source = async (c: Cluster, n: string) => {
  const [s] = await c.query<Record<string, string>>(n, 'SHOW SLAVE STATUS');
  return s ? `test${s.Master_Server_Id} ${s.Slave_IO_Running} ${s.Slave_SQL_Running}` : 'none';
};
const client = (c: Cluster, ...cmd: string[]) => c.sandbox('client', ...cmd);
const vipHolders = async (c: Cluster) => (await c.sandbox('vip-holders')).split('\n').filter(Boolean);
const vipHost = (c: Cluster) =>
  c.sandbox('client', 'sh', '-c', 'grep -o "address: \'[0-9.]*" ' + c.cfg + " | cut -d\\' -f2");

describe.skipIf(!root)('writer VIP over SSH on network-namespace hosts', () => {
  const cluster = useCluster({ basePort: basePortOf('vip-netns'), replicas: 3, netns: true }, async (c) => {
    await c.query('test1', LEDGER_DDL);
    await c.sandbox('load', '100');
  });

  it('switchover while a writer writes through the VIP: zero acknowledged writes lost, window measured', async () => {
    const c = cluster();
    const vip = (await vipHost(c)).trim();
    expect(await vipHolders(c)).toEqual(['test1']);
    const check = await mmmfOnClient(c, ['check', '--cfg', c.cfg]);
    expect(check.exitCode, check.stdout).toBe(0); // SSH, ip and arping on every host included
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
      '12',
      '7',
    ]);
    await new Promise((r) => setTimeout(r, 2000));
    const started = Date.now();
    const r = await mmmfOnClient(c, ['--cfg', c.cfg, '--switchover-to', 'test2', '--debug']);
    const ended = Date.now();
    const out = String((await writer).stdout);
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    expect(await vipHolders(c)).toEqual(['test2']);
    const acks = out
      .split('\n')
      .filter((l) => l.startsWith('ack '))
      .map((l) => l.split(' ').map(Number) as [number, number, number]);
    // Written through the VIP before and after the switchover.
    expect(acks.filter((a) => a[2] < started).length, out.slice(0, 2000)).toBeGreaterThan(50);
    expect(acks.filter((a) => a[2] > ended).length, out.slice(-2000)).toBeGreaterThan(50);
    let gap = 0;
    for (let i = 1; i < acks.length; i++) gap = Math.max(gap, acks[i]![2] - acks[i - 1]![2]);
    const blocked = Number(/Writes were blocked for (\d+) ms/.exec(r.stdout)?.[1]);
    // The VIP's move was armed ahead of time: by the hosts' own clocks it was on no host for milliseconds (the
    // old way, a remove and an add each over a fresh ssh, took hundreds), and never on two (vipHolders above).
    const noHost = Number(/the writer VIP was on no host for ([\d.]+) ms/.exec(r.stderr)?.[1]);
    expect(noHost, r.stderr.slice(-3000)).toBeLessThan(100);
    console.log(
      `switchover through the VIP: mmmf measured ${blocked} ms of blocked writes; VIP on no host ${noHost} ms; the writer's longest gap between acks was ${gap} ms`,
    );
    // Zero acknowledged writes lost on any server: once each has applied the new master's binlog, every ack is
    // in its ledger, and writer 7's ledger is gap-free and as long as the new master's.
    const [m] = await c.query<{ g: string }>('test2', 'SELECT @@gtid_binlog_pos AS g');
    for (const n of ['test1', 'test3', 'test4']) await c.query(n, `SELECT MASTER_GTID_WAIT('${m!.g}', 30)`);
    for (const n of c.names) {
      const keys = new Set((await c.query<{ k: string }>(n, LEDGER_KEYS)).map((x) => x.k));
      expect(
        acks.map(([, seq]) => `7:${seq}`).filter((k) => !keys.has(k)),
        `acks missing on ${n}`,
      ).toEqual([]);
    }
    const sent = Math.max(...out.split('\n').map((l) => Number(/^(?:ack|dup|err) (\d+) /.exec(l)?.[1] ?? 0)));
    await expectNothingLost(c, c.names, await ledgerEvidence(c, ['test2']), new Map([[7, sent]]));
    expect(await writable(c)).toEqual(['test2']);
    for (const n of ['test1', 'test3', 'test4']) expect(await source(c, n)).toBe('test2 Yes Yes');
    const [sid] = (
      await client(
        c,
        'mariadb',
        '--no-defaults',
        `-h${vip}`,
        '-ummmf',
        '-pmmmf-secret',
        '-N',
        '-e',
        'SELECT @@server_id',
      )
    ).split('\n');
    expect(sid?.trim()).toBe('2');
  });

  it('rolls a failed switchover back: the old master is writable again and holds the VIP', async () => {
    const c = cluster();
    const plan = JSON.parse(
      (await mmmfOnClient(c, ['--cfg', c.cfg, '--switchover-to', 'test3', '--dry-run', '--json'])).stdout,
    ).plan;
    const confirm = plan.steps.find((s: { phase: string }) => s.phase === 'confirm').n;
    const r = await mmmfOnClient(c, ['--cfg', c.cfg, '--switchover-to', 'test3'], {
      MMMF_TEST_FAIL_AT_STEP: String(confirm),
    });
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toMatch(/Rolled back before promotion/);
    expect(await vipHolders(c), r.stdout).toEqual(['test2']);
    // Rolled back, on the servers: exactly one writable server, every other replicating from it, no run left open.
    expect(await writable(c)).toEqual(['test2']);
    for (const n of ['test1', 'test3', 'test4']) {
      await until(async () => (await source(c, n)) === 'test2 Yes Yes', 10_000, `${n} replicating from test2`);
    }
    expect(readJournals(join(c.dir, 'state')).open).toBeUndefined();
  });

  it('failover: the VIP moves to the new master; an old master out of SSH reach is reported, not fatal', async () => {
    const c = cluster();
    await c.sandbox('sshstop', 'test2'); // the master's host refuses SSH...
    await c.sandbox('kill', 'test2'); // ...and its database crashed
    const ev = await ledgerEvidence(c, ['test1', 'test3', 'test4'], 'test2');
    const check = await mmmfOnClient(c, ['check', '--cfg', c.cfg]);
    expect(check.stdout).toMatch(/✖ test2: the writer VIP cannot be moved here: ssh root@[\d.]+ failed/);
    const r = await mmmfOnClient(c, ['--cfg', c.cfg, '--failover-to', 'test4', '--force']);
    // The database failed over; the VIP did not move: test2's host answers (it refuses SSH), so it may still
    // answer for the VIP, and the VIP is never on two hosts.
    expect(r.exitCode, r.stdout + r.stderr).toBe(1);
    await expectNothingLost(c, ['test1', 'test3', 'test4'], ev);
    expect(await writable(c)).toEqual(['test4']); // test2's database is down
    for (const n of ['test1', 'test3']) expect(await source(c, n)).toBe('test4 Yes Yes');
    expect(r.stdout).toMatch(/could not remove the VIP .* from test2 over SSH .* the new master does not take it/);
    expect(r.stdout).toMatch(/then run mmmf --cfg \S+ roles/);
    expect(await vipHolders(c)).toEqual(['test2']);
    // What the message says: the host is powered off (silent now), then roles finishes the move.
    await c.sandbox('netcut', 'test2');
    const roles = await mmmfOnClient(c, ['roles', '--cfg', c.cfg]);
    expect(roles.exitCode, roles.stdout + roles.stderr).toBe(0);
    expect(roles.stdout).toMatch(/test2 does not answer over SSH/);
    expect(await vipHolders(c)).toEqual(['test2', 'test4']); // test2's cut-off host keeps it configured, unreachable
    const vip = (await vipHost(c)).trim();
    await until(
      async () =>
        (
          await client(
            c,
            'mariadb',
            '--no-defaults',
            `-h${vip}`,
            '-ummmf',
            '-pmmmf-secret',
            '-N',
            '-e',
            'SELECT @@server_id',
          ).catch(() => '')
        ).trim() === '4',
      10_000,
      'the VIP to reach test4',
    );
  });

  it('--if-dead: a master cut off from mmmf only is refused; from its replicas too, it is failed over', async () => {
    const c = cluster();
    // test4 is the master now (test2's host is down). Replicas notice a silent master after 4 s here.
    for (const n of ['test1', 'test3']) {
      await c.query(n, 'STOP SLAVE');
      await c.query(n, 'SET GLOBAL slave_net_timeout = 4');
      await c.query(n, 'CHANGE MASTER TO MASTER_HEARTBEAT_PERIOD = 1');
      await c.query(n, 'START SLAVE');
    }
    const cfg = join(c.dir, 'cron.config.ts');
    writeFileSync(
      cfg,
      "import base from './mmmf.config.ts';\n" +
        "export default { ...base, deadConfirmSeconds: 2, antiFlapMinutes: 0, neverPromote: ['test2'], timeouts: { connect: 1 } };\n",
    );
    const healthy = await mmmfOnClient(c, ['--cfg', cfg, '--failover-to', 'auto', '--if-dead']);
    expect([healthy.exitCode, healthy.stdout]).toEqual([
      0,
      expect.stringMatching(/test4 is alive and serves 2 replicas/),
    ]);

    await c.sandbox('netcut-from', 'test4', 'client'); // mmmf's host loses test4; its replicas do not
    const refused = await mmmfOnClient(c, ['--cfg', cfg, '--failover-to', 'auto', '--if-dead']);
    expect(refused.exitCode, refused.stdout + refused.stderr).toBe(3);
    expect(refused.stderr).toMatch(/test1: its IO thread is still connected to test4/);
    expect(await vipHolders(c)).toContain('test4');

    await c.sandbox('netcut-from', 'test4', 'test1', 'test3'); // now nobody reaches it
    let r = refused;
    // Silent, its binlog is still on disk: what test1 and test3 had received is read before any run changes it.
    const ev = await ledgerEvidence(c, ['test1', 'test3'], 'test4');
    const started = Date.now();
    while (r.exitCode === 3 && Date.now() - started < 60_000) {
      r = await mmmfOnClient(c, ['--cfg', cfg, '--failover-to', 'auto', '--if-dead']);
    }
    expect.soft(r.exitCode, r.stdout + r.stderr).toBe(0);
    await expectNothingLost(c, ['test1', 'test3'], ev);
    // test4 is cut off, not dead: it still takes writes from its own host, which no one can fence from here.
    expect(await writable(c)).toEqual(['test1', 'test4']);
    expect(r.stdout).toMatch(/dead: ssh test4: no answer/);
    expect(r.stdout).toMatch(/✔ test1\s+new master, writable/);
    // Cut off (silent): it answers for no address, so the VIP moves (its host keeps it configured, unreachable).
    expect(r.stdout).toMatch(/test4 does not answer over SSH .*: it answers for no address now/);
    const [ro] = await c.query<{ ro: number }>('test1', 'SELECT @@read_only AS ro');
    expect(Number(ro?.ro)).toBe(0);
    const [s3] = await c.query<Record<string, string>>('test3', 'SHOW SLAVE STATUS');
    expect([s3?.Master_Host, s3?.Slave_IO_Running, s3?.Slave_SQL_Running]).toEqual([
      expect.stringMatching(/\.11$/),
      'Yes',
      'Yes',
    ]);
    expect(await vipHolders(c)).toContain('test1');
  });
});

// `mmmf check` (the preflight): exit 0 on a healthy cluster; on deliberately broken sandboxes, exit 3 with
// every finding: log_slave_updates off, replication user missing on a candidate, an errant transaction,
// a stopped SQL thread.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { useCluster } from '../cluster-fixture.js';
import { mmmf, replicationSnapshot } from '../../harness/cluster.js';
import { until } from '../../harness/load.js';
import { basePortOf } from '../../harness/ports.js';

describe('mmmf check', () => {
  const cluster = useCluster({ basePort: basePortOf('check'), replicas: 3 }, async (c) => {
    await c.sandbox('load', '50');
  });

  it('passes a healthy cluster with exit 0; server-default slave_net_timeout (60 s) is only a warning', async () => {
    const c = cluster();
    const r = await mmmf(['check', '--cfg', c.cfg]);
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/0 errors, 3 warnings/);
    const findings = r.stdout.split('\n').filter((l) => /^[✖!] /.test(l));
    expect(findings).toEqual(
      ['test2', 'test3', 'test4'].map((n) => expect.stringMatching(new RegExp(`^! ${n}: slave_net_timeout = 60 s`))),
    );
    for (const n of ['test2', 'test3', 'test4']) await c.query(n, 'SET GLOBAL slave_net_timeout = 10');
    const tuned = await mmmf(['check', '--cfg', c.cfg]);
    expect(tuned.stdout).toContain('no findings');
    const nagios = await mmmf(['check', '--cfg', c.cfg, '--nagios']);
    expect([nagios.exitCode, nagios.stdout]).toEqual([0, expect.stringMatching(/^MMMF OK - master test1, 3 replicas/)]);
  });

  it('names READ_ONLY ADMIN for an admin account with SUPER on MariaDB 10.11 (exit 3)', async () => {
    const c = cluster();
    await c.query('test1', "CREATE USER 'su'@'%' IDENTIFIED BY 'su-pw'");
    await c.query('test1', "GRANT SELECT, PROCESS, SUPER, RELOAD, BINLOG MONITOR, SLAVE MONITOR ON *.* TO 'su'@'%'");
    const cfg = join(c.dir, 'super.config.ts');
    writeFileSync(
      cfg,
      "import base from './mmmf.config.ts';\n" +
        'const hosts = Object.fromEntries(Object.entries(base.hosts).map(([n, h]) => [n, { host: h.host, port: h.port }]));\n' +
        "export default { ...base, defaults: { user: 'su', password: 'su-pw' }, hosts };\n",
    );
    const r = await mmmf(['check', '--cfg', cfg]);
    expect(r.exitCode, r.stdout + r.stderr).toBe(3);
    expect(r.stdout).toMatch(/✖ test1: the admin account lacks READ_ONLY ADMIN for setting read_only/);
    expect(r.stdout).toMatch(/fix: GRANT READ_ONLY ADMIN ON \*\.\* TO the admin account/);
    await c.query('test1', "DROP USER 'su'@'%'");
  });

  it('lists every finding on a broken cluster with exit 3, and changes nothing', async () => {
    const c = cluster();
    await c.sandbox('cnf', 'test3', 'log_slave_updates=OFF');
    const conn = await c.connect('test2');
    await conn.query('SET SESSION sql_log_bin = 0');
    await conn.query("DROP USER 'repl'@'%'");
    await conn.end();
    await c.query('test4', 'SET GLOBAL read_only = 0');
    await c.query('test4', "INSERT INTO sbtest.t (k, pad) VALUES (1, 'written on a replica')");
    await c.query('test4', 'SET GLOBAL read_only = 1');
    await c.query('test2', 'STOP SLAVE SQL_THREAD');
    // A second, named channel (multi-source), not even started.
    await c.query(
      'test4',
      `CHANGE MASTER 'extra' TO MASTER_HOST = '127.0.0.1', MASTER_PORT = ${c.port('test3')}, MASTER_USER = 'repl', ` +
        "MASTER_PASSWORD = 'repl-secret', MASTER_USE_GTID = slave_pos",
    );
    // test3 was restarted (its my.cnf changed): its IO thread shows master.info's position until it connects,
    // then (by GTID) the start of what it fetches, until the next event. "changes nothing" compares snapshots:
    // take the first once it is connected and every replica has received a new write on the master.
    const io = async (n: string) => (await c.query<Record<string, string>>(n, 'SHOW SLAVE STATUS'))[0];
    await until(async () => (await io('test3'))?.Slave_IO_Running === 'Yes', 30_000, 'test3 to connect again');
    await c.query('test1', "INSERT INTO sbtest.t (k, pad) VALUES (3, 'after the restart of test3')");
    const [m] = await c.query<{ File: string; Position: string }>('test1', 'SHOW MASTER STATUS');
    const received = async (n: string) => {
      const s = await io(n);
      return `${s?.Master_Log_File}:${s?.Read_Master_Log_Pos}` === `${m?.File}:${m?.Position}`;
    };
    for (const n of ['test2', 'test3', 'test4']) await until(() => received(n), 30_000, `${n} to receive the write`);
    const before = await replicationSnapshot(c, ['test2', 'test3', 'test4']);

    const r = await mmmf(['check', '--cfg', c.cfg]);
    expect(r.exitCode).toBe(3);
    expect(r.stdout).toMatch(/✖ test3: log_bin=ON, log_slave_updates=OFF/);
    expect(r.stdout).toMatch(/✖ test2: replication user 'repl' does not exist here/);
    expect(r.stdout).toMatch(/✖ test4: errant transactions 0-4-\d+/);
    expect(r.stdout).toMatch(/✖ test2: replication not running \(IO Yes, SQL No\)/);
    expect(r.stdout).toMatch(/a failover to test3 would be refused/);
    expect(r.stdout).toMatch(
      /test4: a failover to test4 would be refused: .*it replicates over 2 channels \(multi-source\)/,
    );

    const nagios = await mmmf(['check', '--cfg', c.cfg, '--nagios']);
    expect(nagios.exitCode).toBe(2);
    expect(nagios.stdout).toMatch(
      /^MMMF CRITICAL - master test1, 3 replicas: \d+ errors?, \d+ warnings?: test\d: [^\n]*$/,
    );
    const bad = join(c.dir, 'bad.config.ts');
    writeFileSync(bad, 'export default { hosts: {} };\n');
    const unknown = await mmmf(['check', '--cfg', bad, '--nagios']);
    expect([unknown.exitCode, unknown.stdout]).toEqual([
      3,
      expect.stringMatching(/^MMMF UNKNOWN - config .*replication: missing/),
    ]);

    const json = JSON.parse((await mmmf(['check', '--cfg', c.cfg, '--json'])).stdout);
    expect(json.ok).toBe(false);
    expect(json.findings.filter((f: { level: string }) => f.level === 'error').length).toBeGreaterThanOrEqual(5);

    const only = await mmmf(['check', '--cfg', c.cfg, '--failover-to', 'test4']);
    expect(only.exitCode).toBe(3);
    expect(only.stdout).toMatch(/Preflight for a failover to test4\n/);
    expect(only.stdout).not.toMatch(/a failover to test3 would be refused/);
    expect(await replicationSnapshot(c, ['test2', 'test3', 'test4'])).toEqual(before);
  });
});

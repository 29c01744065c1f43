// Writers, as unattended runs meet them: an old master restarted writable after a finished failover (a second
// master), a master back with read_only=ON (no writer), and a target that cannot catch up on a cluster whose
// replicas were writable (the command the summary names next must work).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { mmmf, replicationSnapshot, type Cluster } from '../../harness/cluster.js';
import { useCluster } from '../cluster-fixture.js';
import { basePortOf } from '../../harness/ports.js';
import { readJournals } from '../../harness/journal-view.js';
import { until } from '../../harness/load.js';

const ALL = ['test1', 'test2', 'test3', 'test4'];
const readOnly = async (c: Cluster, n: string) =>
  Number((await c.query<{ ro: number }>(n, 'SELECT @@read_only AS ro'))[0]?.ro);
/** The writable servers among those that answer (a killed one answers nothing). */
const writable = async (c: Cluster) => {
  const out: string[] = [];
  for (const n of ALL) if ((await readOnly(c, n).catch(() => 1)) === 0) out.push(n);
  return out;
};
/** A config for cron: a short confirmation window, no anti-flap (this file fails over more than once). */
const cronConfig = (c: Cluster) => {
  const path = join(c.dir, 'cron.config.ts');
  writeFileSync(
    path,
    `import base from './mmmf.config.ts';\nexport default { ...base, deadConfirmSeconds: 2, antiFlapMinutes: 0 };\n`,
  );
  return path;
};

describe('writers: exactly one writable master', () => {
  const cluster = useCluster({ basePort: basePortOf('writers'), replicas: 3 }, async (c) => {
    await c.query('test1', 'CREATE TABLE sbtest.w (id INT PRIMARY KEY, v VARCHAR(20))');
    await c.sandbox('load', '50');
  });

  it('an old master restarted writable after a failover: check CRITICAL, status red, --if-dead and a switchover refused', async () => {
    const c = cluster();
    const cfg = cronConfig(c);
    await c.sandbox('kill', 'test1');
    const f = await mmmf(['--cfg', cfg, '--failover-to', 'test2']);
    expect(f.exitCode, f.stdout + f.stderr).toBe(0);
    // It comes back as it was configured: a master (no read_only in its my.cnf), and an application writes to it.
    await c.sandbox('start', 'test1');
    await c.query('test1', "INSERT INTO sbtest.w VALUES (1, 'on the old master')");
    expect(await writable(c)).toEqual(['test1', 'test2']);
    const before = await replicationSnapshot(c, ALL);

    const check = await mmmf(['check', '--cfg', cfg]);
    expect(check.exitCode, check.stdout).toBe(3);
    expect(check.stdout).toMatch(/2 writable masters: test1 \(writable, replicates from nobody\), test2/);
    const nagios = await mmmf(['check', '--cfg', cfg, '--nagios']);
    expect([nagios.exitCode, nagios.stdout]).toEqual([
      2,
      expect.stringMatching(/^MMMF CRITICAL - .*2 writable masters/),
    ]);
    const status = await mmmf(['status', '--cfg', cfg]);
    expect(status.stdout).toMatch(/^✖ 2 writable masters/m);
    const cron = await mmmf(['--cfg', cfg, '--failover-to', 'auto', '--if-dead']);
    expect(cron.exitCode, cron.stdout + cron.stderr).toBe(3);
    expect(cron.stderr).toMatch(/does not have exactly one writable master/);
    const sw = await mmmf(['--cfg', cfg, '--switchover-to', 'test3']);
    expect(sw.exitCode, sw.stdout + sw.stderr).toBe(3);
    expect(sw.stderr).toMatch(/test1 is a second master .* mmmf rejoin test1 --cfg/);
    // Nothing changed: the same replication state, both still writable, the row still only on test1.
    expect(await replicationSnapshot(c, ALL)).toEqual(before);
    expect(await writable(c)).toEqual(['test1', 'test2']);
    expect(await c.query('test2', 'SELECT * FROM sbtest.w')).toEqual([]);
    // Put it right for the next test: the old master leaves the cluster's writers.
    await c.query('test1', 'SET GLOBAL read_only = ON');
  });

  it('a master back read-only: check CRITICAL (no writer), --if-dead exit 3 instead of "alive, nothing to do"', async () => {
    const c = cluster();
    const cfg = cronConfig(c);
    await c.query('test2', 'SET GLOBAL read_only = ON');
    const nagios = await mmmf(['check', '--cfg', cfg, '--nagios']);
    expect(nagios.exitCode, nagios.stdout).toBe(2);
    expect(nagios.stdout).toMatch(/no writable master: test2 serves 2 replicas but is read-only/);
    const cron = await mmmf(['--cfg', cfg, '--failover-to', 'auto', '--if-dead']);
    expect(cron.exitCode, cron.stdout + cron.stderr).toBe(3);
    expect(cron.stderr).toMatch(/no writable master: test2 .* read-only/);
    expect(await writable(c)).toEqual([]);
    await c.query('test2', 'SET GLOBAL read_only = OFF');
  });
});

describe('a master that comes back while the failover runs', () => {
  const cluster = useCluster({ basePort: basePortOf('writers-back'), replicas: 2 }, async (c) => {
    await c.sandbox('load', '50');
  });

  it('is fenced right before the promotion (read-only), and the failover ends with exactly one writer', async () => {
    const c = cluster();
    const cfg = cronConfig(c);
    await c.sandbox('kill', 'test1');
    // The run waits before its last look at the old master; meanwhile (once the run has begun its steps, so
    // its probe saw test1 dead however slow the machine is) the old master comes back, writable.
    const dry = await mmmf(['--cfg', cfg, '--failover-to', 'test2', '--dry-run', '--json']);
    const steps = (JSON.parse(dry.stdout) as { plan: { steps: { n: number; title: string }[] } }).plan.steps;
    const fence = steps.find((x) => x.title.startsWith('Make sure the old master is still down'))!.n;
    const run = mmmf(['--cfg', cfg, '--failover-to', 'test2'], {
      MMMF_TEST_FAULTS: `delay=12000@before-step#${fence}`,
    });
    const begun = () => Promise.resolve(!!readJournals(join(c.dir, 'state')).open?.some((x) => x.type === 'begin'));
    await until(begun, 60_000, 'the run began its steps');
    await c.sandbox('start', 'test1');
    await c.query('test1', 'SET GLOBAL read_only = OFF');
    const r = await run;
    expect(r.stdout, r.stdout + r.stderr).toMatch(/test1.*it answered again: fenced \(read-only/);
    const ro = async (n: string) => readOnly(c, n);
    expect([await ro('test1'), await ro('test2'), await ro('test3')]).toEqual([1, 0, 1]);
  });
});

describe('a target that cannot catch up, on a cluster whose replicas are writable', () => {
  const cluster = useCluster({ basePort: basePortOf('writers-read-only'), replicas: 3 }, async (c) => {
    await c.query('test1', 'CREATE TABLE sbtest.w (id INT PRIMARY KEY, v VARCHAR(20))');
    for (const n of ['test2', 'test3', 'test4']) await c.query(n, 'SET GLOBAL read_only = OFF');
  });

  it('fails before promotion, and the command its summary names next finishes the failover', async () => {
    const c = cluster();
    const cfg = cronConfig(c);
    await c.sandbox('lag', 'test4');
    await c.query('test1', "INSERT INTO sbtest.w VALUES (1, 'from the master')");
    await c.sandbox('load', '30');
    // Someone fixed data by hand on test4, unlogged: the row the master wrote meanwhile now conflicts there.
    const conn = await c.connect('test4');
    await conn.query('SET SESSION sql_log_bin = 0');
    await conn.query("INSERT INTO sbtest.w VALUES (1, 'by hand')");
    await conn.end();
    await c.sandbox('kill', 'test1');
    const first = await mmmf(['--cfg', cfg, '--failover-to', 'test4']);
    expect(first.exitCode, first.stdout + first.stderr).toBe(1);
    expect(first.stdout).toMatch(/Nothing was promoted/);
    const next = /Next: (mmmf --cfg \S+ --failover-to \S+)/.exec(first.stdout)?.[1];
    expect(next, first.stdout).toBe(`mmmf --cfg ${cfg} --failover-to test2`);
    // No writable replica is left behind by the run that stopped half-way.
    expect(await writable(c)).toEqual([]);
    const second = await mmmf(next!.split(' ').slice(1));
    expect(second.exitCode === 0 || second.exitCode === 1, second.stdout + second.stderr).toBe(true);
    expect(second.stdout).not.toMatch(/replicas disagree about their master/);
    // From the servers: test2 is the one writable master, test3 replicates from it.
    expect(await writable(c)).toEqual(['test2']);
    const [s3] = await c.query<{ Master_Port: number; Slave_IO_Running: string }>('test3', 'SHOW SLAVE STATUS');
    expect([Number(s3?.Master_Port), s3?.Slave_IO_Running]).toEqual([c.port('test2'), 'Yes']);
    const rows = await c.query<{ v: string }>('test2', 'SELECT v FROM sbtest.w WHERE id = 1');
    expect(rows).toEqual([{ v: 'from the master' }]);
  });
});

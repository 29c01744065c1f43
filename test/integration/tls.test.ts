// A cluster that requires TLS (scripts/sandbox.sh --tls: require_secure_transport=ON, channels over TLS): mmmf
// connects over TCP with TLS, keeps every channel it creates on TLS, and says what is wrong when the config
// does not match — before any change.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { mmmf, replicationSnapshot, type Cluster } from '../../harness/cluster.js';
import { ledgerEvidence } from '../../harness/ledger.js';
import { basePortOf } from '../../harness/ports.js';
import { useCluster } from '../cluster-fixture.js';
import { expectIdenticalData, expectNothingLost } from '../expect-data.js';

const variant = (c: Cluster, file: string, body: string) => {
  const path = join(c.dir, file);
  writeFileSync(path, `import base from './mmmf.config.ts';\nexport default { ...base, ${body} };\n`);
  return path;
};
const channels = async (c: Cluster, names: string[]) =>
  Promise.all(
    names.map(async (n) => {
      const [s] = await c.query<Record<string, string>>(n, 'SHOW SLAVE STATUS');
      return `${n} ${s?.Master_Port} ${s?.Slave_IO_Running} ${s?.Slave_SQL_Running} ssl=${s?.Master_SSL_Allowed}`;
    }),
  );

describe('TLS', () => {
  const cluster = useCluster({ basePort: basePortOf('tls'), replicas: 3, tls: true }, async (c) => {
    await c.sandbox('load', '100');
  });

  it('a config that does not match is refused before any change, saying what to fix', async () => {
    const c = cluster();
    const all = ['test1', 'test2', 'test3', 'test4'];
    const before = await replicationSnapshot(c, all);
    const plain = variant(c, 'plain.config.ts', "defaults: { user: 'mmmf', password: 'mmmf-secret' }");
    const status = await mmmf(['status', '--cfg', plain]);
    expect(status.stdout).toMatch(/test1 .*Access denied.*The server offers TLS.*require_secure_transport=ON/);
    const r1 = await mmmf(['--cfg', plain, '--switchover-to', 'test2']);
    expect(r1.exitCode).toBe(3);

    const wrongCa = variant(
      c,
      'wrong-ca.config.ts',
      "defaults: { user: 'mmmf', password: 'mmmf-secret', ssl: { ca: 'tls/server.pem' } }",
    );
    const check = await mmmf(['check', '--cfg', wrongCa]);
    expect(check.exitCode).toBe(3);
    expect(check.stdout).toMatch(/TLS: the server's certificate could not be verified/);

    const noChannelTls = variant(
      c,
      'plain-channels.config.ts',
      "replication: { user: 'repl', password: 'repl-secret' }",
    );
    const r2 = await mmmf(['--cfg', noChannelTls, '--switchover-to', 'test2']);
    expect([r2.exitCode, r2.stderr]).toEqual([
      3,
      expect.stringMatching(/replicate over TLS.* replication\.ssl is not configured/),
    ]);
    expect(await replicationSnapshot(c, all)).toEqual(before);
  });

  it('status, check, switchover and failover over TLS (its channels carried without replication.ssl); every channel afterwards uses TLS', async () => {
    const c = cluster();
    expect((await mmmf(['status', '--cfg', c.cfg])).stdout).toMatch(/● test1 .* master {2}writable/);
    const check = await mmmf(['check', '--cfg', c.cfg]);
    expect(check.exitCode, check.stdout).toBe(0);

    const s = await mmmf(['--cfg', c.cfg, '--switchover-to', 'test2']);
    expect(s.exitCode, s.stdout + s.stderr).toBe(0);
    expect(s.stdout).toMatch(/MASTER_SSL = 1, MASTER_SSL_CA = '[^']+ca\.pem', MASTER_SSL_VERIFY_SERVER_CERT = 1/);
    const p2 = c.port('test2');
    expect(await channels(c, ['test1', 'test3', 'test4'])).toEqual(
      ['test1', 'test3', 'test4'].map((n) => `${n} ${p2} Yes Yes ssl=Yes`), // the demoted old master too
    );

    await c.sandbox('load', '100');
    await c.sandbox('kill', 'test2');
    const ev = await ledgerEvidence(c, ['test1', 'test3', 'test4'], 'test2');
    // Without replication.ssl each channel keeps its own TLS settings (read from its status row).
    const carry = variant(c, 'carry.config.ts', "replication: { user: 'repl', password: 'repl-secret' }");
    const f = await mmmf(['--cfg', carry, '--failover-to', 'test3', '--force']);
    expect.soft(f.exitCode, f.stdout + f.stderr).toBe(0);
    await expectNothingLost(c, ['test1', 'test3', 'test4'], ev);
    const p3 = c.port('test3');
    expect(await channels(c, ['test1', 'test4'])).toEqual([
      `test1 ${p3} Yes Yes ssl=Yes`,
      `test4 ${p3} Yes Yes ssl=Yes`,
    ]);
    await expectIdenticalData(c, ['test1', 'test3', 'test4']);
  });

  it('abort and resume over TLS: a killed run is undone, another is finished, channels stay on TLS', async () => {
    const c = cluster(); // test3 is the master now (test2 is down)
    const args = ['--cfg', c.cfg, '--failover-to', 'test4', '--fence-live-master', '--force'];
    const plan = JSON.parse((await mmmf([...args, '--dry-run', '--json'])).stdout).plan;
    const promote = plan.steps.find((x: { action: { kind: string } }) => x.action.kind === 'promote').n as number;
    const killed = await mmmf(args, { MMMF_TEST_KILL_AT_STEP: String(promote) });
    expect(killed.exitCode).toBe(-1);
    const aborted = await mmmf(['--cfg', c.cfg, '--abort']);
    expect(aborted.exitCode, aborted.stdout + aborted.stderr).toBe(0);
    expect(aborted.stdout).toMatch(/Aborted: the cluster replicates from test3 again/);
    const p3 = c.port('test3');
    expect(await channels(c, ['test1', 'test4'])).toEqual([
      `test1 ${p3} Yes Yes ssl=Yes`,
      `test4 ${p3} Yes Yes ssl=Yes`,
    ]);

    const again = await mmmf(args, { MMMF_TEST_KILL_AT_STEP: String(promote + 1) });
    expect(again.exitCode).toBe(-1);
    const resumed = await mmmf(args);
    expect(resumed.exitCode, resumed.stdout + resumed.stderr).toBe(0);
    expect(resumed.stdout).toMatch(/Resuming an unfinished failover to test4/);
    expect(await channels(c, ['test1'])).toEqual([`test1 ${c.port('test4')} Yes Yes ssl=Yes`]);
  });
});

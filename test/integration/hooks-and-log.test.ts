// Hooks run in order with the plan/result on stdin and the key facts in the environment; a failing
// preFailover aborts before any change; a failing postFailover is reported and exits 1. The run log holds
// every statement and answer with secrets redacted; --debug streams it.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { useCluster } from '../cluster-fixture.js';
import { mmmf, replicationSnapshot } from '../../harness/cluster.js';
import { ledgerEvidence, type LedgerEvidence } from '../../harness/ledger.js';
import { basePortOf } from '../../harness/ports.js';
import { expectNothingLost } from '../expect-data.js';

describe('hooks and the run log', () => {
  const f = (name: string) => join(cluster().dir, name);
  const config = (hooks: Record<string, string | string[]>) => {
    const file = f('hooks.config.ts');
    writeFileSync(
      file,
      `import base from './mmmf.config.ts';
      export default { ...base, antiFlapMinutes: 0, logFile: 'run.log', hooks: ${JSON.stringify(hooks)} };\n`,
    );
    return file;
  };
  let ev: LedgerEvidence;
  const cluster = useCluster({ basePort: basePortOf('hooks-and-log'), replicas: 3 }, async (c) => {
    await c.sandbox('load', '100');
    await c.sandbox('kill', 'test1');
    ev = await ledgerEvidence(c, ['test2', 'test3', 'test4'], 'test1');
  });

  it('a failing preFailover hook aborts with exit 3 before any change', async () => {
    const c = cluster();
    const before = await replicationSnapshot(c, ['test2', 'test3', 'test4']);
    const r = await mmmf(['--cfg', config({ preFailover: 'echo "not today" >&2; exit 7' }), '--failover-to', 'test2']);
    expect(r.exitCode).toBe(3);
    expect(r.stderr).toMatch(/the preFailover hook failed: refusing, nothing was changed/);
    expect(r.stderr).toMatch(/exited 7: not today/);
    expect(await replicationSnapshot(c, ['test2', 'test3', 'test4'])).toEqual(before);
  });

  it('runs pre then post hooks with facts in env and JSON on stdin; logs every statement, redacted', async () => {
    const c = cluster();
    const hooks = {
      preFailover: `echo "pre $MMMF_OLD_MASTER $MMMF_NEW_MASTER $MMMF_NEW_MASTER_ADDRESS" >> ${f('order.txt')}; cat > ${f('pre.json')}`,
      postFailover: ['/bin/sh', '-c', `echo "post $MMMF_OUTCOME" >> ${f('order.txt')}; cat > ${f('post.json')}`],
    };
    const r = await mmmf(['--cfg', config(hooks), '--failover-to', 'test2', '--debug']);
    expect.soft(r.exitCode, r.stdout + r.stderr).toBe(0);
    await expectNothingLost(c, ['test2', 'test3', 'test4'], ev);
    expect(readFileSync(f('order.txt'), 'utf8')).toBe(`pre test1 test2 127.0.0.1:${c.port('test2')}\npost done\n`);
    expect(JSON.parse(readFileSync(f('pre.json'), 'utf8')).plan.target).toBe('test2');
    const post = JSON.parse(readFileSync(f('post.json'), 'utf8'));
    expect(post.ok).toBe(true);
    expect(post.results.every((x: { status: string }) => x.status === 'done' || x.status === 'skipped')).toBe(true);
    expect(r.stdout).toMatch(/✔ postFailover hook/);

    const log = readFileSync(f('run.log'), 'utf8');
    expect(log).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z test3 > STOP SLAVE IO_THREAD$/m);
    expect(log).toMatch(/test3 > CHANGE MASTER TO .*MASTER_PASSWORD = '<redacted>'/);
    expect(log).toMatch(/test3 < \d+ rows?: /);
    expect(log).not.toContain('repl-secret');
    expect(r.stderr).toMatch(/test2 > RESET SLAVE ALL/); // --debug streams the same lines
    expect(r.stderr).not.toContain('repl-secret');
  });

  it('a failing postFailover hook is reported and exits 1, though the failover completed', async () => {
    cluster();
    const r = await mmmf([
      '--cfg',
      config({ postFailover: 'echo "pager down" ; exit 5' }),
      '--failover-to',
      'test3',
      '--fence-live-master',
    ]);
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toMatch(/Failover to test3 done/);
    expect(r.stdout).toMatch(/✖ postFailover hook FAILED: exited 5: pager down \(the failover itself completed/);
    expect(existsSync(f('run.log'))).toBe(true);
  });
});

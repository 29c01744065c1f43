// A switchover by file that fails after a lagging target's catch-up step began, before anything was promoted:
// the run rolls back (the old master takes writes again, every replica follows it), ends its journal, runs the
// onFailure hook and exits 1. Fake servers, because a live switchover cannot be made to plan a lagging target
// on purpose: every replica of a live master has received everything by the time mmmf probes it.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { mmmf } from '../../harness/cluster.js';
import { FakeCluster, type FakeState } from './fake-server.js';
import { clusterLogs } from './log-fixtures.js';
import { VERSIONS } from './versions.js';

const mariadb = VERSIONS.find((v) => v.label === 'MariaDB 10.11')!;
let cluster: FakeCluster | undefined;
let dir: string | undefined;
afterEach(async () => {
  await cluster?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
  cluster = dir = undefined;
});

describe('switchover rollback (MariaDB 10.11 fakes)', () => {
  it('fails at the lagging target’s catch-up by file: the old master is writable again, journal ended, hook run, exit 1', async () => {
    const logs = clusterLogs('mariadb', 20, 20, true);
    cluster = new FakeCluster();
    const base = { superReadOnly: false, gtidMode: false, gtid: '0-1-20', clients: [] };
    const old = await cluster.start(mariadb, {
      ...base,
      serverId: 1,
      serverUuid: '',
      readOnly: false,
      binlog: [logs.master],
      relay: [],
    });
    const replica = (id: number, received: number, binlog: FakeState['binlog'], relay: FakeState['relay']) => ({
      ...base,
      serverId: id,
      serverUuid: '',
      readOnly: true,
      binlog,
      relay,
      replica: {
        sourceHost: '127.0.0.1',
        sourcePort: old.port,
        io: 'Yes' as const,
        sql: true,
        received: logs.masterAfter(received),
        executed: logs.masterAfter(received),
        relay: { file: 'relay.000002', position: 4 },
        autoPosition: false,
        useGtid: 'No' as const,
        retrieved: '0-1-20',
        lastIoError: '',
      },
    });
    // test2 received one transaction more than the target test3 when mmmf probes: test2 is the best replica, and
    // the target catches up from it by file.
    const best = await cluster.start(mariadb, replica(2, 20, [logs.bestBinlog], [logs.bestRelay]));
    const target = await cluster.start(mariadb, replica(3, 19, [logs.laggingBinlog], []));

    dir = mkdtempSync(join(tmpdir(), 'mmmf-wire-'));
    const cfg = join(dir, 'mmmf.config.json');
    const hookOut = join(dir, 'hook.out');
    writeFileSync(
      cfg,
      JSON.stringify({
        replication: { user: 'repl', password: 'repl-pw' },
        defaults: { user: 'admin', password: 'admin-pw' },
        stateDir: 'state',
        positioning: 'file',
        timeouts: { connect: 2, drain: 10, equalize: 10, verify: 10 },
        hooks: { onFailure: `echo "$MMMF_HOOK $MMMF_OUTCOME" > ${hookOut}` },
        hosts: Object.fromEntries(
          [old, best, target].map((s, i) => [`test${i + 1}`, { host: '127.0.0.1', port: s.port }]),
        ),
      }),
    );
    const dry = await mmmf(['--cfg', cfg, '--switchover-to', 'test3', '--dry-run', '--json']);
    const plan = JSON.parse(dry.stdout).plan as { best: string; steps: { n: number; phase: string }[] };
    expect(plan.best).toBe('test2');
    const catchUp = plan.steps.find((s) => s.phase === 'equalize-target')!.n;

    const r = await mmmf(['--cfg', cfg, '--switchover-to', 'test3'], { MMMF_TEST_FAIL_AT_STEP: String(catchUp) });
    expect(r.exitCode, r.stdout + r.stderr).toBe(1);
    expect(r.stdout).toMatch(/Rolled back before promotion: test1 is writable again/);
    expect(old.state.readOnly).toBe(false);
    for (const s of [best, target]) {
      expect([s.state.replica?.sourcePort, s.state.replica?.io, s.state.replica?.sql]).toEqual([old.port, 'Yes', true]);
    }
    // The run is over: its journal was moved aside (a re-run plans afresh instead of resuming it) ...
    const [folder] = readdirSync(join(dir, 'state', 'clusters'));
    const kept = join(dir, 'state', 'clusters', folder!);
    expect(existsSync(join(kept, 'run.jsonl'))).toBe(false);
    expect(readdirSync(join(kept, 'history'))).toEqual([expect.stringMatching(/\.jsonl$/)]);
    // ... and the onFailure hook was told.
    expect(existsSync(hookOut) && readFileSync(hookOut, 'utf8')).toBe('onFailure failed\n');
  });
});

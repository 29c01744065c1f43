// A switchover by file that fails after a lagging target's catch-up step began, before anything was promoted:
// the run rolls back (the old master takes writes again, every replica follows it), ends its journal, runs the
// onFailure hook and exits 1. Fake servers, because a live switchover cannot be made to plan a lagging target
// on purpose: every replica of a live master has received everything by the time mmmf probes it.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { mmmf } from '../../harness/cluster.js';
import type { FakeState } from './fake-server.js';
import { clusterLogs } from './log-fixtures.js';
import { VERSIONS } from './versions.js';
import { useWireRun } from './wire-run.js';

const mariadb = VERSIONS.find((v) => v.label === 'MariaDB 10.11')!;
const wire = useWireRun();

describe('switchover rollback (MariaDB 10.11 fakes)', () => {
  it('fails at the lagging target’s catch-up by file: the old master is writable again, journal ended, hook run, exit 1', async () => {
    const logs = clusterLogs('mariadb', 20, 20, true);
    const cluster = wire.fakes();
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

    const hookOut = join(wire.dir(), 'hook.out');
    const cfg = wire.config(
      { test1: old.port, test2: best.port, test3: target.port },
      { positioning: 'file', hooks: { onFailure: `echo "$MMMF_HOOK $MMMF_OUTCOME" > ${hookOut}` } },
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
    const [folder] = readdirSync(join(wire.dir(), 'state', 'clusters'));
    const kept = join(wire.dir(), 'state', 'clusters', folder!);
    expect(existsSync(join(kept, 'run.jsonl'))).toBe(false);
    expect(readdirSync(join(kept, 'history'))).toEqual([expect.stringMatching(/\.jsonl$/)]);
    // ... and the onFailure hook was told.
    expect(existsSync(hookOut) && readFileSync(hookOut, 'utf8')).toBe('onFailure failed\n');
  });
});

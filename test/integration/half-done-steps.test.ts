// A step that fails half-way — after some of its statements reached the server, before the rest — leaves a state
// no operator made: the run ends failed and names the command to run next. That command must finish the
// failover with nothing lost (issue 19, item 7). The fault point 'statement-sent' fails a step right after its
// k-th changing statement.
import { describe, expect, it } from 'vitest';
import { useCluster } from '../cluster-fixture.js';
import { type Cluster, mmmf } from '../../harness/cluster.js';
import { nextCommand as namedNext } from '../../harness/chaos-states.js';
import { ledgerEvidence } from '../../harness/ledger.js';
import { basePortOf } from '../../harness/ports.js';
import { expectIdenticalData, expectNothingLost } from '../expect-data.js';

interface PlanJson {
  plan: { steps: { n: number; host: string; title: string }[] };
}

/** The step of `host` whose title matches, from the dry run's plan. */
async function stepOf(c: Cluster, target: string, host: string, title: RegExp): Promise<number> {
  const dry = await mmmf(['--cfg', c.cfg, '--failover-to', target, '--dry-run', '--json']);
  const steps = (JSON.parse(dry.stdout) as PlanJson).plan.steps;
  const step = steps.find((s) => s.host === host && title.test(s.title));
  if (!step) throw new Error(`no step of ${host} matching ${title} in: ${steps.map((s) => `${s.host}: ${s.title}`)}`);
  return step.n;
}

/** The command the failed run's summary names, as arguments (a run that names none fails the test). */
function nextCommand(stdout: string): string[] {
  const args = namedNext(stdout);
  if (!args) throw new Error(`the run named no next command:\n${stdout}`);
  return args;
}

const SURVIVORS = ['test2', 'test3', 'test4'];

/** test3 lags 100 transactions behind test2 and test4, then the master is killed: what each survivor received. */
async function crashWithTest3Behind(c: Cluster) {
  await c.sandbox('reset');
  await c.sandbox('load', '100');
  await c.sandbox('lag', 'test3');
  await c.sandbox('load', '100');
  await c.sandbox('kill', 'test1');
  return ledgerEvidence(c, SURVIVORS, 'test1');
}

/** A failover to `target` whose step (`host`, `title`) fails right after its k-th changing statement: exit 1. */
async function failAfterFirstStatement(c: Cluster, target: string, host: string, title: RegExp, statement = 1) {
  const k = await stepOf(c, target, host, title);
  const first = await mmmf(['--cfg', c.cfg, '--failover-to', target], {
    MMMF_TEST_FAULTS: `fail@statement-sent#${k}.${statement}`,
  });
  expect(first.exitCode, first.stdout + first.stderr).toBe(1);
  expect(first.stdout).toMatch(/injected failure/);
  return first;
}

describe('a step that fails half-way', () => {
  const cluster = useCluster({ basePort: basePortOf('half-done-steps'), replicas: 3 });

  it('GTID: the relay log kept by file position on the best replica — the named next command loses nothing', async () => {
    const c = cluster();
    await c.sandbox('load', '100');
    // test2 holds the most, all of it received and not applied, with both threads stopped: mmmf keeps that relay
    // log by switching test2 to file positioning (its first statement), then starts its SQL thread.
    await c.query('test2', 'STOP SLAVE SQL_THREAD');
    await c.sandbox('load', '100');
    await c.sandbox('lag', 'test3');
    await c.sandbox('lag', 'test4');
    await c.sandbox('load', '300'); // only test2 receives these
    await c.query('test2', 'STOP SLAVE IO_THREAD');
    await c.sandbox('kill', 'test1');
    const ev = await ledgerEvidence(c, SURVIVORS, 'test1');
    expect(ev.longest.get(100)?.on).toBe('test2');

    const k = await stepOf(c, 'test4', 'test2', /Apply its relay log by file position/);
    const first = await mmmf(['--cfg', c.cfg, '--failover-to', 'test4'], {
      MMMF_TEST_FAULTS: `fail@statement-sent#${k}.1`,
    });
    expect(first.exitCode, first.stdout + first.stderr).toBe(1);
    expect(first.stdout).toMatch(/injected failure/);
    const [left] = await c.query<Record<string, string>>('test2', 'SHOW SLAVE STATUS');
    expect(left?.Using_Gtid).toBe('No'); // half-way: switched to file positioning, its SQL thread not started

    const args = nextCommand(first.stdout);
    const target = args[args.indexOf('--failover-to') + 1]!;
    const next = await mmmf(args);
    expect(next.exitCode, next.stdout + next.stderr).toBe(0);
    await expectNothingLost(c, SURVIVORS, ev);
    await expectIdenticalData(c, SURVIVORS);
    for (const n of SURVIVORS.filter((x) => x !== target)) {
      const [st] = await c.query<Record<string, string>>(n, 'SHOW SLAVE STATUS');
      expect([n, String(st?.Master_Port), st?.Slave_IO_Running, st?.Slave_SQL_Running, st?.Using_Gtid]).toEqual([
        n,
        String(c.port(target)),
        'Yes',
        'Yes',
        'Slave_Pos',
      ]);
    }
  });

  // After STOP SLAVE (1), or after CHANGE MASTER (2): test2 then names the new master already, stopped, and the
  // rejoin must not take it for a returning pair partner (chaos seed 70139 paired the new master with it).
  it.each([1, 2])(
    "GTID: a replica's repointing fails after statement %i — the named rejoin moves it, nothing lost",
    async (k) => {
      const c = cluster();
      const ev = await crashWithTest3Behind(c);

      const first = await failAfterFirstStatement(c, 'test4', 'test2', /^Replicate from test4$/, k);
      const args = nextCommand(first.stdout);
      expect(args.slice(2)).toEqual(['rejoin', 'test2']);
      const next = await mmmf(args);
      expect(next.exitCode, `${first.stdout}\n---\n${next.stdout}${next.stderr}`).toBe(0);
      await expectNothingLost(c, SURVIVORS, ev);
      await expectIdenticalData(c, SURVIVORS);
      const ro = async (n: string) => Number((await c.query<{ ro: number }>(n, 'SELECT @@read_only AS ro'))[0]?.ro);
      expect([await ro('test2'), await ro('test3'), await ro('test4')]).toEqual([1, 1, 0]);
      expect(await c.query('test4', 'SHOW SLAVE STATUS')).toEqual([]); // the master replicates from no one
      for (const n of ['test2', 'test3']) {
        const [st] = await c.query<Record<string, string>>(n, 'SHOW SLAVE STATUS');
        expect([n, String(st?.Master_Port), st?.Slave_IO_Running, st?.Slave_SQL_Running]).toEqual([
          n,
          String(c.port('test4')),
          'Yes',
          'Yes',
        ]);
      }
    },
  );

  it('GTID: the promotion fails after its first statement — the named next command fails over, nothing lost', async () => {
    const c = cluster();
    const ev = await crashWithTest3Behind(c);

    const first = await failAfterFirstStatement(c, 'test4', 'test4', /^Promote to master$/);
    // The lagging test3 was caught up from the replica that received the most, and stopped there at its UNTIL.
    const [caught] = await c.query<Record<string, string>>('test3', 'SHOW SLAVE STATUS');
    expect([caught?.Slave_IO_Running, caught?.Slave_SQL_Running, caught?.Until_Condition]).toEqual([
      'No',
      'No',
      'Gtid',
    ]);
    const args = nextCommand(first.stdout);
    const target = args[args.indexOf('--failover-to') + 1]!;
    const next = await mmmf(args);
    expect(next.exitCode, `${first.stdout}\n---\n${next.stdout}${next.stderr}`).toBe(0);
    await expectNothingLost(c, SURVIVORS, ev);
    await expectIdenticalData(c, SURVIVORS);
    const ro = async (n: string) => Number((await c.query<{ ro: number }>(n, 'SELECT @@read_only AS ro'))[0]?.ro);
    for (const n of SURVIVORS) expect([n, await ro(n)]).toEqual([n, n === target ? 0 : 1]);
    for (const n of SURVIVORS.filter((x) => x !== target)) {
      const [st] = await c.query<Record<string, string>>(n, 'SHOW SLAVE STATUS');
      expect([n, String(st?.Master_Port), st?.Slave_IO_Running, st?.Slave_SQL_Running]).toEqual([
        n,
        String(c.port(target)),
        'Yes',
        'Yes',
      ]);
    }
  });
});

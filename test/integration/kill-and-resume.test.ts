// kill -9 of mmmf at every step boundary of a failover, and once in the middle of a long equalization, then
// the same command again: the journal makes the second run finish exactly the printed plan, and the cluster
// converges with nothing lost — by GTID and by file and position (where re-running a step from the recorded
// position would apply transactions twice). By file, also killed inside the promotion once writes were open,
// and --abort refused once the target was equalized from the best replica. Where each killed run died is read
// back from its journal in the state folder; nothing lost is judged by the ledger (every sandbox load
// transaction adds the next row of writer 100), against what the replicas had received before the first run.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { CLI, dataFingerprint, mmmf, replicationSnapshot, startCluster, type Cluster } from '../../harness/cluster.js';
import { allRunsEnded, killedBeforeStep, readJournals } from '../../harness/journal-view.js';
import { ledgerEvidence, type LedgerEvidence } from '../../harness/ledger.js';
import { gtidSeq, until } from '../../harness/load.js';
import { basePortOf } from '../../harness/ports.js';
import { expectNothingLost } from '../expect-data.js';

interface Crashed {
  c: Cluster;
  masterSeq: number;
  /** What test2 and test3 held or had received when the master died. */
  ev: LedgerEvidence;
}

/** Master killed; the target test3 lags `backlog` transactions, test2 holds the last 50 only in its relay log. */
async function crashedCluster(positioning: 'gtid' | 'file', backlog = 400): Promise<Crashed> {
  const c = await startCluster({
    basePort: basePortOf(positioning === 'gtid' ? 'kill-and-resume-gtid' : 'kill-and-resume-file'),
    replicas: 2,
    positioning,
  });
  try {
    await c.sandbox('load', '100');
    await c.sandbox('lag', 'test3');
    await c.sandbox('load', String(backlog));
    await c.query('test2', 'STOP SLAVE SQL_THREAD');
    await c.sandbox('load', '50');
    const [m] = await c.query<{ File: string; Position: string }>('test1', 'SHOW MASTER STATUS');
    await until(
      async () => {
        const [s] = await c.query<Record<string, string>>('test2', 'SHOW SLAVE STATUS');
        return s!.Master_Log_File === m!.File && Number(s!.Read_Master_Log_Pos) === Number(m!.Position);
      },
      30_000,
      'test2 to receive everything',
    );
    const masterSeq = await gtidSeq(c, 'test1');
    await c.sandbox('kill', 'test1');
    return { c, masterSeq, ev: await ledgerEvidence(c, ['test2', 'test3'], 'test1') };
  } catch (err) {
    await c.down();
    throw err;
  }
}

const readOnly = async (c: Cluster, n: string) =>
  Number((await c.query<{ ro: number }>(n, 'SELECT @@read_only AS ro'))[0]?.ro);
const journals = (c: Cluster) => readJournals(join(c.dir, 'state'));

/** On the servers: nothing lost, identical data, test3 the one writable master, test2 replicating from it. */
async function expectConverged(x: Crashed, label: string) {
  const { c, masterSeq, ev } = x;
  await expectNothingLost(c, ['test2', 'test3'], ev);
  expect(await dataFingerprint(c, 'test2'), label).toBe(await dataFingerprint(c, 'test3'));
  expect(await gtidSeq(c, 'test3'), label).toBe(masterSeq);
  expect([await readOnly(c, 'test2'), await readOnly(c, 'test3')], label).toEqual([1, 0]);
  const [r2] = await c.query<Record<string, string>>('test2', 'SHOW SLAVE STATUS');
  expect([String(r2?.Master_Port), r2?.Slave_IO_Running, r2?.Slave_SQL_Running, r2?.Last_Error], label).toEqual([
    String(c.port('test3')),
    'Yes',
    'Yes',
    '',
  ]);
  expect(allRunsEnded(journals(c)), label).toEqual([]);
}

describe.each(['gtid', 'file'] as const)('kill -9 mid-failover, then resume (%s positioning)', (positioning) => {
  it('converges with nothing lost whichever step the first run died before', async () => {
    let steps = 0;
    {
      const { c } = await crashedCluster(positioning);
      try {
        steps = JSON.parse((await mmmf(['--cfg', c.cfg, '--failover-to', 'test3', '--dry-run', '--json'])).stdout).plan
          .steps.length;
      } finally {
        await c.down();
      }
    }
    expect(steps).toBeGreaterThan(8);
    for (let k = 1; k <= steps; k++) {
      const crashed = await crashedCluster(positioning);
      const { c } = crashed;
      try {
        const first = await mmmf(['--cfg', c.cfg, '--failover-to', 'test3'], { MMMF_TEST_KILL_AT_STEP: String(k) });
        expect([first.exitCode, first.signal], `k=${k}: ${first.stdout}${first.stderr}`).toEqual([-1, 'SIGKILL']);
        expect(killedBeforeStep(journals(c), k), `k=${k}`).toEqual([]); // it died right before step k

        if (k === Math.ceil(steps / 2) && positioning === 'gtid') {
          const other = await mmmf(['--cfg', c.cfg, '--failover-to', 'test2']);
          expect(other.exitCode).toBe(3);
          expect(other.stderr).toMatch(
            /found an unfinished failover to test3 .*refusing to start another one to test2/,
          );
          const dry = await mmmf(['--cfg', c.cfg, '--failover-to', 'test3', '--dry-run']);
          expect(dry.stdout).toMatch(/Found an unfinished failover to test3/);
        }

        const again = await mmmf(['--cfg', c.cfg, '--failover-to', 'test3']);
        expect.soft(again.exitCode, `k=${k}: ${again.stdout}${again.stderr}`).toBe(0);
        expect(again.stdout).toMatch(/Resuming an unfinished failover to test3/);
        await expectConverged(crashed, `k=${k}`);
        const done = await mmmf(['--cfg', c.cfg, '--failover-to', 'test3', '--force']);
        expect(done.stdout, `k=${k}`).toMatch(/already is the master/); // the journal is closed
      } finally {
        await c.down();
      }
    }
  }, 900_000);

  it("converges when killed in the middle of the target's equalization", async () => {
    const crashed = await crashedCluster(positioning, 8000);
    const { c, masterSeq } = crashed;
    try {
      const plan = JSON.parse(
        (await mmmf(['--cfg', c.cfg, '--failover-to', 'test3', '--dry-run', '--json'])).stdout,
      ).plan;
      const eq = plan.steps.find(
        (s: { phase: string; host: string }) => s.phase === 'equalize-target' && s.host === 'test3',
      ).n as number;
      const run = execa('node', [CLI, '--cfg', c.cfg, '--failover-to', 'test3'], {
        reject: false,
        env: { NO_COLOR: '1' },
      });
      // The run in progress keeps its journal in the state folder's cluster folder (run.jsonl).
      const clusters = join(c.dir, 'state', 'clusters');
      const begin = new RegExp(`"type":"begin","at":"[^"]+","n":${eq}}`);
      const began = () =>
        existsSync(clusters) &&
        readdirSync(clusters).some((f) => {
          const run = join(clusters, f, 'run.jsonl');
          return existsSync(run) && begin.test(readFileSync(run, 'utf8'));
        });
      const lagging = await gtidSeq(c, 'test3', 'gtid_slave_pos');
      await until(
        async () => began() && (await gtidSeq(c, 'test3', 'gtid_slave_pos')) > lagging,
        60_000,
        `step ${eq} to be under way`,
      );
      run.kill('SIGKILL');
      // The server itself goes on replicating up to the UNTIL position; stopping it here keeps it half-way, so
      // the resumed run must continue from where it stands (by file, going back to the mapped position would
      // apply transactions twice).
      await c.query('test3', 'STOP SLAVE');
      const atKill = await gtidSeq(c, 'test3', 'gtid_slave_pos');
      await run;
      expect(atKill).toBeLessThan(masterSeq);
      const again = await mmmf(['--cfg', c.cfg, '--failover-to', 'test3']);
      expect.soft(again.exitCode, again.stdout + again.stderr).toBe(0);
      expect(again.stdout).toMatch(/Resuming an unfinished failover to test3/);
      if (positioning === 'file')
        expect(again.stdout).toMatch(
          /Catch up from test2 — replicated test2 \S+\.\.\S+ \(continuing an interrupted run\)/,
        );
      await expectConverged(crashed, 'killed mid-equalization');
    } finally {
      await c.down();
    }
  }, 300_000);
});

// By file only: a GTID replica asks for what it misses, a file one starts where it is told to.
describe('kill -9 before or inside the promotion (file positioning)', () => {
  it('keeps the recorded position when killed inside the promotion, after writes opened', async () => {
    const crashed = await crashedCluster('file');
    const { c } = crashed;
    try {
      const plan = JSON.parse(
        (await mmmf(['--cfg', c.cfg, '--failover-to', 'test3', '--dry-run', '--json'])).stdout,
      ).plan;
      const promote = plan.steps.find((s: { action: { kind: string } }) => s.action.kind === 'promote').n as number;
      const first = await mmmf(['--cfg', c.cfg, '--failover-to', 'test3'], {
        MMMF_TEST_KILL_AFTER_CHECKPOINT: String(promote),
      });
      expect([first.exitCode, first.signal], first.stdout + first.stderr).toEqual([-1, 'SIGKILL']);
      // The journal: the promotion began and recorded its checkpoint, and never finished.
      const open = journals(c).open ?? [];
      expect(open.filter((r) => 'n' in r && r.n === promote).map((r) => r.type)).toEqual(['begin', 'checkpoint']);
      expect(open.some((r) => r.type === 'result' && r.result.n === promote)).toBe(false);
      // What the killed run was about to do, and what a proxy that sends writes to whichever server is writable
      // (ProxySQL watching read_only) then does: an application write lands on test3 before the run is resumed.
      await c.query('test3', 'SET GLOBAL read_only = OFF');
      await c.query(
        'test3',
        "INSERT INTO sbtest.t (k, pad) VALUES (424242, 'written between the kill and the resume')",
      );
      const again = await mmmf(['--cfg', c.cfg, '--failover-to', 'test3']);
      expect.soft(again.exitCode, again.stdout + again.stderr).toBe(0);
      expect(again.stdout).toMatch(
        /Promote to master — writable; binlog at \S+ recorded before the interrupted run opened writes/,
      );
      await expectNothingLost(c, ['test2', 'test3'], crashed.ev);
      expect(allRunsEnded(journals(c))).toEqual([]);
      await until(
        async () => (await c.query('test2', 'SELECT 1 FROM sbtest.t WHERE k = 424242')).length === 1,
        20_000,
        'the write on test2',
      );
      expect(await dataFingerprint(c, 'test2')).toBe(await dataFingerprint(c, 'test3'));
      const [r2] = await c.query<Record<string, string>>('test2', 'SHOW SLAVE STATUS');
      expect([String(r2?.Master_Port), r2?.Slave_IO_Running, r2?.Slave_SQL_Running, r2?.Last_Error]).toEqual([
        String(c.port('test3')),
        'Yes',
        'Yes',
        '',
      ]);
    } finally {
      await c.down();
    }
  }, 300_000);

  it('refuses --abort once the target was equalized by file (exit 3, nothing changed), and the same command finishes', async () => {
    const crashed = await crashedCluster('file');
    const { c } = crashed;
    try {
      const plan = JSON.parse(
        (await mmmf(['--cfg', c.cfg, '--failover-to', 'test3', '--dry-run', '--json'])).stdout,
      ).plan;
      const promote = plan.steps.find((s: { action: { kind: string } }) => s.action.kind === 'promote').n as number;
      const first = await mmmf(['--cfg', c.cfg, '--failover-to', 'test3'], { MMMF_TEST_KILL_AT_STEP: String(promote) });
      expect([first.exitCode, first.signal], first.stdout + first.stderr).toEqual([-1, 'SIGKILL']);
      expect(killedBeforeStep(journals(c), promote)).toEqual([]);
      const snap = await replicationSnapshot(c, ['test2', 'test3']);
      const journal = journals(c);
      const abort = await mmmf(['--cfg', c.cfg, '--abort']);
      expect(abort.exitCode, abort.stdout + abort.stderr).toBe(3);
      expect(abort.stderr).toMatch(/already moved test3 to test2 by file and position/);
      expect(abort.stderr).toMatch(/finish it instead: mmmf --cfg .* --failover-to test3/);
      expect(await replicationSnapshot(c, ['test2', 'test3'])).toEqual(snap);
      expect(journals(c)).toEqual(journal); // the refused abort left the unfinished run as it was
      const again = await mmmf(['--cfg', c.cfg, '--failover-to', 'test3']);
      expect.soft(again.exitCode, again.stdout + again.stderr).toBe(0);
      await expectConverged(crashed, 'finished after a refused abort');
    } finally {
      await c.down();
    }
  }, 300_000);
});

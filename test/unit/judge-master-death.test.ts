// --if-dead decides from several signals over a window; each row is a situation a cron-driven run meets.
import { describe, expect, it } from 'vitest';
import { type DeathSample, judgeMasterDeath, type ReplicaView } from '../../src/algorithm/judge-master-death.js';
import { readHostCheck } from '../../src/safety/confirm-master-dead.js';

const down = { answered: false, healthy: false, detail: 'ECONNREFUSED' };
const up = { answered: true, healthy: true, detail: 'logged in and answered SELECT 1' };
const busy = { answered: true, healthy: false, detail: 'ER_CON_COUNT_ERROR: Too many connections' };
const r = (name: string, io: string, received = 'bin.1:100', ioError = ''): ReplicaView => ({
  name,
  read: true,
  io,
  ioError,
  received,
});
const lost = (name: string, received = 'bin.1:100') => r(name, 'Connecting', received, 'error reconnecting to master');
/** Samples one second apart, 0..n-1 s. */
const every = (...samples: Omit<DeathSample, 'at'>[]): DeathSample[] => samples.map((s, i) => ({ at: i * 1000, ...s }));
const same = (n: number, s: Omit<DeathSample, 'at'>) => every(...Array.from({ length: n }, () => s));

describe('judgeMasterDeath', () => {
  const cases: {
    name: string;
    samples: DeathSample[];
    window: number;
    kind: string;
    says?: RegExp;
    /** The master's replicas in the config (default: those in the samples). */
    voters?: number;
  }[] = [
    {
      name: 'a healthy master: alive at once',
      samples: every({ master: up, replicas: [r('test2', 'Yes'), r('test3', 'Yes')] }),
      window: 10_000,
      kind: 'alive',
    },
    {
      name: 'killed: every signal agrees for the whole window',
      samples: same(11, { master: down, replicas: [lost('test2'), lost('test3')] }),
      window: 10_000,
      kind: 'dead',
      says: /did not answer on 11 of 11 attempts over 10\.0 s/,
    },
    {
      name: 'agreeing, but not yet for the whole window',
      samples: same(5, { master: down, replicas: [lost('test2')] }),
      window: 10_000,
      kind: 'undecided',
      says: /only for 4\.0 s of the 10\.0 s window/,
    },
    {
      name: 'hung (SIGSTOP) or cut from mmmf only: replicas still connected',
      samples: same(11, { master: down, replicas: [r('test2', 'Yes'), lost('test3')] }),
      window: 10_000,
      kind: 'undecided',
      says: /test2: its IO thread is still connected/,
    },
    {
      name: 'a replica still receiving (its IO thread reconnects between samples)',
      samples: every(
        ...Array.from({ length: 11 }, (_, i) => ({
          master: down,
          replicas: [lost('test2', `bin.1:${100 + (i > 8 ? 50 : 0)}`)],
        })),
      ),
      window: 10_000,
      kind: 'undecided',
      says: /test2: still receiving/,
    },
    {
      name: 'the replicas noticed late: the window counts from when every signal agrees',
      samples: every(
        { master: down, replicas: [r('test2', 'Yes')] },
        { master: down, replicas: [r('test2', 'Yes')] },
        ...Array.from({ length: 4 }, () => ({ master: down, replicas: [lost('test2')] })),
      ),
      window: 3000,
      kind: 'dead',
    },
    {
      name: 'only replicas an operator stopped: no replica confirms, mmmf alone cannot tell',
      samples: same(11, { master: down, replicas: [r('test2', 'No'), r('test3', 'No')] }),
      window: 10_000,
      kind: 'undecided',
      says: /only 0 of test1's 2 replicas report a failing connection/,
    },
    {
      name: 'a stopped replica abstains while a majority confirms',
      samples: same(11, { master: down, replicas: [r('test2', 'No'), lost('test3'), lost('test4')] }),
      window: 10_000,
      kind: 'dead',
      says: /test2: replication stopped by someone: no opinion/,
    },
    {
      name: 'a stopped replica is no vote: one of two is no majority',
      samples: same(11, { master: down, replicas: [r('test2', 'No'), lost('test3')] }),
      window: 10_000,
      kind: 'undecided',
      says: /only 1 of test1's 2 replicas/,
    },
    {
      name: 'a split: mmmf reads one replica that lost the master, the other two are out of reach',
      samples: same(11, { master: down, replicas: [lost('test2')] }),
      voters: 3,
      window: 10_000,
      kind: 'undecided',
      says: /only 1 of test1's 3 replicas .* a majority \(2\)/,
    },
    {
      name: 'a majority of the configured replicas lost it, one more is out of reach',
      samples: same(11, { master: down, replicas: [lost('test2'), lost('test3')] }),
      voters: 3,
      window: 10_000,
      kind: 'dead',
      says: /quorum: 2 of test1's 3 replicas lost it/,
    },
    {
      name: 'an IO error left long ago (never seen running in this run) is no vote',
      samples: same(11, { master: down, replicas: [r('test2', 'No', 'bin.1:100', 'error reading packet')] }),
      window: 10_000,
      kind: 'undecided',
      says: /only 0 of test1's 1 replicas/,
    },
    {
      name: 'an IO thread that stopped with an error during the run counts',
      samples: every(
        { master: down, replicas: [lost('test2')] },
        ...Array.from({ length: 4 }, () => ({
          master: down,
          replicas: [r('test2', 'No', 'bin.1:100', 'Fatal error: ... reconnect')],
        })),
      ),
      window: 3000,
      kind: 'dead',
    },
    {
      name: 'no replica at all',
      samples: same(11, { master: down, replicas: [] }),
      window: 10_000,
      kind: 'undecided',
      says: /no replica in the config/,
    },
    {
      name: 'answered once (a blip): alive',
      samples: every(
        ...Array.from({ length: 11 }, (_, i) => ({ master: i === 5 ? up : down, replicas: [r('test2', 'Yes')] })),
      ),
      window: 10_000,
      kind: 'alive',
    },
    {
      name: 'too many connections while replicas are connected: alive',
      samples: every({ master: busy, replicas: [r('test2', 'Yes')] }),
      window: 10_000,
      kind: 'alive',
    },
    {
      name: 'too many connections while every replica lost it: the signals disagree',
      samples: every({ master: busy, replicas: [lost('test2')] }),
      window: 10_000,
      kind: 'undecided',
      says: /answered \(ER_CON_COUNT_ERROR/,
    },
    {
      name: 'SSH: the host answers and mysqld runs (hung disk): not dead',
      samples: same(11, {
        master: down,
        replicas: [lost('test2')],
        ssh: { answered: true, mysqld: 'running', detail: 'mariadbd pid 7 state D listens on port 3306' },
      }),
      window: 10_000,
      kind: 'undecided',
      says: /ssh test1: the host answers and mariadbd pid 7 state D/,
    },
    {
      name: 'SSH: the server is stopped (SIGSTOP), not gone: not dead',
      samples: same(11, {
        master: down,
        replicas: [lost('test2')],
        ssh: { answered: true, mysqld: 'stopped', detail: 'its server is stopped, not gone' },
      }),
      window: 10_000,
      kind: 'undecided',
      says: /ssh test1: the host answers and its server is stopped/,
    },
    {
      name: 'SSH: the host does not answer',
      samples: same(11, {
        master: down,
        replicas: [lost('test2')],
        ssh: { answered: false, mysqld: 'unknown', detail: 'Connection timed out' },
      }),
      window: 10_000,
      kind: 'dead',
    },
    {
      name: 'SSH: the host is up, mysqld is gone',
      samples: same(11, {
        master: down,
        replicas: [lost('test2')],
        ssh: { answered: true, mysqld: 'none', detail: 'nothing listens on port 3306' },
      }),
      window: 10_000,
      kind: 'dead',
    },
    {
      name: 'a zero window: one agreeing sample is enough',
      samples: same(1, { master: down, replicas: [lost('test2')] }),
      window: 0,
      kind: 'dead',
    },
  ];
  it.each(cases)('$name → $kind', ({ samples, window, kind, says, voters }) => {
    const v = judgeMasterDeath(samples, 'test1', window, voters ?? samples[0]?.replicas.length ?? 0);
    expect(v.kind, v.evidence.join('\n')).toBe(kind);
    if (says) expect(v.evidence.join('\n')).toMatch(says);
  });

  it('a healthy master reports whom it serves', () => {
    const v = judgeMasterDeath(
      every({ master: up, replicas: [r('test2', 'Yes'), r('test3', 'Connecting'), r('test4', 'Yes')] }),
      'test1',
      10_000,
      3,
    );
    expect(v).toMatchObject({ kind: 'alive', healthy: true, connected: ['test2', 'test4'] });
  });
});

describe('readHostCheck (the SSH check of the master host)', () => {
  const p = (stat: string, cwd: string, ports: string) => `process 712 ${stat} mariadbd cwd=${cwd} ports=${ports}\n`;
  it.each([
    ['listening 1\n' + p('Ssl', '/var/lib/mysql', '3306,'), undefined, 'running', /mariadbd pid 712 state Ssl/],
    ['listening 1\n' + p('Tl', '/var/lib/mysql', '3306,'), undefined, 'stopped', /stopped, not gone/],
    // InnoDB recovery: not listening yet, in its datadir: alive.
    ['listening 0\n' + p('Dsl', '/var/lib/mysql', 'none'), '/var/lib/mysql', 'running', /not listening/],
    // Not listening, datadir unknown: may be the master starting: alive.
    ['listening 0\n' + p('Ssl', 'unknown', 'none'), undefined, 'running', /not listening/],
    // Another instance on the same host (other port, other datadir): not the master's.
    ['listening 0\n' + p('Ssl', '/srv/other', '3307,'), '/var/lib/mysql', 'none', /no server process/],
    ['listening 0\n' + p('Ssl', '/srv/other', 'none'), '/var/lib/mysql', 'none', /nothing listens on port 3306/],
    ['listening 0\n', undefined, 'none', /nothing listens on port 3306/],
    ['listening 1\n', undefined, 'running', /not visible to the SSH user/],
    ['listening unknown\n', undefined, 'none', /no server process/],
  ])('%j (datadir %s) → %s', (out, datadir, mysqld, detail) => {
    const v = readHostCheck(out, 3306, datadir);
    expect(v.mysqld).toBe(mysqld);
    expect(v.detail).toMatch(detail);
  });
});

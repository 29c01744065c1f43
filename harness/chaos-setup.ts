// What a chaos iteration sets up on its fresh sandbox before and during the load: the replica states real
// clusters are in (delay, parallel appliers, purged relay logs, drift, a pair switched over and back) and each
// replica's lag, fired when the master has committed a given number of transactions.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Cluster } from './cluster.js';
import type { ChaosScenario, LagPlan } from './chaos-scenario.js';
import { EVENTS_DDL, LEDGER_DDL, gtidSeq, until } from './load.js';

export type Status = Record<string, string>;
export const slaveStatus = async (c: Cluster, n: string): Promise<Status> =>
  (await c.query<Status>(n, 'SHOW SLAVE STATUS'))[0] ?? {};
export const readOnly = async (c: Cluster, n: string) =>
  Number((await c.query<{ ro: number }>(n, 'SELECT @@read_only AS ro'))[0]?.ro);

/** The sandbox config with test1 named otherwise (at 'localhost' it is reachable; at 127.0.0.2 it is not). */
export function aliasConfig(c: Cluster, test1: string, file: string): string {
  const path = join(c.dir, file);
  writeFileSync(
    path,
    `import base from './mmmf.config.ts';\nexport default { ...base, hosts: { ...base.hosts, test1: ${test1} } };\n`,
  );
  return path;
}

/** Replica states real clusters are in, set up before the load: delay, parallel appliers, purged relay logs. */
export async function prepare(c: Cluster, s: ChaosScenario): Promise<void> {
  await c.query('test1', EVENTS_DDL);
  await c.query('test1', LEDGER_DDL);
  await c.query('test1', 'CREATE TABLE IF NOT EXISTS sbtest.drift (id INT PRIMARY KEY) ENGINE=InnoDB');
  // Every replica holds the tables before any is reconfigured (a replica delayed from here on would not).
  const ddlDone = await gtidSeq(c, 'test1');
  for (const l of s.lag) {
    await until(
      async () => (await gtidSeq(c, l.name, 'gtid_slave_pos')) >= ddlDone,
      30_000,
      `${l.name} to hold the tables`,
    );
  }
  if (s.pair) {
    // A planned switchover to the passive and back, under writes: the pair stays circular each time.
    for (const to of ['test2', 'test1']) {
      await c.sandbox('load', '50');
      const r = await c.cli(['--cfg', c.cfg, '--switchover-to', to]);
      if (r.exitCode !== 0) {
        throw new Error(`pair switchover to ${to}: exit ${r.exitCode}: ${r.stderr || r.stdout.slice(-1500)}`);
      }
    }
  }
  const reconfigure = async (n: string, sql: string[]) => {
    await c.query(n, 'STOP SLAVE');
    for (const q of sql) await c.query(n, q);
    await c.query(n, 'START SLAVE');
  };
  for (const n of s.parallel) {
    await reconfigure(n, ['SET GLOBAL slave_parallel_threads = 4', "SET GLOBAL slave_parallel_mode = 'optimistic'"]);
  }
  if (s.delayed) await reconfigure(s.delayed.name, ['CHANGE MASTER TO MASTER_DELAY = 3600']);
  if (s.purge) await reconfigure(s.purge, ['SET GLOBAL relay_log_purge = ON', 'SET GLOBAL max_relay_log_size = 4096']);
  if (s.drift) {
    await until(
      async () => (await c.query(s.drift!, 'SHOW TABLES IN sbtest LIKE "drift"')).length === 1,
      30_000,
      'drift table',
    );
    const conn = await c.connect(s.drift);
    await conn.query('SET SESSION sql_log_bin = 0'); // invisible to GTIDs: only the collision will tell
    await conn.query('INSERT INTO sbtest.drift VALUES (1)');
    await conn.end();
  }
}

/** Fires each lag action when the master has committed that many transactions (counted from `base`). */
export async function lagActions(c: Cluster, lag: LagPlan[], base: number, rotateAt?: number): Promise<void> {
  const actions: { at: number; n: string; run: () => Promise<unknown> }[] = [];
  const sql = (n: string, q: string) => () => c.query(n, q);
  for (const l of lag) {
    if (l.mode === 'io-stop') actions.push({ at: l.at, n: l.name, run: sql(l.name, 'STOP SLAVE IO_THREAD') });
    if (l.mode === 'sql-pause') actions.push({ at: l.at, n: l.name, run: sql(l.name, 'STOP SLAVE SQL_THREAD') });
    if (l.mode === 'both-stop') {
      actions.push({ at: l.at, n: l.name, run: sql(l.name, 'STOP SLAVE SQL_THREAD') });
      actions.push({ at: l.ioAt!, n: l.name, run: sql(l.name, 'STOP SLAVE IO_THREAD') });
    }
    if (l.mode === 'backup') actions.push({ at: l.at, n: l.name, run: () => stopAsBackup(c, l.name) });
  }
  if (rotateAt) actions.push({ at: rotateAt, n: 'test1', run: sql('test1', 'FLUSH BINARY LOGS') });
  for (const a of actions.sort((x, y) => x.at - y.at)) {
    await until(async () => (await gtidSeq(c, 'test1')) - base >= a.at, 120_000, `master transaction ${a.at}`);
    await a.run();
  }
}

/**
 * A backup job's replica: stops receiving, applies everything it received, then stops (both threads). Its
 * IO thread may stop inside a transaction, so "applied" is the SQL thread idling at the end of its relay log
 * with nothing moving, not Exec = Read.
 */
async function stopAsBackup(c: Cluster, n: string): Promise<void> {
  await c.query(n, 'STOP SLAVE IO_THREAD');
  let last = '';
  await until(
    async () => {
      const s = await slaveStatus(c, n);
      const at = `${s.Relay_Log_File}:${s.Relay_Log_Pos}`;
      const idle = /read all relay log/i.test(s.Slave_SQL_Running_State ?? '') && at === last;
      last = at;
      if (!idle) await new Promise((r) => setTimeout(r, 300));
      return idle;
    },
    60_000,
    `${n} to apply its relay log`,
  );
  await c.query(n, 'STOP SLAVE');
}

// The outcome every failover test ends on: the survivors hold identical data.
import { expect } from 'vitest';
import { dataFingerprint, type Cluster } from '../harness/cluster.js';
import { describeEvidence, type LedgerEvidence, ledgerViolations } from '../harness/ledger.js';
import { LEDGER_KEYS } from '../harness/load.js';

/** Every named server holds the same data (checksum and row count of every table); a failure lists each one's. */
export async function expectIdenticalData(c: Cluster, names: string[]): Promise<void> {
  const prints = await Promise.all(names.map((n) => dataFingerprint(c, n)));
  expect(new Set(prints).size, names.map((n, i) => `${n}: ${prints[i]}`).join('\n')).toBe(1);
}

/**
 * Once every other server holds `master`'s binlog (MASTER_GTID_WAIT), every acknowledged ledger key is on
 * every server: a planned move (switchover) loses no acknowledged write.
 */
export async function expectAckedEverywhere(c: Cluster, master: string, acked: Set<string>): Promise<void> {
  const [m] = await c.query<{ g: string }>(master, 'SELECT @@gtid_binlog_pos AS g');
  for (const n of c.names.filter((x) => x !== master)) await c.query(n, `SELECT MASTER_GTID_WAIT('${m!.g}', 30)`);
  for (const n of c.names) {
    const keys = new Set((await c.query<{ k: string }>(n, LEDGER_KEYS)).map((x) => x.k));
    expect(
      [...acked].filter((k) => !keys.has(k)),
      `acknowledged writes missing on ${n}`,
    ).toEqual([]);
  }
}

/**
 * Nothing lost, by content: on every survivor each writer's ledger is exactly 1..N, gap-free, with N at least
 * what any replica had received whole before the failover (`evidence`, read from the servers' tables and logs
 * after the crash), and no longer than its writer ever sent. The evidence must hold ledger rows at all, or the
 * assertion could not fail.
 */
export async function expectNothingLost(
  c: Cluster,
  survivors: string[],
  evidence: LedgerEvidence,
  attempted?: Map<number, number>,
): Promise<void> {
  expect(evidence.longest.size, describeEvidence(evidence)).toBeGreaterThan(0);
  expect(await ledgerViolations(c, survivors, evidence, attempted), describeEvidence(evidence)).toEqual([]);
}

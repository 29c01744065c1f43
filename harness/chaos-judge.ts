// How a chaos iteration judges mmmf: from the servers alone. What must survive is read from the servers after
// the crash (ledger evidence); whether a refusal was right is decided by the harness's own reading (a delayed
// replica that really received the most, a master that really is alive); the promises are checked on the
// servers afterwards. mmmf's output only ever explains a violation, never excuses one.
import { dataFingerprint, type Cluster } from './cluster.js';
import { aliasConfig, readOnly, slaveStatus } from './chaos-setup.js';
import type { ChaosScenario } from './chaos-scenario.js';
import { describeEvidence, type LedgerEvidence, ledgerViolations, MARKER_WRITER } from './ledger.js';
import { until } from './load.js';

/** What a run could change on a server: equal before and after means a refusal changed nothing. */
export async function controlSnapshot(c: Cluster, names: string[]): Promise<string> {
  const out: string[] = [];
  for (const n of names) {
    const st = await slaveStatus(c, n);
    // An IO thread that stopped on an error of its own (a master back from a crash that cut a row event in half:
    // error 1595, seed 70380) was not stopped by anyone: only a clean stop counts as 'No'.
    const stopped = st.Slave_IO_Running === 'No' && !Number(st.Last_IO_Errno);
    const io = st.Slave_IO_Running === undefined ? '-' : stopped ? 'No' : 'Yes/Connecting/failed';
    out.push(
      `${n}: ro=${await readOnly(c, n)} source=${st.Master_Host ?? '-'}:${st.Master_Port ?? '-'} io=${io} ` +
        `sql=${st.Slave_SQL_Running ?? '-'} gtid=${st.Using_Gtid ?? '-'} delay=${st.SQL_Delay ?? '-'}`,
    );
  }
  return out.join('; ');
}

/** Old-master coordinates a replica's IO thread had read, comparable across binlog files. */
const readAt = (e: LedgerEvidence['replicas'][string] | undefined) => {
  const m = /\.(\d+):(\d+)$/.exec(e?.read ?? '');
  return m ? Number(m[1]) * 1e12 + Number(m[2]) : -1;
};

/**
 * Whether the delayed replica had received more of the dead master's binlog than every other replica that
 * takes part: then, and only then, a failover without --lift-delay must be refused (what only it received
 * would be lost). Returns why, or undefined.
 */
export function delayedHoldsMost(ev: LedgerEvidence, delayed: string, others: string[]): string | undefined {
  const mine = readAt(ev.replicas[delayed]);
  const best = Math.max(...others.map((n) => readAt(ev.replicas[n])));
  if (mine <= best) return undefined;
  const whole = ev.replicas[delayed]!.gtid > Math.max(...others.map((n) => ev.replicas[n]!.gtid));
  return whole ? 'whole transactions only it received' : 'part of a transaction only it received';
}

/**
 * With the master alive and configured at an address mmmf cannot reach: refused, and nothing changed. The
 * check needs evidence that the master is alive (it answers, a replica's IO thread is connected to it): its
 * absence fails the iteration instead of skipping the check.
 */
export async function aliveAliasRefusal(c: Cluster, names: string[]): Promise<string[]> {
  const connected = async () =>
    (await Promise.all(names.map((n) => slaveStatus(c, n)))).some(
      (st) => st.Slave_IO_Running === 'Yes' && Number(st.Master_Server_Id) === 1,
    );
  try {
    await until(connected, 10_000, 'a replica connected to test1');
    await c.query('test1', 'SELECT 1');
  } catch (err) {
    return [`alive-alias check impossible, so failed: ${(err as Error).message}`];
  }
  const cfg = aliasConfig(c, `{ host: '127.0.0.2', port: ${c.port('test1')} }`, 'unreachable-alias.config.ts');
  const all = ['test1', ...names];
  const before = await controlSnapshot(c, all);
  const r = await c.cli(['--cfg', cfg, '--failover-to', names[0]!]);
  const after = await controlSnapshot(c, all);
  const out: string[] = [];
  if (r.exitCode !== 3)
    out.push(`alive master at an unreachable alias: exit ${r.exitCode}, expected 3 (${r.stderr.slice(0, 300)})`);
  if (after !== before) out.push(`alive master at an unreachable alias: servers changed (${before} → ${after})`);
  if (!(await connected())) out.push('alive master at an unreachable alias: no replica connected to it any more');
  return out;
}

/** A target that could not be brought up: nothing promoted, nothing pointed at it, no server writable. */
export async function driftOutcome(c: Cluster, drift: string, names: string[], exitCode: number): Promise<string[]> {
  const out: string[] = [];
  if (exitCode !== 1 && exitCode !== 3) out.push(`drifted target ${drift}: exit ${exitCode}, expected 1 or 3`);
  for (const n of names) {
    if ((await readOnly(c, n)) === 0)
      out.push(`drifted target: ${n} is writable after a failover that promoted nobody`);
    if (n === drift) continue;
    const st = await slaveStatus(c, n);
    if (sourceOf(st) === c.source(drift)) out.push(`${n} was pointed at ${drift}, which was never promoted`);
  }
  return out;
}

export interface Judged {
  names: string[];
  target: string;
  ev: LedgerEvidence;
  attempted: Map<number, number>;
  /** Replicas the scenario leaves out (a drifted target, a delayed replica not lifted). */
  left: Set<string>;
  seed: number;
  delayed: ChaosScenario['delayed'];
  positioning: 'gtid' | 'file';
}

/**
 * Every promise, on the servers as they are: each writer's ledger gap-free and as long as any replica
 * received, no GTID received anywhere missing, identical data (with two survivors or more; always against the
 * ledger), exactly one writable server, every replica replicating from the new master (a delayed one with its
 * delay, or left stopped by file), and a fresh write reaches every survivor.
 */
export async function checkInvariants(c: Cluster, o: Judged): Promise<string[]> {
  const survivors = o.names.filter((n) => !o.left.has(n));
  const v = (await ledgerViolations(c, survivors, o.ev, o.attempted)).map((x) => `${x} [${describeEvidence(o.ev)}]`);
  const maxReceived = Math.max(...o.names.map((n) => o.ev.replicas[n]!.gtid));
  for (const n of survivors) {
    const [g] = await c.query<{ g: string }>(n, 'SELECT @@gtid_slave_pos AS g');
    const seq = Number(/0-\d+-(\d+)/.exec(g?.g ?? '')?.[1] ?? 0);
    if (seq < maxReceived) v.push(`${n} is at GTID seq ${seq}, but ${maxReceived} had been received whole`);
  }
  if (survivors.length >= 2) {
    const prints = await Promise.all(survivors.map(async (n) => [n, await dataFingerprint(c, n)] as const));
    if (new Set(prints.map((p) => p[1])).size !== 1)
      v.push(`data differs: ${prints.map(([n, f]) => `${n}: ${f}`).join(' | ')}`);
  }
  v.push(...(await replicationViolations(c, o)));
  const fresh = `SELECT 1 FROM sbtest.ledger WHERE writer = ${MARKER_WRITER} AND seq = ${o.seed}`;
  await c.query(o.target, `INSERT INTO sbtest.ledger (writer, seq) VALUES (${MARKER_WRITER}, ${o.seed})`);
  for (const n of survivors) {
    try {
      await until(async () => (await c.query(n, fresh)).length === 1, 10_000, `fresh write on ${n}`);
    } catch {
      v.push(`a fresh write on ${o.target} did not reach ${n} within 10 s`);
    }
  }
  return v;
}

/**
 * With the master's host reachable over SSH: every whole transaction its binlog holds (read offline by the
 * harness) is on every survivor — each writer's ledger reaches that binlog's highest seq for it.
 */
export async function salvageViolations(c: Cluster, survivors: string[], ev: LedgerEvidence): Promise<string[]> {
  const v: string[] = [];
  for (const n of survivors) {
    const rows = await c.query<{ w: number; s: number }>(
      n,
      'SELECT writer AS w, MAX(seq) AS s FROM sbtest.ledger GROUP BY writer',
    );
    const has = new Map(rows.map((r) => [Number(r.w), Number(r.s)]));
    for (const [w, seq] of ev.masterLedger) {
      if ((has.get(w) ?? 0) < seq)
        v.push(`salvage: ${n}'s writer ${w} ends at ${has.get(w) ?? 0}; the dead master's binlog held up to ${seq}`);
    }
  }
  return v;
}

/** Where a replica's SHOW SLAVE STATUS points, as `Cluster.source` names a server. */
const sourceOf = (st: Record<string, string>) => `${st.Master_Host}:${st.Master_Port}`;

async function replicationViolations(c: Cluster, o: Judged): Promise<string[]> {
  const v: string[] = [];
  const writable = [];
  for (const n of o.names) {
    if ((await readOnly(c, n)) === 0) writable.push(n);
    if (n === o.target) continue;
    const st = await slaveStatus(c, n);
    const state = [sourceOf(st), st.Slave_IO_Running, st.Slave_SQL_Running].join(' ');
    const stopped = st.Slave_IO_Running === 'No' && st.Slave_SQL_Running === 'No';
    if (n === o.delayed?.name && !o.delayed.lift) {
      const want = o.positioning === 'gtid' ? `${c.source(o.target)} Yes Yes` : undefined;
      if (want ? state !== want || String(st.SQL_Delay) !== '3600' : !stopped) {
        v.push(
          `delayed ${n}: source/IO/SQL = ${state}, delay ${st.SQL_Delay}; expected ${want ? `${want}, delay 3600` : 'stopped'}`,
        );
      }
    } else if (o.left.has(n)) {
      // Never promoted: it may point at the new master (stopped after a failed catch-up), never elsewhere running.
      if (!stopped && sourceOf(st) !== c.source(o.target))
        v.push(`${n} replicates from ${sourceOf(st)}, not the master`);
    } else if (state !== `${c.source(o.target)} Yes Yes` || st.Last_Error) {
      v.push(`${n} replication: source/IO/SQL = ${state}, error '${st.Last_Error ?? ''}'`);
    }
  }
  if (writable.join() !== o.target) v.push(`writable servers: [${writable.join(', ')}], expected only ${o.target}`);
  return v;
}

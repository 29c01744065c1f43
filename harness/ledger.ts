// "Nothing lost", judged by content: every writer commits a numbered ledger row (sbtest.ledger: writer, seq)
// in the same transaction as its payload, one transaction after another. After a failover each writer's
// ledger on every survivor must be exactly 1..N, gap-free, with N at least the longest any replica had
// received whole before the failover — read from the servers (their tables, their relay logs, and the dead
// master's binlog up to where each replica's IO thread had read), never from mmmf's output.
import { join } from 'node:path';
import { binlogFiles, type LoggedTransaction, readLogs, relayLogFiles } from './binlog-text.js';
import type { Cluster } from './cluster.js';

/** Writer 0 marks one-off rows (a fresh write after a failover, any seq): never checked for gaps. */
export const MARKER_WRITER = 0;

export interface ReplicaEvidence {
  /** Per writer: the highest seq this replica had applied or received in a whole transaction. */
  ledger: Map<number, number>;
  /** The highest GTID sequence number of a transaction it had applied or received whole. */
  gtid: number;
  /** Its IO thread's position in the dead master's binlog ("file:pos"), when it replicated from it. */
  read?: string;
}

export interface LedgerEvidence {
  replicas: Record<string, ReplicaEvidence>;
  /** Per writer: the longest ledger any replica received, and one replica that did. */
  longest: Map<number, { seq: number; on: string }>;
  /** Whole transactions read from the dead master's binlog (0 when there was none to read). */
  masterTransactions: number;
  /** Per writer: the highest seq of a whole transaction in the dead master's binlog (what a salvage must keep). */
  masterLedger: Map<number, number>;
  /** The highest GTID sequence number of a whole transaction in the dead master's binlog (0 without one). */
  masterGtid: number;
}

type Status = Record<string, string>;
const bump = (m: Map<number, number>, w: number, s: number) => m.set(w, Math.max(m.get(w) ?? 0, s));
const nodeIndex = (n: string) => Number(n.replace(/^\D+/, ''));

async function appliedLedger(c: Cluster, n: string): Promise<Map<number, number>> {
  const m = new Map<number, number>();
  const rows = await c.query<{ w: number; s: number }>(
    n,
    'SELECT writer AS w, MAX(seq) AS s FROM sbtest.ledger GROUP BY writer',
  );
  for (const r of rows) bump(m, Number(r.w), Number(r.s));
  return m;
}

/** Folds whole transactions into a replica's evidence. */
function take(e: ReplicaEvidence, txs: LoggedTransaction[]): void {
  for (const t of txs) {
    e.gtid = Math.max(e.gtid, t.seq);
    for (const [w, s] of t.ledger) bump(e.ledger, w, s);
  }
}

/**
 * What each replica holds or had received before a failover: applied rows, whole transactions in its relay
 * logs, and (when it replicated from `deadMaster`, whose binlog files the test can read) every transaction of
 * that binlog that ends at or before its IO thread's read position. Call it after the crash, before mmmf runs.
 */
export async function ledgerEvidence(c: Cluster, replicas: string[], deadMaster?: string): Promise<LedgerEvidence> {
  const master = deadMaster ? await readLogs(binlogFiles(join(c.dir, deadMaster, 'data'))) : [];
  const masterLedger = new Map<number, number>();
  for (const t of master) for (const [w, sq] of t.ledger) if (w !== MARKER_WRITER) bump(masterLedger, w, sq);
  const out: LedgerEvidence = {
    replicas: {},
    longest: new Map(),
    masterTransactions: master.length,
    masterLedger,
    masterGtid: Math.max(0, ...master.map((t) => t.seq)),
  };
  for (const n of replicas) {
    const [g] = await c.query<{ g: string }>(n, 'SELECT @@gtid_slave_pos AS g');
    const e: ReplicaEvidence = {
      ledger: await appliedLedger(c, n),
      gtid: Number(/0-\d+-(\d+)/.exec(g?.g ?? '')?.[1] ?? 0),
    };
    take(e, await readLogs(relayLogFiles(join(c.dir, n, 'data'))));
    const [st] = await c.query<Status>(n, 'SHOW SLAVE STATUS');
    if (deadMaster && st && Number(st.Master_Server_Id) === nodeIndex(deadMaster) && st.Master_Log_File) {
      const file = Number(/\.(\d+)$/.exec(st.Master_Log_File)?.[1] ?? 0);
      const pos = Number(st.Read_Master_Log_Pos);
      e.read = `${st.Master_Log_File}:${pos}`;
      take(
        e,
        master.filter((t) => t.file < file || (t.file === file && t.end <= pos)),
      );
    }
    out.replicas[n] = e;
    for (const [w, s] of e.ledger) {
      if (w !== MARKER_WRITER && s > (out.longest.get(w)?.seq ?? 0)) out.longest.set(w, { seq: s, on: n });
    }
  }
  return out;
}

/** Numbers missing from 1..max in a sorted list, the first few, as text ("5, 9..12"). */
function missing(seqs: number[]): string {
  const gaps: string[] = [];
  let expect = 1;
  for (const s of seqs) {
    if (s > expect) gaps.push(s - 1 > expect ? `${expect}..${s - 1}` : `${expect}`);
    expect = s + 1;
    if (gaps.length >= 5) break;
  }
  return gaps.join(', ');
}

async function byWriter(c: Cluster, n: string, table: 'ledger' | 'events'): Promise<Map<number, number[]>> {
  const where = table === 'events' ? 'seq > 0 AND ' : '';
  const rows = await c.query<{ w: number; s: number }>(
    n,
    `SELECT writer AS w, seq AS s FROM sbtest.${table} WHERE ${where}writer <> ${MARKER_WRITER} ORDER BY writer, seq`,
  );
  const m = new Map<number, number[]>();
  for (const r of rows) {
    const list = m.get(Number(r.w)) ?? [];
    list.push(Number(r.s));
    m.set(Number(r.w), list);
  }
  return m;
}

/**
 * Every broken promise about the ledger on the survivors: a writer's ledger not exactly 1..N, N shorter than
 * what some replica had received, a row no writer ever sent (`attempted`: per writer, the highest seq sent),
 * and a load transaction whose payload row (sbtest.events, positive seq) and ledger row did not arrive together.
 */
export async function ledgerViolations(
  c: Cluster,
  survivors: string[],
  ev: LedgerEvidence,
  attempted?: Map<number, number>,
): Promise<string[]> {
  const v: string[] = [];
  for (const n of survivors) {
    const ledger = await byWriter(c, n, 'ledger');
    for (const w of new Set([...ledger.keys(), ...ev.longest.keys()])) {
      const seqs = ledger.get(w) ?? [];
      const max = seqs.at(-1) ?? 0;
      if (max !== seqs.length) v.push(`${n}: writer ${w}'s ledger has gaps: lacks ${missing(seqs)} (max ${max})`);
      const need = ev.longest.get(w);
      if (need && max < need.seq) {
        v.push(`${n}: writer ${w}'s ledger ends at ${max}, but ${need.on} had received up to ${need.seq}`);
      }
      const sent = attempted?.get(w);
      if (sent !== undefined && max > sent) v.push(`${n}: writer ${w}'s ledger reaches ${max}; it sent only ${sent}`);
    }
    const hasEvents = (await c.query(n, "SHOW TABLES IN sbtest LIKE 'events'")).length > 0;
    if (!hasEvents) continue;
    const events = await byWriter(c, n, 'events');
    for (const [w, rows] of events) {
      const l = ledger.get(w);
      if (!l) continue; // a writer without a ledger (a fresh write's marker row)
      if (rows.join() !== l.join()) {
        const onlyRows = rows.filter((s) => !l.includes(s)).slice(0, 5);
        const onlyLedger = l.filter((s) => !rows.includes(s)).slice(0, 5);
        v.push(
          `${n}: writer ${w}: payload rows without ledger rows [${onlyRows}], ledger rows without payload [${onlyLedger}]`,
        );
      }
    }
  }
  return v;
}

/** One line about the evidence, for failure messages and logs. */
export function describeEvidence(ev: LedgerEvidence): string {
  const longest = [...ev.longest].map(([w, l]) => `w${w}≤${l.seq}@${l.on}`).join(' ');
  const reads = Object.entries(ev.replicas)
    .map(([n, e]) => `${n}:gtid ${e.gtid}${e.read ? ` read ${e.read}` : ''}`)
    .join(' ');
  return `longest received: ${longest || '(no ledger rows)'}; ${reads}; dead master's binlog: ${ev.masterTransactions} transactions`;
}

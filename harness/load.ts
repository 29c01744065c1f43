// Write load from several connections as an application would (the 'app' account: no SUPER, so read_only
// stops it). Every acknowledged COMMIT is recorded, so a test can prove none was lost.
import type { Connection } from 'mysql2/promise';
import type { Cluster } from './cluster.js';

export const EVENTS_DDL = `CREATE TABLE IF NOT EXISTS sbtest.events (
  id BIGINT AUTO_INCREMENT PRIMARY KEY, writer INT NOT NULL, seq INT NOT NULL, kind VARCHAR(16) NOT NULL,
  payload MEDIUMTEXT, bin VARBINARY(255), UNIQUE KEY ws (writer, seq)) ENGINE=InnoDB`;

/** Insert-only: one row per committed load transaction, never updated or deleted, so presence proves arrival. */
export const LEDGER_DDL = `CREATE TABLE IF NOT EXISTS sbtest.ledger (
  writer INT NOT NULL, seq INT NOT NULL, PRIMARY KEY (writer, seq)) ENGINE=InnoDB`;

export const LEDGER_KEYS = "SELECT CONCAT(writer, ':', seq) AS k FROM sbtest.ledger";

export interface Load {
  /** "writer:seq" of every transaction whose COMMIT was acknowledged. */
  acked: Set<string>;
  committed(): number;
  /** Per writer: the highest seq it sent (acknowledged or not): no server may hold more of its ledger. */
  attempted: Map<number, number>;
  /** Every error a writer met ("writer W at seq S, after T ms: message"); a writer stops at its first. */
  errors: { writer: number; seq: number; at: number; message: string }[];
  /** Transactions InnoDB rolled back (deadlock, lock wait timeout) and the writer ran again with the same seq. */
  retried: { writer: number; seq: number; at: number; message: string }[];
  /**
   * Resolves once every writer has acknowledged another commit since the call; throws naming the writers
   * that stopped (with their error) or stalled. A test that claims "while the writers are still writing"
   * asserts it with this right before the event.
   */
  stillWriting(ms?: number): Promise<void>;
  stop(): Promise<void>;
}

/** Deterministic pseudo-random numbers in [0, 1), so a failing run can be replayed from its seed. */
export function rng(seed: number) {
  // mulberry32: neighbouring seeds give unrelated sequences (an LCG's first draws would nearly coincide).
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

/**
 * One load transaction: a payload of one of several shapes (one row, two rows, a large value updated, an
 * update of earlier rows, a delete) and the writer's ledger row, committed together.
 */
async function writeTransaction(conn: Connection, w: number, seq: number, r: number): Promise<void> {
  const text = `w${w} s${seq} it's "quoted" \\ back\nslash ROLLBACK ${'x'.repeat(Math.floor(r * 300))}`;
  const bin = Buffer.from([0, 255, 39, 92, 10, Math.floor(r * 256)]);
  await conn.query('BEGIN');
  if (r < 0.4) {
    await conn.query('INSERT INTO sbtest.events (writer, seq, kind, payload, bin) VALUES (?, ?, ?, ?, ?)', [
      w,
      seq,
      'single',
      text,
      bin,
    ]);
  } else if (r < 0.7) {
    await conn.query(
      'INSERT INTO sbtest.events (writer, seq, kind, payload, bin) VALUES (?, ?, ?, ?, ?), (?, ?, ?, ?, ?)',
      [w, seq, 'multi', text, bin, w, -seq, 'multi2', text.toUpperCase(), bin],
    );
  } else if (r < 0.72) {
    // A large value (~256 KB of text, binary bytes) in a multi-statement transaction.
    await conn.query('INSERT INTO sbtest.events (writer, seq, kind, payload, bin) VALUES (?, ?, ?, ?, ?)', [
      w,
      seq,
      'large',
      text.repeat(800),
      bin,
    ]);
    await conn.query('UPDATE sbtest.events SET bin = ? WHERE writer = ? AND seq = ?', [
      Buffer.from([0, 1, 2, 0, 255]),
      w,
      seq,
    ]);
  } else if (r < 0.85) {
    await conn.query('INSERT INTO sbtest.events (writer, seq, kind, payload) VALUES (?, ?, ?, ?)', [
      w,
      seq,
      'upd',
      text,
    ]);
    await conn.query('UPDATE sbtest.events SET payload = CONCAT(payload, ?) WHERE writer = ? AND seq > ? AND seq < ?', [
      '+',
      w,
      seq - 10,
      seq,
    ]);
  } else {
    await conn.query('INSERT INTO sbtest.events (writer, seq, kind, payload) VALUES (?, ?, ?, ?)', [
      w,
      seq,
      'del',
      text,
    ]);
    // A second row of an earlier 'multi' transaction (negative seq): payload rows of positive seq stay,
    // one per ledger row, so the data can be compared with the ledger.
    await conn.query('DELETE FROM sbtest.events WHERE writer = ? AND seq = ?', [w, seq > 5 ? -(seq - 5) : 0]);
  }
  await conn.query('INSERT INTO sbtest.ledger (writer, seq) VALUES (?, ?)', [w, seq]);
  await conn.query('COMMIT');
}

/** InnoDB rolled the whole transaction back (deadlock) or its statement timed out: the same seq is tried again. */
const RETRYABLE = new Set([1213, 1205]);

/** `firstWriter`: writer ids must differ from an earlier load's on the same tables (their rows are unique per writer and seq). */
export async function startLoad(c: Cluster, master: string, writers = 4, seed = 1, firstWriter = 1): Promise<Load> {
  const acked = new Set<string>();
  const attempted = new Map<number, number>();
  const ackCount = new Map<number, number>();
  const errors: Load['errors'] = [];
  const retried: Load['errors'] = [];
  const live = new Set<number>();
  let running = true;
  const loops: Promise<void>[] = [];
  for (let w = firstWriter; w < firstWriter + writers; w++) {
    const conn = await c.connect(master, 'app', 'app-secret');
    conn.on('error', () => {});
    const rand = rng(seed * 100 + w);
    live.add(w);
    loops.push(
      (async () => {
        let seq = 0;
        try {
          while (running) {
            seq++;
            attempted.set(w, seq);
            const r = rand();
            for (;;) {
              try {
                await writeTransaction(conn, w, seq, r);
                break;
              } catch (err) {
                if (!RETRYABLE.has((err as { errno?: number }).errno ?? 0)) throw err;
                retried.push({ writer: w, seq, at: Date.now(), message: String((err as Error).message) });
                await conn.query('ROLLBACK');
              }
            }
            acked.add(`${w}:${seq}`);
            ackCount.set(w, (ackCount.get(w) ?? 0) + 1);
          }
        } catch (err) {
          // The master died or fenced us, or something a test must see: recorded, and this writer stops (going
          // on with the next seq would leave a gap in its ledger that no failover made).
          errors.push({ writer: w, seq, at: Date.now(), message: String((err as Error).message).split('\n')[0]! });
        } finally {
          live.delete(w);
          conn.destroy();
        }
      })(),
    );
  }
  const ids = Array.from({ length: writers }, (_, i) => firstWriter + i);
  return {
    acked,
    committed: () => acked.size,
    attempted,
    errors,
    retried,
    async stillWriting(ms = 15_000) {
      const from = new Map(ids.map((w) => [w, ackCount.get(w) ?? 0]));
      const end = Date.now() + ms;
      for (;;) {
        const stopped = ids.filter((w) => !live.has(w));
        if (stopped.length) {
          const why = stopped.map((w) => `${w} (${errors.find((e) => e.writer === w)?.message ?? 'stopped'})`);
          throw new Error(`writers no longer writing: ${why.join(', ')}`);
        }
        const stalled = ids.filter((w) => (ackCount.get(w) ?? 0) <= from.get(w)!);
        if (!stalled.length) return;
        if (Date.now() > end) throw new Error(`writers ${stalled.join(', ')} acknowledged nothing for ${ms} ms`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    async stop() {
      running = false;
      await Promise.all(loops);
    },
  };
}

/** Polls until `fn` is true or `ms` pass. */
export async function until(fn: () => Promise<boolean>, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await fn()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out after ${ms} ms waiting for ${what}`);
}

export async function gtidSeq(c: Cluster, name: string, variable = 'gtid_binlog_pos'): Promise<number> {
  const [row] = await c.query<{ g: string }>(name, `SELECT @@${variable} AS g`);
  const m = /0-\d+-(\d+)/.exec(row?.g ?? '');
  return m ? Number(m[1]) : 0;
}

/**
 * Writes one ledger row per transaction (writer 1) to whichever server is writable, as an application behind
 * a proxy would; records acks, errors and the longest gap between acks. A failed write is tried again with the
 * same seq on the next server, so the ledger stays gap-free: a duplicate key there means the first attempt had
 * committed after all (its acknowledgement was lost), and the writer goes on with the next seq.
 */
export function followingWriter(c: Cluster) {
  const acked = new Set<string>();
  const errors: string[] = [];
  let running = true;
  let lastAck = 0;
  let longestGap = 0;
  let seq = 1;
  const done = (async () => {
    while (running) {
      for (const n of c.names) {
        if (!running) break;
        let conn;
        try {
          conn = await c.connect(n, 'app', 'app-secret');
          conn.on('error', () => {});
          while (running) {
            try {
              await conn.query('INSERT INTO sbtest.ledger (writer, seq) VALUES (1, ?)', [seq]);
            } catch (err) {
              if ((err as { errno?: number }).errno !== 1062) throw err;
              errors.push(`${n}: seq ${seq} already there (committed before its acknowledgement was lost)`);
              seq++;
              continue;
            }
            const now = Date.now();
            if (lastAck) longestGap = Math.max(longestGap, now - lastAck);
            lastAck = now;
            acked.add(`1:${seq}`);
            seq++;
          }
        } catch (err) {
          // read-only, killed or down: the same seq goes to the next server
          errors.push(`${n}: ${String((err as Error).message).split('\n')[0]}`);
        } finally {
          conn?.destroy();
        }
      }
    }
  })();
  return {
    acked,
    errors,
    /** The highest seq sent. */
    attempted: () => seq,
    gap: () => longestGap,
    stop: async () => {
      running = false;
      await done;
    },
  };
}

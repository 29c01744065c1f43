// Write load from several connections as an application would (the 'app' account: no SUPER, so read_only
// stops it). Every acknowledged COMMIT is recorded, so a test can prove none was lost.
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

/** `firstWriter`: writer ids must differ from an earlier load's on the same tables (their rows are unique per writer and seq). */
export async function startLoad(c: Cluster, master: string, writers = 4, seed = 1, firstWriter = 1): Promise<Load> {
  const acked = new Set<string>();
  let running = true;
  const loops: Promise<void>[] = [];
  for (let w = firstWriter; w < firstWriter + writers; w++) {
    const conn = await c.connect(master, 'app', 'app-secret');
    conn.on('error', () => {});
    const rand = rng(seed * 100 + w);
    loops.push(
      (async () => {
        let seq = 0;
        try {
          while (running) {
            seq++;
            const r = rand();
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
              await conn.query(
                'UPDATE sbtest.events SET payload = CONCAT(payload, ?) WHERE writer = ? AND seq > ? AND seq < ?',
                ['+', w, seq - 10, seq],
              );
            } else {
              await conn.query('INSERT INTO sbtest.events (writer, seq, kind, payload) VALUES (?, ?, ?, ?)', [
                w,
                seq,
                'del',
                text,
              ]);
              await conn.query('DELETE FROM sbtest.events WHERE writer = ? AND seq = ?', [w, -(seq - 5)]);
            }
            await conn.query('INSERT INTO sbtest.ledger (writer, seq) VALUES (?, ?)', [w, seq]);
            await conn.query('COMMIT');
            acked.add(`${w}:${seq}`);
          }
        } catch {
          // The master died or fenced us: this writer is done; unacknowledged work is not counted.
        } finally {
          conn.destroy();
        }
      })(),
    );
  }
  return {
    acked,
    committed: () => acked.size,
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

/** Writes one ledger row per transaction to whichever server is writable; records acks and the longest gap. */
export function followingWriter(c: Cluster) {
  const acked = new Set<string>();
  let running = true;
  let lastAck = 0;
  let longestGap = 0;
  const done = (async () => {
    let seq = 0;
    while (running) {
      for (const n of c.names) {
        if (!running) break;
        let conn;
        try {
          conn = await c.connect(n, 'app', 'app-secret');
          conn.on('error', () => {});
          for (;;) {
            if (!running) break;
            seq++;
            await conn.query('INSERT INTO sbtest.ledger (writer, seq) VALUES (1, ?)', [seq]);
            const now = Date.now();
            if (lastAck) longestGap = Math.max(longestGap, now - lastAck);
            lastAck = now;
            acked.add(`1:${seq}`);
          }
        } catch {
          // read-only, killed or down: try the next server
        } finally {
          conn?.destroy();
        }
      }
    }
  })();
  return {
    acked,
    gap: () => longestGap,
    stop: async () => {
      running = false;
      await done;
    },
  };
}

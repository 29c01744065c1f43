import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TransactionGrouper, type Transaction } from '../binlog/binlog-events.js';
import { scanLogFile } from '../binlog/log-reader.js';
import { fileIndex } from '../binlog/coordinates.js';
import type { SalvageSlice } from '../binlog/binlog-file/salvage-types.js';
import { replayBytes } from '../binlog/binlog-file/replay-stream.js';
import type { Coordinates } from '../domain/coordinates.js';
import type { Dialect } from '../dialect/dialect.js';
import {
  applyArgs,
  clientOptionFile,
  decodeArgs,
  DIE_WITH_MMMF,
  replayTools,
  salvageLockHolderSql,
  takeSalvageLockSql,
} from '../dialect/salvage-dialect.js';
import { batchStatements } from '../dialect/salvage-batch.js';
import { runChild } from '../process/run-child.js';
import { ensurePrivateDir, PRIVATE_FILE } from '../state/state-files.js';
import type { ResolvedHost } from '../topology/config-types.js';
import type { SqlConnection } from '../topology/connection.js';
import { one, READ_MS, WRITE_MS } from './server-reads.js';
import { poll } from './waits.js';

// The monitor host's half of a salvage: the checked binlog bytes decoded into SQL with the server flavor's own
// tool, applied in one session of its client to the best replica over the network (as mmmf's own connection
// reaches it), and the best replica's binlog read back to see exactly what was applied.

/**
 * A private folder for one salvage's files (option file, SQL files: a password and the data), removed
 * afterwards; the folders of runs that were killed are removed first.
 */
export function salvageWorkDir(stateDir: string): { dir: string; remove(): void } {
  ensurePrivateDir(stateDir);
  const root = join(stateDir, 'salvage');
  ensurePrivateDir(root);
  for (const name of readdirSync(root)) {
    const pid = Number(name.split('-')[0]);
    if (Number.isInteger(pid) && pid > 0 && !alive(pid)) rmSync(join(root, name), { recursive: true, force: true });
  }
  const dir = join(root, `${process.pid}-${Date.now().toString(36)}`);
  mkdirSync(dir, { mode: 0o700 });
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Decoded SQL is larger than the bytes (base64 row events, comments): the cap on what one decode may print. */
const decodedCap = (bytes: number) => bytes * 16 + (1 << 20);

/**
 * Decodes one slice (format description + whole transactions) into a SQL file. The decoder must exit 0 with
 * nothing on stderr; its output is taken whole, never cut, its statements joined into batches where their bounds
 * are certain (one round trip each). The file starts with the statement that takes the salvage lock, so the
 * session applying it can be found.
 */
export async function decodeSlice(
  v: Dialect['version'],
  slice: SalvageSlice,
  file: string,
  timeoutSec: number,
): Promise<{ batchMs: number }> {
  const tool = replayTools(v).decode;
  const bytes = replayBytes(slice);
  const cap = decodedCap(bytes.length);
  const r = await runChild(tool, decodeArgs(v), {
    input: bytes,
    timeoutMs: timeoutSec * 1000,
    binary: true,
    maxOutputBytes: cap,
  });
  if (r.startError) throw new Error(`cannot run ${tool} on this host (${r.startError}): install the client tools`);
  if (!r.ok || r.stderr.trim()) {
    const why = r.timedOut ? `no end within ${timeoutSec} s` : `exit ${r.code ?? r.signal}`;
    throw new Error(`${tool} could not decode ${slice.file} from ${slice.from} (${why}): ${r.stderr.trim()}`);
  }
  const sql = r.bytes ?? Buffer.alloc(0);
  if (sql.length >= cap) throw new Error(`${tool} printed more than ${cap} bytes for ${slice.file}: not applied`);
  const t = performance.now();
  const batched = batchStatements(sql) ?? sql;
  const batchMs = performance.now() - t;
  writeFileSync(file, Buffer.concat([Buffer.from(`${takeSalvageLockSql()};\n`), batched]), { mode: PRIVATE_FILE });
  return { batchMs };
}

/** Writes the apply client's option file (the account and password of mmmf's connection to `host`). */
export function writeOptionFile(v: Dialect['version'], host: ResolvedHost, file: string): void {
  const target = {
    host: host.host,
    port: host.port,
    user: host.user,
    password: host.password,
    ...(host.socket ? { socket: host.socket } : {}),
    ...(host.ssl ? { ssl: host.ssl } : {}),
  };
  writeFileSync(file, clientOptionFile(v, target), { mode: PRIVATE_FILE });
}

/**
 * Applies one SQL file in one session of the flavor's client: success is exit 0 and nothing on stderr. The
 * client reads the file itself (never a pipe mmmf could leave half-written) and dies with mmmf.
 */
export async function applySqlFile(
  v: Dialect['version'],
  o: { optionFile: string; sqlFile: string; timeoutSec: number; started?: () => Promise<void> },
): Promise<void> {
  const tool = replayTools(v).apply;
  const [wrapper, ...wrapArgs] = DIE_WITH_MMMF;
  const run = runChild(wrapper!, [...wrapArgs, tool, ...applyArgs(o.optionFile)], {
    stdinFile: o.sqlFile,
    timeoutMs: o.timeoutSec * 1000,
  });
  await o.started?.();
  const r = await run;
  if (r.startError) throw new Error(`cannot run ${wrapper} ${tool} on this host (${r.startError})`);
  if (!r.ok || r.stderr.trim()) {
    const why = r.timedOut ? `no end within ${o.timeoutSec} s` : `exit ${r.code ?? r.signal}`;
    throw new Error(`${tool} failed applying the salvaged transactions (${why}): ${r.stderr.trim() || r.out}`);
  }
}

/**
 * A run this one resumes may have died while its apply session still ran (or before the server noticed it was
 * gone): that session is ended, and waited for, before anything is read or applied.
 */
export async function endEarlierApply(conn: SqlConnection, d: Dialect): Promise<string | undefined> {
  const holder = async () => {
    const h = (await one(conn, salvageLockHolderSql(), READ_MS)).holder;
    return h === null || h === undefined ? undefined : Number(h);
  };
  const id = await holder();
  if (id === undefined) return undefined;
  try {
    await conn.query(d.killConnection(id), WRITE_MS);
  } catch {
    // it ended on its own meanwhile
  }
  await poll('the earlier apply session to end', 60, async () =>
    (await holder()) === undefined ? { done: true } : { waiting: `connection ${id} still holds the salvage lock` },
  );
  return `ended the apply session ${id} of the run this one resumes`;
}

/** Every whole transaction in a server's binlog from `start` (a transaction boundary: a binlog end) on. */
export async function binlogSince(conn: SqlConnection, d: Dialect, start: Coordinates): Promise<Transaction[]> {
  const files = (await conn.query(d.binaryLogsSql(), READ_MS))
    .map((r) => String(r.Log_name))
    .filter((f) => fileIndex(f) >= fileIndex(start.file));
  const out: Transaction[] = [];
  const g = new TransactionGrouper((t) => out.push(t));
  for (const file of files) {
    const from = file === start.file ? start.position : 4;
    const read = await scanLogFile(conn, d, 'binlog', file, (e) => g.feed(e, { file: e.file, position: e.endPos }), {
      from,
    });
    if (!read) throw new Error(`${file} disappeared while the salvage's transactions were read back`);
  }
  return out;
}

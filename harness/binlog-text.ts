// The harness's own reading of binary and relay logs, offline from their files with mariadb-binlog (rows
// decoded): which transactions a log holds whole, where each ends in its master's coordinates, and which ledger
// rows (sbtest.ledger: writer, seq) each wrote. mmmf never reads log files: this is ground truth beside it.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { createInterface } from 'node:readline';

export interface LoggedTransaction {
  /** Sequence number of its GTID (every MariaDB event group has one, whatever the positioning). */
  seq: number;
  /** The server that wrote it first. */
  serverId: number;
  /** Its master's binlog file number (for a binlog: this file; for a relay log: from the last Rotate). */
  file: number;
  /** Where its last event ends, in its master's binlog. */
  end: number;
  /** Ledger rows it inserted: [writer, seq]. */
  ledger: [number, number][];
}

const HEADER = /^#\d{6}\s+[\d:]+\s+server id (\d+)\s+end_log_pos (\d+)\s+CRC32 \S+\s+(.*)$/;
const GTID = /^GTID (\d+)-(\d+)-(\d+)(.*)$/;
const STATEMENT = /INSERT INTO sbtest\.ledger \(writer, seq\) VALUES \((-?\d+), ?(-?\d+)\)/;
const ROW_COLUMN = /^###\s+@([12])=(-?\d+)/;

interface Open {
  tx: LoggedTransaction;
  /** A DDL or non-transactional group: whole once its one Query event is. */
  standalone: boolean;
}

/**
 * Parses log files in order as one stream: a transaction cut by a relay-log rotation continues in the next
 * file. Only transactions whose end (Xid, COMMIT, or a standalone group's statement) was read are returned;
 * a group cut off by a crash or a reconnection is not.
 */
export async function readLogs(paths: string[]): Promise<LoggedTransaction[]> {
  const out: LoggedTransaction[] = [];
  const state = newState();
  // Many files per mariadb-binlog call (a replica with 4 KiB relay logs has thousands); each file's own first
  // event is at position 4, which tells where the next file begins.
  for (let i = 0; i < paths.length; i += 200) {
    const chunk = paths.slice(i, i + 200);
    let at = -1;
    await eachLine(chunk, (line) => {
      if (line === '# at 4') fileStart(state, chunk[++at] ?? '');
      parseLine(line, state, out);
    });
  }
  return out;
}

/** The same parse over mariadb-binlog's text already read, file by file (for tests of the parser itself). */
export function parseLogText(files: { name: string; text: string }[]): LoggedTransaction[] {
  const out: LoggedTransaction[] = [];
  const state = newState();
  for (const f of files) {
    fileStart(state, f.name);
    for (const line of f.text.split('\n')) parseLine(line, state, out);
  }
  return out;
}

type ParseState = { open: Open | undefined; file: number; row: number[] | undefined };
const newState = (): ParseState => ({ open: undefined, file: 0, row: undefined });

/** A binlog file names its own number; a relay log learns its master's file from the Rotate events in it. */
function fileStart(st: ParseState, path: string): void {
  const own = /^mysql-bin\.(\d+)$/.exec(basename(path));
  if (own) st.file = Number(own[1]);
}

function parseLine(line: string, st: ParseState, out: LoggedTransaction[]): void {
  const h = HEADER.exec(line);
  if (h) {
    st.row = undefined;
    const [, server, endText, what] = h;
    const end = Number(endText);
    const rotate = /^Rotate to \S+?\.(\d+)/.exec(what!);
    // In a relay log, a Rotate names the master's file that follows (end_log_pos 0: not in the master's log).
    if (rotate) st.file = Number(rotate[1]);
    const g = GTID.exec(what!);
    if (g) {
      st.open = {
        tx: { seq: Number(g[3]), serverId: Number(g[2] ?? server), file: st.file, end, ledger: [] },
        standalone: !/\btrans\b/.test(g[4] ?? ''),
      };
      return;
    }
    const o = st.open;
    // Log bookkeeping (a relay log's own start, a rotation) may fall inside a transaction: not part of it.
    if (!o || end === 0 || /^(Start:|Rotate|Gtid list|Binlog checkpoint|Stop)/.test(what!)) return;
    o.tx.end = end;
    if (what!.startsWith('Xid = ') || (o.standalone && /^Query\b/.test(what!))) {
      out.push(o.tx);
      st.open = undefined;
    }
    return;
  }
  const o = st.open;
  if (!o) return;
  if (line.startsWith('### INSERT INTO `sbtest`.`ledger`')) {
    st.row = [];
    return;
  }
  const col = ROW_COLUMN.exec(line);
  if (col && st.row) {
    st.row[Number(col[1]) - 1] = Number(col[2]);
    if (st.row[0] !== undefined && st.row[1] !== undefined) {
      o.tx.ledger.push([st.row[0], st.row[1]]);
      st.row = undefined;
    }
    return;
  }
  if (line.startsWith('#')) return; // comments, and the annotated statement of a row event (#Q>)
  const s = STATEMENT.exec(line);
  if (s) o.tx.ledger.push([Number(s[1]), Number(s[2])]);
  // A transaction that ends in a COMMIT query (no Xid: non-transactional tables) is whole here.
  if (/^COMMIT\s*\/\*!\*\/;$/.test(line) && !o.standalone) {
    out.push(o.tx);
    st.open = undefined;
  }
}

/** Streams mariadb-binlog's text of some files line by line (logs reach hundreds of MB: never held whole). */
function eachLine(paths: string[], fn: (line: string) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const p = spawn('mariadb-binlog', ['--base64-output=DECODE-ROWS', '--verbose', ...paths], {
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    const deadline = setTimeout(() => p.kill('SIGKILL'), 300_000);
    const rl = createInterface({ input: p.stdout });
    rl.on('line', fn);
    p.on('error', reject);
    // mariadb-binlog fails on a file cut mid-event (a crash, or an IO thread still writing; always the newest
    // file): what it printed before stands, and the cut transaction never reaches its end.
    rl.on('close', () => {
      clearTimeout(deadline);
      resolve();
    });
  });
}

/** A server's binlog files, oldest first. */
export function binlogFiles(dataDir: string): string[] {
  return readdirSync(dataDir)
    .filter((f) => /^mysql-bin\.\d+$/.test(f))
    .sort()
    .map((f) => join(dataDir, f));
}

/** A server's relay log files in the order its index lists them (the oldest may have been purged). */
export function relayLogFiles(dataDir: string): string[] {
  const index = join(dataDir, 'relay-bin.index');
  if (!existsSync(index)) return [];
  return readFileSync(index, 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .map((l) => (l.startsWith('/') ? l : join(dataDir, basename(l))))
    .filter((f) => existsSync(f));
}

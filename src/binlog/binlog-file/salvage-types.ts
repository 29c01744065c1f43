import type { Flavor } from '../../domain/server-state.js';
import type { Coordinates } from '../../domain/coordinates.js';
import type { BadEvent } from './scan-events.js';

/**
 * Where the best replica stands in the dead master's binlog: the old master's coordinates it has executed up to
 * (Relay_Master_Log_File / Exec_Master_Log_Pos after draining), with its GTID position when it has one; or only
 * the GTID position (MariaDB gtid_slave_pos-like '0-1-1500,1-3-20'; MySQL executed set 'uuid:1-500').
 * Pass what the replica has EXECUTED, not what it received: a transaction the master died while sending is
 * in Retrieved_Gtid_Set / Read_Master_Log_Pos but can never be applied from the relay log; given the executed
 * position it is salvaged whole (given a read position inside it, it is too, at the cost of reading the file).
 * The file is named as the replica reports it (a base name, matched against the index's entries).
 * Examples: `{ file: 'mysql-bin.000012', position: 4711 }`, `{ file: 'mysql-bin.000012', position: 4711,
 * gtid: '0-1-1500' }`, `{ gtid: '3e11fa47-71ca-11e1-9e33-c80aa9429562:1-500' }`.
 */
export type SalvageFrom = { file: string; position: number; gtid?: string } | { gtid: string; file?: undefined };

/**
 * Example: `{ from: { gtid: '0-1-1500' }, maxBytes: 64 * 1024 * 1024 }`.
 */
export interface SalvageRequest {
  from: SalvageFrom;
  /** Upper bound on the bytes read from the source, headers and skipped transactions included. */
  maxBytes: number;
  /** Refuse files whose events carry no CRC32 (binlog_checksum=NONE). Default true. */
  requireChecksums?: boolean;
  /** Bytes per read call (one SSH round trip). Default 16 MiB. */
  chunkBytes?: number;
}

/**
 * Why nothing at all may be salvaged. Example: `{ reason: 'encrypted', file: './mysql-bin.000012',
 * detail: 'MARIADB_START_ENCRYPTION event at 256: the binlog is encrypted (encrypt_binlog)' }`
 */
export interface SalvageRefusal {
  reason:
    | 'no-binlogs'
    | 'start-file-missing'
    | 'start-purged'
    | 'position-beyond-end'
    | 'position-not-boundary'
    | 'not-a-binlog'
    | 'encrypted'
    | 'unknown-event'
    | 'unsupported'
    | 'no-checksum'
    | 'not-a-prefix'
    | 'anonymous'
    | 'budget';
  file?: string;
  detail: string;
}

/** One transaction to replay. Example: `{ file: './mysql-bin.000012', start: 4711, end: 5032, gtid: '0-1-1501', serverId: 1 }` */
export interface SalvagedTransaction {
  file: string;
  start: number;
  end: number;
  gtid: string | undefined;
  serverId: number;
}

/**
 * What to replay from one file: its first `headerEnd` bytes (magic and Format Description Event: the replay
 * tool needs them before any event of that file), then bytes [from, to), which hold whole transactions only.
 * `header` and `body` are those bytes as read and checked. Replayed as one stream, header then body, the body's
 * events sit at `headerEnd + (offset - from)`; no stop position is needed, the stream ends after a commit.
 * Example: `{ file: './mysql-bin.000012', headerEnd: 256, from: 4711, to: 9120, header: <256 bytes>, body: <4409 bytes> }`
 */
export interface SalvageSlice {
  file: string;
  headerEnd: number;
  from: number;
  to: number;
  header: Uint8Array;
  body: Uint8Array;
}

/**
 * Bytes after the last complete transaction of a file: a write the server never finished.
 * Example: `{ file: './mysql-bin.000013', offset: 9120, bytes: 311 }`
 */
export interface TornTail {
  file: string;
  offset: number;
  bytes: number;
}

/**
 * Why salvage ends before the end of the log, and what is lost after that point: a corrupt event in the middle
 * (everything before it is salvaged) or the byte budget.
 * Example: `{ file: './mysql-bin.000012', offset: 8800, reason: 'crc', detail: '...', filesAfter: ['./mysql-bin.000013'] }`
 */
export interface SalvageStop {
  file: string;
  offset: number;
  reason: BadEvent['reason'] | 'budget' | 'rotate-mismatch' | 'truncated';
  detail: string;
  /** Later files of the index, never read. */
  filesAfter: string[];
}

/**
 * The answer: either a refusal (nothing may be salvaged: `slices` and `transactions` are empty), or the slices
 * to replay, in order, with what was left out and why.
 * Example: `{ flavor: 'mariadb', refusal: undefined, transactions: [27 items], slices: [2 items],
 * tornTail: { file: './mysql-bin.000013', offset: 9120, bytes: 311 }, earlierTornTails: [], stop: undefined,
 * skipped: 1500, endsAt: { file: 'mysql-bin.000013', position: 9120 }, bytesRead: 19873 }`
 */
export interface SalvageLocation {
  flavor: Flavor | undefined;
  refusal: SalvageRefusal | undefined;
  transactions: SalvagedTransaction[];
  slices: SalvageSlice[];
  /** The last file's unfinished tail, dropped. */
  tornTail: TornTail | undefined;
  /** Unfinished tails of earlier files, left by an earlier crash the server restarted from; dropped. */
  earlierTornTails: TornTail[];
  stop: SalvageStop | undefined;
  /** Transactions read but not salvaged because the replica already holds them (GTID position). */
  skipped: number;
  /**
   * The old master's coordinates right after the last salvaged transaction: where the replica stands in its log
   * once they are applied (for the position mapping that follows). Example: `{ file: 'mysql-bin.000013', position: 9120 }`
   */
  endsAt: Coordinates | undefined;
  bytesRead: number;
}

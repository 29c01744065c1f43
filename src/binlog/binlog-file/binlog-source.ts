import { posix } from 'node:path';

/**
 * Read access to one server's binlog files, local or remote. `listFiles` returns the index file's entries in
 * order, as written there; `read` returns up to `maxBytes` bytes of a file from `offset`, fewer only when the
 * file ends first (none at or past its end), and throws on any failure: a short read is taken as the end of the
 * file. The files must not change while they are read (no server runs: see noServerCheckArgv).
 * Example (local files): `{ listFiles: async () => parseBinlogIndex(readFileSync(index, 'utf8')),
 * read: async (f, offset, max) => readSlice(resolveIndexEntry(index, f), offset, max) }`
 */
export interface BinlogSource {
  listFiles(): Promise<string[]>;
  read(file: string, offset: number, maxBytes: number): Promise<Uint8Array>;
}

/**
 * The file names a binlog index lists, in order ('./mysql-bin.000001\n./mysql-bin.000002\n' → both).
 * Example: `parseBinlogIndex('./mysql-bin.000001\n/var/log/mysql/mysql-bin.000002\n')`
 */
export function parseBinlogIndex(text: string): string[] {
  return text
    .split('\n')
    .map((line) => line.replace(/\r$/, ''))
    .filter((line) => line.trim() !== '');
}

/**
 * Where an index entry's file is. The server writes entries relative to its datadir ('./mysql-bin.000001') when
 * log_bin is a plain name, which is also where it keeps the index, so relative entries resolve against the
 * index's folder; absolute entries stay as they are.
 * Example: `resolveIndexEntry('/var/lib/mysql/mysql-bin.index', './mysql-bin.000007')` → '/var/lib/mysql/mysql-bin.000007'
 */
export function resolveIndexEntry(indexPath: string, entry: string): string {
  return posix.isAbsolute(entry) ? entry : posix.join(posix.dirname(indexPath), entry);
}

/** The file name a replica reports (Master_Log_File) for an index entry: its last path component. */
export function binlogBaseName(entry: string): string {
  return posix.basename(entry);
}

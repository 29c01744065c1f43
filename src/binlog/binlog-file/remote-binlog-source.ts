import { resolveIndexEntry, parseBinlogIndex, type BinlogSource } from './binlog-source.js';
import { readIndexArgv, readRangeArgv } from './remote-read-commands.js';

/**
 * Runs an argv on the database host (over ssh) and returns its exit code, its stdout as bytes (binlogs are
 * binary: never decoded, never trimmed) and its stderr. Rejects only when it cannot run at all.
 * Example: `{ exitCode: 0, stdout: <Buffer fe 62 69 6e ...>, stderr: '' }`
 */
export type RemoteRunner = (argv: string[]) => Promise<{
  exitCode: number | undefined;
  stdout: Uint8Array;
  stderr: string;
}>;

/**
 * A BinlogSource that reads a host's binlogs through `run`: the index with cat, byte ranges with tail | head.
 * Any exit other than 0, or anything on stderr, is an error: a short read must only ever mean the end of a file.
 * Example: `remoteBinlogSource((argv) => runOverSsh(host, argv), '/var/lib/mysql/mysql-bin.index')`.
 */
export function remoteBinlogSource(run: RemoteRunner, indexPath: string): BinlogSource {
  const checked = async (argv: string[], what: string): Promise<Uint8Array> => {
    const r = await run(argv);
    if (r.exitCode !== 0 || r.stderr.trim() !== '')
      throw new Error(`${what} failed (exit ${r.exitCode ?? 'none'}): ${r.stderr.trim() || 'no message'}`);
    return r.stdout;
  };
  return {
    listFiles: async () =>
      parseBinlogIndex(Buffer.from(await checked(readIndexArgv(indexPath), `reading ${indexPath}`)).toString('utf8')),
    read: async (file, offset, maxBytes) => {
      const path = resolveIndexEntry(indexPath, file);
      const bytes = await checked(readRangeArgv(path, offset, maxBytes), `reading ${path} at ${offset}`);
      if (bytes.length > maxBytes)
        throw new Error(`reading ${path} at ${offset}: ${bytes.length} bytes, asked ${maxBytes}`);
      return bytes;
    },
  };
}

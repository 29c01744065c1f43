// Binlog fixture files and BinlogSources over them: a folder with an index, as a server's datadir holds it, and
// in-memory copies for truncated or corrupted variants.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseBinlogIndex, resolveIndexEntry, type BinlogSource } from '../../src/binlog/binlog-file/index.js';

export const FIXTURES = join(import.meta.dirname, '../fixtures/binlog');

export function fixture(...path: string[]): Buffer {
  return readFileSync(join(FIXTURES, ...path));
}

/** The index entries of a MariaDB fixture scenario ('./mysql-bin.000001', ...). */
export function indexOf(scenario: string): string[] {
  return parseBinlogIndex(fixture('mariadb', scenario, 'mysql-bin.index').toString('utf8'));
}

/** A file's bytes by index entry, for a scenario folder. */
export function scenarioFiles(scenario: string): Map<string, Buffer> {
  const index = join(FIXTURES, 'mariadb', scenario, 'mysql-bin.index');
  return new Map(indexOf(scenario).map((e) => [e, readFileSync(resolveIndexEntry(index, e))]));
}

/** Reads counted, so tests can check what a salvage read. */
export interface CountingSource extends BinlogSource {
  calls: { file: string; offset: number; maxBytes: number }[];
}

/** In-memory files listed in the given order, as an index would list them. */
export function memorySource(files: Map<string, Uint8Array>): CountingSource {
  const calls: CountingSource['calls'] = [];
  return {
    calls,
    listFiles: async () => [...files.keys()],
    read: async (file, offset, maxBytes) => {
      calls.push({ file, offset, maxBytes });
      const bytes = files.get(file);
      if (!bytes) throw new Error(`no such file: ${file}`);
      return bytes.subarray(offset, offset + maxBytes);
    },
  };
}

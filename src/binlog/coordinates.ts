import type { Coordinates } from '../domain/coordinates.js';

/** File names seen, by their number: mapping compares every event's coordinates, in a handful of files. */
const indexes = new Map<string, number>();

/** The numeric suffix of a binlog file name: 'mysql-bin.000010' -> 10. Rotations roll over past 999999 too. */
export function fileIndex(file: string): number {
  const known = indexes.get(file);
  if (known !== undefined) return known;
  const m = /\.(\d+)$/.exec(file);
  if (!m) throw new Error(`binlog file name without a numeric suffix: ${file}`);
  if (indexes.size > 10_000) indexes.clear();
  indexes.set(file, Number(m[1]));
  return Number(m[1]);
}

/**
 * Orders two coordinates of the same server's binlog: by the file's numeric suffix (never the string, which
 * sorts mysql-bin.1000000 before mysql-bin.999999), then by position. Negative, zero or positive.
 */
export function compareCoordinates(a: Coordinates, b: Coordinates): number {
  const byFile = fileIndex(a.file) - fileIndex(b.file);
  return byFile !== 0 ? byFile : a.position - b.position;
}

export function formatCoordinates(c: Coordinates | undefined): string {
  return c && c.file ? `${c.file}:${c.position}` : '-';
}

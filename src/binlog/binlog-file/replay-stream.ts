import type { SalvageSlice } from './salvage-types.js';

/**
 * The bytes to feed the replay tool (mariadb-binlog / mysqlbinlog reading stdin) for one slice: the file's magic
 * and format description, then its whole transactions. Example: `replayBytes(location.slices[0])`.
 */
export function replayBytes(slice: SalvageSlice): Buffer {
  return Buffer.concat([slice.header, slice.body]);
}

// Reading a dead master's binlog files to salvage what only they hold: the event reader (lengths, position chain,
// CRC32, format description), transaction boundaries per flavor, where to start and what to replay across
// rotated files (over any BinlogSource: local files in tests, SSH in a failover), and the plain remote commands
// that read them over SSH.
export { readBinlogFile, readEvents, type BinlogRead } from './read-binlog.js';
export { readFormatDescription, type FormatDescription, type HeaderProblem } from './format-description.js';
export type { BinlogTransaction } from './group-transactions.js';
export type { BadEvent } from './scan-events.js';
export type { EventHeader } from './event-header.js';
export { EventType, eventTypeName } from './event-types.js';
export { parseBinlogIndex, resolveIndexEntry, binlogBaseName, type BinlogSource } from './binlog-source.js';
export { locateSalvage } from './locate-salvage.js';
export type {
  SalvageFrom,
  SalvageRequest,
  SalvageLocation,
  SalvageRefusal,
  SalvageSlice,
  SalvageStop,
  SalvagedTransaction,
  TornTail,
} from './salvage-types.js';
export { replayBytes } from './replay-stream.js';
export { remoteBinlogSource, type RemoteRunner } from './remote-binlog-source.js';
export {
  readIndexArgv,
  fileSizeArgv,
  readRangeArgv,
  noServerCheckArgv,
  parseNoServerCheck,
  remoteCommandLine,
  type ServerCheck,
} from './remote-read-commands.js';

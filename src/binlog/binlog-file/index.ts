// Reading a dead master's binlog files to salvage what only they hold: the event reader (lengths, position chain,
// CRC32, format description) and transaction boundaries per flavor.
export { readBinlogFile, readEvents, type BinlogRead } from './read-binlog.js';
export { readFormatDescription, type FormatDescription, type HeaderProblem } from './format-description.js';
export type { BinlogTransaction } from './group-transactions.js';
export type { BadEvent } from './scan-events.js';
export type { EventHeader } from './event-header.js';
export { EventType, eventTypeName } from './event-types.js';
export { parseBinlogIndex, resolveIndexEntry, binlogBaseName, type BinlogSource } from './binlog-source.js';

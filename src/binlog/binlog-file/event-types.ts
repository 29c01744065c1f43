// Binlog event type codes (the byte at offset 4 of every v4 event header), as MySQL's binlog_event.h and
// MariaDB's log_event.h number them. MySQL uses 1-42, MariaDB 160 and up.

export const EventType = {
  START_V3: 1,
  QUERY: 2,
  STOP: 3,
  ROTATE: 4,
  INTVAR: 5,
  APPEND_BLOCK: 9,
  RAND: 13,
  USER_VAR: 14,
  FORMAT_DESCRIPTION: 15,
  XID: 16,
  BEGIN_LOAD_QUERY: 17,
  EXECUTE_LOAD_QUERY: 18,
  TABLE_MAP: 19,
  WRITE_ROWS_V1: 23,
  UPDATE_ROWS_V1: 24,
  DELETE_ROWS_V1: 25,
  INCIDENT: 26,
  HEARTBEAT: 27,
  IGNORABLE: 28,
  ROWS_QUERY: 29,
  WRITE_ROWS: 30,
  UPDATE_ROWS: 31,
  DELETE_ROWS: 32,
  GTID: 33,
  ANONYMOUS_GTID: 34,
  PREVIOUS_GTIDS: 35,
  TRANSACTION_CONTEXT: 36,
  VIEW_CHANGE: 37,
  XA_PREPARE: 38,
  PARTIAL_UPDATE_ROWS: 39,
  TRANSACTION_PAYLOAD: 40,
  HEARTBEAT_V2: 41,
  GTID_TAGGED: 42,
  MARIADB_ANNOTATE_ROWS: 160,
  MARIADB_BINLOG_CHECKPOINT: 161,
  MARIADB_GTID: 162,
  MARIADB_GTID_LIST: 163,
  MARIADB_START_ENCRYPTION: 164,
  MARIADB_QUERY_COMPRESSED: 165,
  MARIADB_WRITE_ROWS_COMPRESSED_V1: 166,
  MARIADB_UPDATE_ROWS_COMPRESSED_V1: 167,
  MARIADB_DELETE_ROWS_COMPRESSED_V1: 168,
  MARIADB_WRITE_ROWS_COMPRESSED: 169,
  MARIADB_UPDATE_ROWS_COMPRESSED: 170,
  MARIADB_DELETE_ROWS_COMPRESSED: 171,
} as const;

const NAMES = new Map<number, string>(Object.entries(EventType).map(([name, code]) => [code, name]));

/** 'QUERY', 'MARIADB_GTID', or 'type 200' for a code neither server defines. */
export function eventTypeName(type: number): string {
  return NAMES.get(type) ?? `type ${type}`;
}

/** Events that describe the log itself: they sit between transactions, never inside one. */
export const META_EVENTS: ReadonlySet<number> = new Set([
  EventType.FORMAT_DESCRIPTION,
  EventType.ROTATE,
  EventType.STOP,
  EventType.PREVIOUS_GTIDS,
  EventType.MARIADB_BINLOG_CHECKPOINT,
  EventType.MARIADB_GTID_LIST,
]);

/** Events a transaction may hold between its start and its end (statements, row images, their context). */
export const CONTENT_EVENTS: ReadonlySet<number> = new Set([
  EventType.QUERY,
  EventType.INTVAR,
  EventType.RAND,
  EventType.USER_VAR,
  EventType.XID,
  EventType.APPEND_BLOCK,
  EventType.BEGIN_LOAD_QUERY,
  EventType.EXECUTE_LOAD_QUERY,
  EventType.TABLE_MAP,
  EventType.WRITE_ROWS_V1,
  EventType.UPDATE_ROWS_V1,
  EventType.DELETE_ROWS_V1,
  EventType.XA_PREPARE,
]);

const MYSQL_ONLY = [
  EventType.ROWS_QUERY,
  EventType.WRITE_ROWS,
  EventType.UPDATE_ROWS,
  EventType.DELETE_ROWS,
  EventType.GTID,
  EventType.ANONYMOUS_GTID,
  EventType.TRANSACTION_CONTEXT,
  EventType.VIEW_CHANGE,
  EventType.PARTIAL_UPDATE_ROWS,
  EventType.TRANSACTION_PAYLOAD,
];

const MARIADB_ONLY = [
  EventType.MARIADB_ANNOTATE_ROWS,
  EventType.MARIADB_GTID,
  EventType.MARIADB_QUERY_COMPRESSED,
  EventType.MARIADB_WRITE_ROWS_COMPRESSED_V1,
  EventType.MARIADB_UPDATE_ROWS_COMPRESSED_V1,
  EventType.MARIADB_DELETE_ROWS_COMPRESSED_V1,
  EventType.MARIADB_WRITE_ROWS_COMPRESSED,
  EventType.MARIADB_UPDATE_ROWS_COMPRESSED,
  EventType.MARIADB_DELETE_ROWS_COMPRESSED,
];

/**
 * The event types this reader understands in a binlog file of each flavor. Anything else (START_ENCRYPTION,
 * INCIDENT, MySQL 8.4's tagged GTIDs, pre-5.0 LOAD events, a type from a newer server) is not salvaged: a
 * reader that does not know an event cannot know whether it ends a transaction.
 */
export const KNOWN_EVENTS: Readonly<Record<'mariadb' | 'mysql', ReadonlySet<number>>> = {
  mariadb: new Set([...META_EVENTS, ...CONTENT_EVENTS, ...MARIADB_ONLY]),
  mysql: new Set([...META_EVENTS, ...CONTENT_EVENTS, ...MYSQL_ONLY]),
};

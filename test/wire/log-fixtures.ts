// Binlogs and relay logs as each flavor lays them out (event names and Info texts as SHOW BINLOG EVENTS
// prints them), for a stream of row-based transactions replicated from server 1. Positions are computed
// from event sizes, so the same transaction sits at different positions in different servers' logs.
import type { EventRow, LogFile } from './fake-server.js';

interface Ev {
  type: string;
  info: string;
  size: number;
  serverId: number;
}

function transaction(flavor: 'mysql' | 'mariadb', i: number, gtid: string): Ev[] {
  const stmt = `INSERT INTO app.t (id, note) VALUES (${i}, 'it''s \\\\ row ${i} ROLLBACK')`;
  if (flavor === 'mariadb') {
    return [
      { type: 'Gtid', info: `BEGIN GTID ${gtid}`, size: 42, serverId: 1 },
      { type: 'Annotate_rows', info: stmt, size: 40 + stmt.length, serverId: 1 },
      { type: 'Table_map', info: 'table_id: 70 (app.t)', size: 52, serverId: 1 },
      { type: 'Write_rows_v1', info: 'table_id: 70 flags: STMT_END_F', size: 40 + (i % 7), serverId: 1 },
      { type: 'Xid', info: `COMMIT /* xid=${900 + i} */`, size: 31, serverId: 1 },
    ];
  }
  return [
    gtid === 'anonymous'
      ? { type: 'Anonymous_Gtid', info: "SET @@SESSION.GTID_NEXT= 'ANONYMOUS'", size: 79, serverId: 1 }
      : { type: 'Gtid', info: `SET @@SESSION.GTID_NEXT= '${gtid}'`, size: 79, serverId: 1 },
    { type: 'Query', info: 'BEGIN', size: 75, serverId: 1 },
    { type: 'Rows_query', info: `# ${stmt}`, size: 50 + stmt.length, serverId: 1 },
    { type: 'Table_map', info: 'table_id: 90 (app.t)', size: 50, serverId: 1 },
    { type: 'Write_rows', info: 'table_id: 90 flags: STMT_END_F', size: 45 + (i % 5), serverId: 1 },
    { type: 'Xid', info: `COMMIT /* xid=${300 + i} */`, size: 31, serverId: 1 },
  ];
}

export const MASTER_UUID = '3e11fa47-71ca-11e1-9e33-c80aa9429562';
export const gtidOfTrx = (flavor: 'mysql' | 'mariadb', i: number, gtidMode: boolean) =>
  flavor === 'mariadb' ? `0-1-${i}` : gtidMode ? `${MASTER_UUID}:${i}` : 'anonymous';
/** The GTID position after transaction n. */
export const gtidAfter = (flavor: 'mysql' | 'mariadb', n: number) =>
  flavor === 'mariadb' ? `0-1-${n}` : `${MASTER_UUID}:1-${n}`;

function header(flavor: 'mysql' | 'mariadb', serverId: number): Ev[] {
  return flavor === 'mariadb'
    ? [
        { type: 'Format_desc', info: 'Server ver: 10.11.19-MariaDB-log, Binlog ver: 4', size: 252, serverId },
        { type: 'Gtid_list', info: '[]', size: 29, serverId },
        { type: 'Binlog_checkpoint', info: 'bin.000001', size: 43, serverId },
      ]
    : [
        { type: 'Format_desc', info: 'Server ver: 8.0.40, Binlog ver: 4', size: 122, serverId },
        { type: 'Previous_gtids', info: '', size: 31, serverId },
      ];
}

/** Lays events out in a file from position 4; returns the rows and the end position of each transaction. */
function layout(name: string, events: Ev[]): EventRow[] {
  let pos = 4;
  return events.map((e) => {
    const row = {
      Log_name: name,
      Pos: pos,
      Event_type: e.type,
      Server_id: e.serverId,
      End_log_pos: pos + e.size,
      Info: e.info,
    };
    pos += e.size;
    return row;
  });
}

export interface ClusterLogs {
  /** The old master's binlog (what the relay logs point into). */
  master: LogFile;
  /** The best replica's relay log (old-master End_log_pos) and own binlog. */
  bestRelay: LogFile;
  bestBinlog: LogFile;
  /** The lagging replica's own binlog (its first `lagAt` transactions). */
  laggingBinlog: LogFile;
  /** Old-master coordinates after transaction k. */
  masterAfter(k: number): { file: string; position: number };
  /** Where transaction k starts in the best replica's own binlog. */
  bestStartOf(k: number): { file: string; position: number };
}

export function clusterLogs(flavor: 'mysql' | 'mariadb', total: number, lagAt: number, gtidMode: boolean): ClusterLogs {
  const trx = Array.from({ length: total }, (_, k) => transaction(flavor, k + 1, gtidOfTrx(flavor, k + 1, gtidMode)));
  const master = layout('master-bin.000003', [...header(flavor, 1), ...trx.flat()]);
  const trxEnd = (rows: EventRow[], headerLen: number, k: number) =>
    rows[headerLen + trx.slice(0, k).flat().length - 1]!;
  const h = header(flavor, 1).length;
  // The best replica's relay log: its own format event, the master's (fake) rotate and format event, then the master's events.
  const relayOwn = layout('relay.000002', [{ type: 'Format_desc', info: 'own', size: 252, serverId: 2 }]);
  const masterRows = master;
  const relay: EventRow[] = [...relayOwn];
  let pos = relayOwn.at(-1)!.End_log_pos;
  const push = (type: string, serverId: number, end: number, info: string, size: number) => {
    relay.push({
      Log_name: 'relay.000002',
      Pos: pos,
      Event_type: type,
      Server_id: serverId,
      End_log_pos: end,
      Info: info,
    });
    pos += size;
  };
  push('Rotate', 1, 0, 'master-bin.000003;pos=4', 47);
  for (const r of masterRows) push(r.Event_type, r.Server_id, r.End_log_pos, r.Info, r.End_log_pos - r.Pos);
  // The best replica's own binlog: another file, its own header (with a few more events), the same transactions.
  const bestHeader = [...header(flavor, 2), ...header(flavor, 2).slice(1)];
  const bestBinlog = layout('b-bin.000007', [...bestHeader, ...trx.flat()]);
  const laggingBinlog = layout('t-bin.000002', [...header(flavor, 3), ...trx.slice(0, lagAt).flat()]);
  return {
    master: { name: 'master-bin.000003', events: master },
    bestRelay: { name: 'relay.000002', events: relay },
    bestBinlog: { name: 'b-bin.000007', events: bestBinlog },
    laggingBinlog: { name: 't-bin.000002', events: laggingBinlog },
    masterAfter: (k) => ({ file: 'master-bin.000003', position: trxEnd(master, h, k).End_log_pos }),
    bestStartOf: (k) => ({
      file: 'b-bin.000007',
      position: bestBinlog[bestHeader.length + trx.slice(0, k - 1).flat().length]!.Pos,
    }),
  };
}

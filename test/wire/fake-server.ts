// A fake MySQL/MariaDB server that speaks the real client/server protocol (mysql2 acts as the server), for
// versions no live server can run here. It accepts only what its version's grammar accepts (versions.ts),
// answers with that version's column names, records every statement, and models just enough replication for
// a failover to run through it: threads, coordinates, GTID positions, binlog and relay-log events.
import mysql from 'mysql2';
import type { AddressInfo } from 'node:net';
import { gtidAhead, gtidUnion } from '../../src/binlog/gtid.js';
import { compareCoordinates } from '../../src/binlog/coordinates.js';
import type { VersionProfile } from './versions.js';
import {
  type FakeSemiSync,
  installSemiSyncPlugin,
  masterSide,
  replicaSideOn,
  semiSyncStatus,
  semiSyncVariables,
  setSemiSyncVariable,
  showLike,
} from './fake-semi-sync.js';

export interface Coords {
  file: string;
  position: number;
}
export interface EventRow {
  Log_name: string;
  Pos: number;
  Event_type: string;
  Server_id: number;
  End_log_pos: number;
  Info: string;
}
export interface LogFile {
  name: string;
  events: EventRow[];
}

export interface FakeReplica {
  sourceHost: string;
  sourcePort: number;
  io: 'Yes' | 'No' | 'Connecting';
  sql: boolean;
  received: Coords;
  executed: Coords;
  relay: Coords;
  autoPosition: boolean;
  useGtid: 'No' | 'Slave_Pos' | 'Current_Pos';
  /** MySQL Retrieved_Gtid_Set / MariaDB Gtid_IO_Pos. */
  retrieved: string;
  lastIoError: string;
  /**
   * MySQL 8.0+: the replication account (caching_sha2_password, the default plugin) has logged in over this
   * channel before, so its source has it cached. A new channel without TLS or GET_SOURCE_PUBLIC_KEY to a source
   * that has not cached it fails with error 2061, as the real server does.
   */
  authenticated?: boolean;
  publicKey?: boolean;
  tls?: boolean;
  /** The IO thread started with the semi-sync replica side on (it acknowledges what it receives). */
  semiSyncAck?: boolean;
}

export interface FakeState {
  serverId: number;
  serverUuid: string;
  readOnly: boolean;
  superReadOnly: boolean;
  gtidMode: boolean;
  /** MySQL gtid_executed; MariaDB gtid_binlog_pos = gtid_slave_pos = gtid_current_pos (no local writes here). */
  gtid: string;
  binlog: LogFile[];
  relay: LogFile[];
  replica?: FakeReplica;
  clients: { id: number; user: string; host: string }[];
  /** Some replica logged in here with the replication account (caching_sha2_password caches it). */
  shaCached?: boolean;
  /** The admin account's global privileges (SHOW GRANTS); absent: ALL PRIVILEGES. */
  privileges?: string[];
  /** Semi-sync plugins installed and variables set (fake-semi-sync.ts); absent: none installed, nothing set. */
  semiSync?: FakeSemiSync;
}

/** The parts of mysql2's server-side connection used here (its typings describe only the client side). */
interface ServerConnection {
  sequenceId: number;
  compressedSequenceId: number;
  serverHandshake(args: Record<string, unknown>): void;
  on(event: 'query' | 'stmt_prepare', fn: (sql: string) => void): void;
  on(event: 'error', fn: (err: Error) => void): void;
  writeOk(): void;
  writeColumns(columns: Record<string, unknown>[]): void;
  writeTextRow(values: (string | null)[]): void;
  writeEof(): void;
  writeError(args: { code: number; message: string }): void;
}
interface NetServer {
  on(event: 'connection', fn: (conn: ServerConnection) => void): void;
  listen(port: number, host: string, cb: () => void): void;
  close(cb: () => void): void;
  _server: { address(): AddressInfo };
}

class SqlError extends Error {
  constructor(
    readonly errno: number,
    message: string,
  ) {
    super(message);
  }
}
const syntax = (sql: string) =>
  new SqlError(
    1064,
    `You have an error in your SQL syntax; check the manual that corresponds to your server version for the right syntax to use near '${sql.slice(0, 40)}' at line 1`,
  );

export const binlogEnd = (s: FakeState): Coords => {
  const f = s.binlog.at(-1)!;
  return { file: f.name, position: f.events.at(-1)?.End_log_pos ?? 4 };
};

/** All fake servers of one test, by port: START REPLICA reaches its source through this. */
export class FakeCluster {
  readonly servers = new Map<number, FakeServer>();
  async start(profile: VersionProfile, state: FakeState): Promise<FakeServer> {
    const s = new FakeServer(profile, state, this);
    await s.listen();
    this.servers.set(s.port, s);
    return s;
  }
  async stop(): Promise<void> {
    await Promise.all([...this.servers.values()].map((s) => s.close()));
  }
}

export class FakeServer {
  readonly statements: string[] = [];
  port = 0;
  private server = (mysql.createServer as unknown as () => NetServer)();
  private nextId = 100;

  constructor(
    readonly profile: VersionProfile,
    readonly state: FakeState,
    readonly cluster: FakeCluster,
  ) {}

  listen(): Promise<void> {
    this.server.on('connection', (conn) => {
      conn.serverHandshake({
        protocolVersion: 10,
        serverVersion: this.profile.version,
        connectionId: this.nextId++,
        statusFlags: 2,
        characterSet: 33,
        capabilityFlags: 0xf7ff,
        // Any account is let in; after the OK the client starts its first command at sequence 0.
        authCallback: (_: unknown, done: (err: null) => void) => {
          done(null);
          conn.sequenceId = 0;
        },
      });
      conn.on('error', () => {});
      const answer = (sql: string) => {
        this.statements.push(sql);
        try {
          const r = this.execute(sql.replace(/\s+--\s.*$/s, '').trim()); // a trailing comment, as servers allow
          if (!r) conn.writeOk();
          else {
            conn.writeColumns(
              r.columns.map((name) => ({
                catalog: 'def',
                schema: '',
                table: '',
                orgTable: '',
                name,
                orgName: name,
                characterSet: 33,
                columnLength: 1024,
                columnType: 253,
                flags: 0,
                decimals: 0,
              })),
            );
            for (const row of r.rows)
              conn.writeTextRow(
                r.columns.map((c) => (row[c] === null || row[c] === undefined ? null : String(row[c]))),
              );
            conn.writeEof();
          }
        } catch (err) {
          const e = err as SqlError;
          conn.writeError({ code: e.errno ?? 1105, message: e.message });
        }
        // Every command starts a new packet sequence; mysql2's server side does not reset it by itself.
        conn.sequenceId = 0;
        conn.compressedSequenceId = 0;
      };
      conn.on('query', answer);
      conn.on('stmt_prepare', answer); // mysql2's server hands SET statements over as 'stmt_prepare'
    });
    return new Promise((resolve) => {
      this.server.listen(0, '127.0.0.1', () => {
        this.port = this.server._server.address().port;
        resolve();
      });
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  /** Statements that change or read replication, without the probe's plumbing. */
  replicationStatements(): string[] {
    return this.statements.filter(
      (s) =>
        !/^SELECT (VERSION\(\)|GET_LOCK|IS_USED_LOCK|RELEASE_LOCK|COALESCE|ID AS id)|^SELECT @@server_id AS (server_id|id)|^SELECT @@datadir AS|^SET SESSION |^SHOW ALL (SLAVES|REPLICAS) STATUS$/.test(
          s,
        ),
    );
  }

  private execute(sql: string): { columns: string[]; rows: Record<string, unknown>[] } | undefined {
    const p = this.profile;
    const s = this.state;
    const one = (row: Record<string, unknown>) => ({ columns: Object.keys(row), rows: [row] });
    let m: RegExpExecArray | null;

    if (/^SELECT VERSION\(\) AS version, @@version_comment AS comment$/.test(sql))
      return one({ version: p.version, comment: p.comment });
    if (/^SELECT GET_LOCK\('[^']+', \d+\) AS r$/.test(sql)) return one({ r: 1 });
    if (sql.startsWith('SELECT IS_USED_LOCK(')) return one({ holder: null });
    if (sql.startsWith('SELECT RELEASE_LOCK(')) return one({ r: 1 });
    if (/FROM information_schema\.PROCESSLIST WHERE ID <> CONNECTION_ID\(\)/.test(sql)) {
      return { columns: ['id', 'user', 'host'], rows: s.clients.map((c) => ({ ...c })) };
    }
    if (/FROM information_schema\.INNODB_TRX/.test(sql)) return one({ s: 0 });
    if ((m = /^KILL CONNECTION (\d+)$/.exec(sql))) {
      s.clients = s.clients.filter((c) => c.id !== Number(m![1]));
      return undefined;
    }
    if (sql.startsWith('SELECT @@')) return one(this.variables(sql));
    if (/^SET SESSION (sql_mode|lock_wait_timeout) = /.test(sql)) return undefined;
    if (sql === 'SHOW GRANTS') {
      const privs = s.privileges ? s.privileges.join(', ') : 'ALL PRIVILEGES';
      return {
        columns: ['Grants for admin@%'],
        rows: [{ 'Grants for admin@%': `GRANT ${privs} ON *.* TO \`admin\`@\`%\`` }],
      };
    }
    if (sql.startsWith('SELECT Host AS host, plugin FROM mysql.user WHERE User = ')) {
      return {
        columns: ['host', 'plugin'],
        rows: [{ host: '%', plugin: p.flavor === 'mysql' ? 'caching_sha2_password' : 'mysql_native_password' }],
      };
    }
    if ((m = /^SET GLOBAL gtid_slave_pos = '([\d,-]*)'$/.exec(sql))) {
      if (p.flavor !== 'mariadb') throw new SqlError(1193, "Unknown system variable 'gtid_slave_pos'");
      const r = s.replica;
      if (r && (r.sql || r.io !== 'No')) {
        throw new SqlError(
          1198,
          "This operation cannot be performed as you have a running slave ''; run STOP SLAVE '' first",
        );
      }
      s.gtid = m[1]!;
      return undefined;
    }
    if ((m = /^SET GLOBAL (super_read_only|read_only) = (ON|OFF)$/.exec(sql))) {
      if (!p.variables.includes(m[1]!)) throw new SqlError(1193, `Unknown system variable '${m[1]}'`);
      // MariaDB 10.11+: SUPER no longer covers read_only (MDEV-29596; checked on 10.11.19).
      const [maj, min] = p.version.split('.').map(Number) as [number, number];
      const strict = p.flavor === 'mariadb' && (maj > 10 || (maj === 10 && min >= 11));
      if (strict && s.privileges && !s.privileges.includes('READ_ONLY ADMIN')) {
        throw new SqlError(
          1227,
          'Access denied; you need (at least one of) the READ_ONLY ADMIN privilege(s) for this operation',
        );
      }
      const on = m[2] === 'ON';
      if (m[1] === 'read_only') {
        if (!on && s.superReadOnly) s.superReadOnly = false;
        s.readOnly = on;
      } else {
        s.superReadOnly = on;
        if (on) s.readOnly = true;
      }
      return undefined;
    }
    const semi = this.semiSyncStatement(sql);
    if (semi !== 'not semi-sync') return semi;
    const wait =
      /^SELECT (MASTER_GTID_WAIT|WAIT_FOR_EXECUTED_GTID_SET|MASTER_POS_WAIT|SOURCE_POS_WAIT)\((.*)\) AS r$/.exec(sql);
    if (wait) return one({ r: this.wait(wait[1]!, wait[2]!) });

    // ---- statements whose spelling depends on the version ----
    const words = /^(SHOW|START|STOP|RESET) (SLAVE|REPLICA)\b/.exec(sql);
    if (words) {
      if ((words[2] === 'SLAVE' && !p.slaveWords) || (words[2] === 'REPLICA' && !p.replicaWords)) throw syntax(sql);
    }
    if (/^SHOW ALL (SLAVES|REPLICAS) STATUS$/.test(sql)) {
      if (p.flavor !== 'mariadb') throw syntax(sql);
      return {
        columns: ['Connection_name', ...p.replicaStatusColumns],
        rows: s.replica ? [{ Connection_name: '' }] : [],
      };
    }
    if (/^SHOW (SLAVE|REPLICA) STATUS$/.test(sql)) {
      const slave = /SLAVE/.test(sql);
      const columns = (slave && p.slaveStatusColumns) || p.replicaStatusColumns;
      if (!s.replica) return { columns, rows: [] };
      return { columns, rows: [this.replicaRow(!slave && p.flavor === 'mysql')] };
    }
    if (sql === 'SHOW MASTER STATUS' || sql === 'SHOW BINARY LOG STATUS') {
      if (
        (sql === 'SHOW MASTER STATUS' && !p.showMasterStatus) ||
        (sql === 'SHOW BINARY LOG STATUS' && !p.showBinaryLogStatus)
      )
        throw syntax(sql);
      const end = binlogEnd(s);
      return {
        columns: p.binlogStatusColumns,
        rows: [
          { File: end.file, Position: end.position, Binlog_Do_DB: '', Binlog_Ignore_DB: '', Executed_Gtid_Set: s.gtid },
        ],
      };
    }
    if (sql === 'SHOW BINARY LOGS')
      return {
        columns: ['Log_name', 'File_size'],
        rows: s.binlog.map((f) => ({ Log_name: f.name, File_size: f.events.at(-1)?.End_log_pos ?? 4 })),
      };
    if ((m = /^SHOW (BINLOG|RELAYLOG) EVENTS IN '([^']+)' FROM (\d+) LIMIT (\d+), (\d+)$/.exec(sql))) {
      const file = (m[1] === 'BINLOG' ? s.binlog : s.relay).find((f) => f.name === m![2]);
      if (!file) throw new SqlError(1220, 'Error when executing command SHOW BINLOG EVENTS: Could not find target log');
      const from = Number(m[3]);
      const start = file.events.findIndex((e) => e.Pos === from);
      if (start < 0 && from !== 4)
        throw new SqlError(1220, 'Error when executing command SHOW BINLOG EVENTS: Wrong offset or I/O error');
      const rows = file.events.slice(
        Math.max(start, 0) + Number(m[4]),
        Math.max(start, 0) + Number(m[4]) + Number(m[5]),
      );
      return {
        columns: ['Log_name', 'Pos', 'Event_type', 'Server_id', 'End_log_pos', 'Info'],
        rows: rows as unknown as Record<string, unknown>[],
      };
    }
    if ((m = /^(STOP|START) (?:SLAVE|REPLICA)(?: (IO_THREAD|SQL_THREAD))?(?: UNTIL (.*))?$/.exec(sql))) {
      this.threads(m[1] as 'STOP' | 'START', m[2] as 'IO_THREAD' | 'SQL_THREAD' | undefined, m[3]);
      return undefined;
    }
    if (/^RESET (SLAVE|REPLICA) ALL$/.test(sql)) {
      if (s.replica && (s.replica.io !== 'No' || s.replica.sql))
        throw new SqlError(1198, 'This operation cannot be performed with a running replica; run STOP REPLICA first');
      delete s.replica;
      return undefined;
    }
    if ((m = /^CHANGE (MASTER|REPLICATION SOURCE) TO (.*)$/.exec(sql))) {
      this.change(m[1] === 'MASTER' ? 'MASTER' : 'SOURCE', m[2]!, sql);
      return undefined;
    }
    throw syntax(sql);
  }

  /** Semi-sync's statements (fake-semi-sync.ts), or 'not semi-sync'. */
  private semiSyncStatement(
    sql: string,
  ): { columns: string[]; rows: Record<string, unknown>[] } | undefined | 'not semi-sync' {
    const p = this.profile;
    const ss = (this.state.semiSync ??= { plugins: [], vars: {} });
    const mariadb = p.flavor === 'mariadb';
    let m: RegExpExecArray | null;
    if ((m = /^SHOW GLOBAL VARIABLES LIKE '([^']*)'$/.exec(sql))) {
      return showLike(semiSyncVariables(p.semiSync, ss, mariadb), m[1]!);
    }
    if ((m = /^SHOW GLOBAL STATUS LIKE '([^']*)'$/.exec(sql))) {
      const clients = [...this.cluster.servers.values()].filter((x) => {
        const r = x.state.replica;
        return r && r.sourcePort === this.port && r.io === 'Yes' && r.semiSyncAck;
      }).length;
      const src = this.source();
      const acking =
        this.state.replica?.io === 'Yes' &&
        !!this.state.replica.semiSyncAck &&
        !!src &&
        masterSide(src.profile.semiSync, src.state.semiSync ?? { plugins: [], vars: {} }, mariadb).on;
      return showLike(semiSyncStatus(p.semiSync, ss, mariadb, { clients, acking }), m[1]!);
    }
    if ((m = /^SET GLOBAL (rpl_semi_sync_\w+) = (\w+)$/.exec(sql))) {
      setSemiSyncVariable(p.semiSync, ss, mariadb, m[1]!, m[2]!);
      return undefined;
    }
    if ((m = /^INSTALL PLUGIN (\w+) SONAME '([^']+)'$/.exec(sql))) {
      installSemiSyncPlugin(p.semiSync, ss, m[1]!, m[2]!);
      return undefined;
    }
    m =
      /^SELECT PLUGIN_NAME AS name FROM information_schema\.PLUGINS WHERE PLUGIN_NAME IN \((.*)\) AND PLUGIN_STATUS = 'ACTIVE'$/.exec(
        sql,
      );
    if (m) {
      const names = [...m[1]!.matchAll(/'([^']+)'/g)].map((x) => x[1]!);
      return { columns: ['name'], rows: ss.plugins.filter((x) => names.includes(x)).map((name) => ({ name })) };
    }
    return 'not semi-sync';
  }

  private variables(sql: string): Record<string, unknown> {
    const p = this.profile;
    const s = this.state;
    const row: Record<string, unknown> = {};
    for (const m of sql.replace(/^SELECT /, '').split(/,\s*/)) {
      const v = /^@@(?:global\.)?(\w+) AS (\w+)$/.exec(m.trim());
      if (!v) throw syntax(sql);
      const name = v[1]!;
      // Every version has hostname and port (mmmf reads them as the server's identity).
      const always = name === 'hostname' || name === 'port';
      if (!always && !p.variables.includes(name)) throw new SqlError(1193, `Unknown system variable '${name}'`);
      const values: Record<string, unknown> = {
        server_id: s.serverId,
        hostname: 'fake-host',
        port: this.port,
        read_only: s.readOnly ? 1 : 0,
        super_read_only: s.superReadOnly ? 1 : 0,
        log_bin: 1,
        binlog_format: 'ROW',
        relay_log_purge: 0,
        version_comment: p.comment,
        log_slave_updates: 1,
        log_replica_updates: 1,
        slave_net_timeout: 60,
        gtid_strict_mode: 1,
        replica_net_timeout: 60,
        gtid_executed: s.gtid,
        gtid_mode: s.gtidMode ? 'ON' : 'OFF',
        enforce_gtid_consistency: s.gtidMode ? 'ON' : 'OFF',
        server_uuid: s.serverUuid,
        gtid_binlog_pos: s.gtid,
        gtid_slave_pos: s.gtid,
        gtid_current_pos: s.gtid,
        gtid_binlog_state: s.gtid,
        datadir: '/var/lib/mysql/',
        log_bin_basename: '/var/lib/mysql/mysql-bin',
        log_bin_index: '/var/lib/mysql/mysql-bin.index',
      };
      row[v[2]!] = values[name];
    }
    return row;
  }

  private replicaRow(sourceNames: boolean): Record<string, unknown> {
    const r = this.state.replica!;
    const p = this.profile;
    const idle =
      p.flavor === 'mysql' && sourceNames
        ? 'Replica has read all relay log; waiting for more updates'
        : 'Slave has read all relay log; waiting for more updates';
    const v: Record<string, unknown> = {
      IO_State:
        r.io === 'Yes'
          ? 'Waiting for master to send event'
          : r.io === 'Connecting'
            ? 'Reconnecting after a failed master event read'
            : '',
      Host: r.sourceHost,
      User: 'repl',
      Port: r.sourcePort,
      Connect_Retry: 1,
      Log_File: r.received.file,
      Read_Log_Pos: r.received.position,
      Relay_Log_File: r.relay.file,
      Relay_Log_Pos: r.relay.position,
      Relay_Log_File_Source: r.executed.file,
      IO_Running: r.io,
      SQL_Running: r.sql ? 'Yes' : 'No',
      Exec_Log_Pos: r.executed.position,
      Last_Errno: 0,
      Last_Error: '',
      Seconds_Behind: r.io === 'Yes' && r.sql ? 0 : null,
      Last_IO_Errno: r.lastIoError ? 2003 : 0,
      Last_IO_Error: r.lastIoError,
      Last_SQL_Errno: 0,
      Last_SQL_Error: '',
      Retrieved_Gtid_Set: r.retrieved,
      Executed_Gtid_Set: this.state.gtid,
      Auto_Position: r.autoPosition ? 1 : 0,
      Using_Gtid: r.useGtid,
      Gtid_IO_Pos: r.useGtid === 'No' ? '' : r.retrieved,
      SQL_Running_State: r.sql ? idle : '',
      // The source's server_id as seen on the last connection (the old master's, 1, until repointed).
      Server_Id: this.source()?.state.serverId ?? 1,
    };
    const key = (c: string) =>
      c
        .replace(/^(Slave|Replica)_IO_State$/, 'IO_State')
        .replace(/^(Master|Source)_Host$/, 'Host')
        .replace(/^(Master|Source)_User$/, 'User')
        .replace(/^(Master|Source)_Port$/, 'Port')
        .replace(/^(Master|Source)_Log_File$/, 'Log_File')
        .replace(/^Read_(Master|Source)_Log_Pos$/, 'Read_Log_Pos')
        .replace(/^Relay_(Master|Source)_Log_File$/, 'Relay_Log_File_Source')
        .replace(/^(Slave|Replica)_IO_Running$/, 'IO_Running')
        .replace(/^(Slave|Replica)_SQL_Running$/, 'SQL_Running')
        .replace(/^Exec_(Master|Source)_Log_Pos$/, 'Exec_Log_Pos')
        .replace(/^Seconds_Behind_(Master|Source)$/, 'Seconds_Behind')
        .replace(/^(Slave|Replica)_SQL_Running_State$/, 'SQL_Running_State')
        .replace(/^(Master|Source)_Server_Id$/, 'Server_Id');
    const row: Record<string, unknown> = {};
    for (const c of p.replicaStatusColumns)
      row[c] = key(c) in v ? v[key(c)] : /Errno|Skip|Pos$|Delay$|Allowed|Groups/.test(c) ? 0 : '';
    return row;
  }

  private source(): FakeServer | undefined {
    const r = this.state.replica;
    return r
      ? [...this.cluster.servers.values()].find((x) => x.port === r.sourcePort && r.sourceHost === '127.0.0.1')
      : undefined;
  }

  private threads(
    verb: 'STOP' | 'START',
    which: 'IO_THREAD' | 'SQL_THREAD' | undefined,
    until: string | undefined,
  ): void {
    const r = this.state.replica;
    if (!r && verb === 'STOP') return; // both flavors only warn when nothing is configured
    if (!r)
      throw new SqlError(
        1200,
        'The server is not configured as replica; fix in config file or with CHANGE REPLICATION SOURCE TO',
      );
    if (verb === 'STOP') {
      if (which !== 'SQL_THREAD') r.io = 'No';
      if (which !== 'SQL_THREAD') r.semiSyncAck = false;
      if (which !== 'IO_THREAD') r.sql = false;
      return;
    }
    if (until) this.checkUntil(until);
    const src = this.source();
    if (which !== 'SQL_THREAD') {
      const sha = this.profile.flavor === 'mysql' && !this.profile.version.startsWith('5.');
      if (src && sha && !r.authenticated && !r.publicKey && !r.tls && !src.state.shaCached) {
        r.io = 'Connecting';
        r.lastIoError =
          `error connecting to master 'repl@127.0.0.1:${r.sourcePort}' - retry-time: 1 retries: 1 message: ` +
          "Authentication plugin 'caching_sha2_password' reported error: Authentication requires secure connection.";
        return;
      }
      if (src) {
        r.authenticated = true;
        src.state.shaCached = true;
        r.io = 'Yes';
        // The replica side is read when the IO thread starts (a later SET GLOBAL changes nothing until a restart).
        r.semiSyncAck = replicaSideOn(
          this.profile.semiSync,
          this.state.semiSync ?? { plugins: [], vars: {} },
          this.profile.flavor === 'mariadb',
        );
        r.lastIoError = '';
        r.received = binlogEnd(src.state);
        r.retrieved = src.state.gtid;
      } else {
        r.io = 'Connecting';
        r.lastIoError = `error reconnecting to master 'repl@127.0.0.1:${r.sourcePort}' - retry-time: 1  maximum-retries: 86400  message: Can't connect to MySQL server on '127.0.0.1' (111 "Connection refused")`;
      }
    }
    if (which === 'IO_THREAD') {
      if (r.sql) this.applyReceived(); // a running SQL thread applies what arrives
      return;
    }
    // The SQL thread applies everything received (instantly), or up to the UNTIL position and then stops.
    const gtidUntil = until && /^(?:SQL_AFTER_GTIDS|master_gtid_pos) = '([^']*)'$/.exec(until);
    const posUntil = until && /^(?:MASTER|SOURCE)_LOG_FILE = '([^']+)', (?:MASTER|SOURCE)_LOG_POS = (\d+)$/.exec(until);
    if (gtidUntil) {
      this.state.gtid = gtidUnion(this.profile.flavor, this.state.gtid, gtidUntil[1]!);
      r.executed = { ...r.received };
      r.sql = false;
    } else if (posUntil) {
      r.executed = { file: posUntil[1]!, position: Number(posUntil[2]) };
      if (src) this.state.gtid = gtidUnion(this.profile.flavor, this.state.gtid, src.state.gtid);
      r.sql = false;
    } else {
      r.sql = true;
      this.applyReceived();
    }
  }

  private applyReceived(): void {
    const r = this.state.replica!;
    r.executed = { ...r.received };
    if (r.retrieved) this.state.gtid = gtidUnion(this.profile.flavor, this.state.gtid, r.retrieved);
  }

  private checkUntil(until: string): void {
    const p = this.profile;
    if (until.startsWith("SQL_AFTER_GTIDS = '") && p.flavor === 'mysql') return;
    if (until.startsWith("master_gtid_pos = '") && p.flavor === 'mariadb') return;
    if (until.startsWith('MASTER_LOG_FILE = ') && p.untilMaster) return;
    if (until.startsWith('SOURCE_LOG_FILE = ') && p.untilSource) return;
    throw syntax(`UNTIL ${until}`);
  }

  private change(words: 'MASTER' | 'SOURCE', options: string, sql: string): void {
    const p = this.profile;
    if ((words === 'MASTER' && !p.changeMaster) || (words === 'SOURCE' && !p.changeSource)) throw syntax(sql);
    const opts = new Map<string, string>();
    for (const m of options.matchAll(/(\w+) = ('(?:[^'\\]|\\.)*'|\w+)/g)) opts.set(m[1]!, m[2]!.replace(/^'|'$/g, ''));
    for (const k of opts.keys()) {
      const prefix = k.split('_')[0];
      const known =
        ['RELAY'].includes(prefix!) ||
        (prefix === words &&
          /^(\w+?)_(HOST|PORT|USER|PASSWORD|LOG_FILE|LOG_POS|CONNECT_RETRY|AUTO_POSITION|USE_GTID|SSL|SSL_CA|SSL_CERT|SSL_KEY|SSL_VERIFY_SERVER_CERT)$/.test(
            k,
          )) ||
        // MySQL 8.0+: fetch the source's RSA key for caching_sha2_password over a plaintext channel.
        (k === `GET_${words}_PUBLIC_KEY` && p.flavor === 'mysql' && !p.version.startsWith('5.'));
      if (
        !known ||
        (k.endsWith('_USE_GTID') && p.flavor !== 'mariadb') ||
        (k.endsWith('_AUTO_POSITION') && p.flavor !== 'mysql')
      )
        throw syntax(sql);
    }
    const r = this.state.replica;
    if (r && (r.io !== 'No' || r.sql))
      throw new SqlError(1198, 'This operation cannot be performed with a running replica; run STOP REPLICA first');
    const get = (name: string) => opts.get(`${words}_${name}`);
    const next: FakeReplica = r
      ? { ...r }
      : {
          sourceHost: '',
          sourcePort: 0,
          io: 'No',
          sql: false,
          received: { file: '', position: 4 },
          executed: { file: '', position: 4 },
          relay: { file: 'relay.000001', position: 4 },
          autoPosition: false,
          useGtid: 'No',
          retrieved: '',
          lastIoError: '',
        };
    if (get('HOST')) next.sourceHost = get('HOST')!;
    if (get('PORT')) next.sourcePort = Number(get('PORT'));
    if (get('AUTO_POSITION') !== undefined) next.autoPosition = get('AUTO_POSITION') === '1';
    if (get('USE_GTID') !== undefined)
      next.useGtid = get('USE_GTID') === 'no' ? 'No' : get('USE_GTID') === 'current_pos' ? 'Current_Pos' : 'Slave_Pos';
    if (get('LOG_FILE')) {
      next.received = next.executed = { file: get('LOG_FILE')!, position: Number(get('LOG_POS') ?? 4) };
    }
    if (get('HOST')) {
      next.retrieved = '';
      next.authenticated = false;
    }
    if (opts.has(`GET_${words}_PUBLIC_KEY`)) next.publicKey = opts.get(`GET_${words}_PUBLIC_KEY`) === '1';
    if (get('SSL') !== undefined) next.tls = get('SSL') === '1';
    this.state.replica = next;
  }

  private wait(fn: string, args: string): number | null {
    const s = this.state;
    const a = /^'([^']*)', (\d+)(?:, (\d+))?$/.exec(args);
    if (!a) throw syntax(fn);
    const p = this.profile;
    if ((fn === 'MASTER_POS_WAIT' && !p.masterPosWait) || (fn === 'SOURCE_POS_WAIT' && !p.sourcePosWait))
      throw new SqlError(1305, `FUNCTION ${fn} does not exist`);
    if (
      (fn === 'MASTER_GTID_WAIT' && p.flavor !== 'mariadb') ||
      (fn === 'WAIT_FOR_EXECUTED_GTID_SET' && p.flavor !== 'mysql')
    )
      throw new SqlError(1305, `FUNCTION ${fn} does not exist`);
    if (fn === 'MASTER_GTID_WAIT' || fn === 'WAIT_FOR_EXECUTED_GTID_SET') {
      return gtidAhead(p.flavor, a[1]!, s.gtid) === 0 ? 0 : fn === 'MASTER_GTID_WAIT' ? -1 : 1;
    }
    const r = s.replica;
    if (!r) return null;
    return compareCoordinates(r.executed, { file: a[1]!, position: Number(a[2]) }) >= 0 ? 0 : r.sql ? -1 : null;
  }
}

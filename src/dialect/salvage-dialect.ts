import type { ServerVersion } from '../domain/server-state.js';
import type { Tls } from '../domain/tls.js';
import { atLeast } from './capabilities.js';
import { type Dialect, quote } from './dialect.js';

// How each flavor and version spells what salvaging a dead master's binlog needs: the tools that decode and
// apply binlog bytes, the statements around the apply, and where a server keeps its binlogs. Part of the
// dialect: no statement of it is spelled anywhere else.

/** Server-wide advisory lock the apply session holds while it applies: a resumed run finds (and ends) it by it. */
export const SALVAGE_LOCK = 'mmmf-salvage-apply';

/** Where a server keeps its data and binlogs, as column names of binlogLocationSql. */
export function binlogLocationSql(): string {
  return 'SELECT @@datadir AS datadir, @@log_bin_basename AS log_bin_basename, @@log_bin_index AS log_bin_index';
}

/**
 * The programs that decode binlog bytes into SQL and apply it, as the server's own packages name them:
 * MariaDB 10.5+ ships `mariadb-binlog` and `mariadb` (the `mysql*` names are compatibility links that later
 * versions drop), older MariaDB and every MySQL `mysqlbinlog` and `mysql`. Each flavor's decoder reads only
 * its own binlog format (MySQL 8's transaction payload events, MariaDB's compressed events): they run on the
 * monitor host, which must have the client package of the cluster's flavor.
 * Example: `replayTools(v)` → `{ decode: 'mariadb-binlog', apply: 'mariadb', flavor: 'mariadb' }`
 */
export function replayTools(v: ServerVersion): { decode: string; apply: string; flavor: ServerVersion['flavor'] } {
  if (v.flavor === 'mariadb' && atLeast(v, 10, 5))
    return { decode: 'mariadb-binlog', apply: 'mariadb', flavor: 'mariadb' };
  return { decode: 'mysqlbinlog', apply: 'mysql', flavor: v.flavor };
}

/**
 * The decoder's arguments: no option file (a monitor host's ~/.my.cnf must not change what is decoded), the
 * stream from stdin. Its exit code proves little (it exits 0 on a truncated file), so the bytes it gets were
 * checked event by event before, and they end with a complete transaction. MariaDB's decoder leaves out the
 * statement text it prints as comments beside row events (Annotate_rows: a third of a 10 MB salvage's SQL,
 * never applied).
 */
export function decodeArgs(v: ServerVersion): string[] {
  return v.flavor === 'mariadb' ? ['--no-defaults', '--skip-annotate-row-events', '-'] : ['--no-defaults', '-'];
}

/**
 * The apply client's arguments: only the private option file mmmf writes (connection and password, never on a
 * command line), bytes passed as they are (`--binary-mode`: a NUL or `\r\n` in a value is data, not a command),
 * and no reconnect: a session that lost its connection must stop, never carry on with the next statements.
 */
export function applyArgs(optionFile: string): string[] {
  return [`--defaults-file=${optionFile}`, '--binary-mode', '--skip-reconnect', '--batch'];
}

/** How to reach a server from the monitor host: what mmmf's own connection uses. */
export interface ClientTarget {
  host: string;
  port: number;
  socket?: string;
  user: string;
  password: string;
  ssl?: Tls;
}

/** An option-file value: quoted, with the escapes option files understand. */
const optionValue = (s: string) =>
  `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n').replace(/\r/g, '\\r')}"`;

/**
 * The `[client]` option file the apply client reads (mode 0600, in the private state folder): the account and
 * its password stay off every command line and out of the process list. TLS as mmmf's own connection has it,
 * spelled per flavor (MySQL 8 dropped --ssl-verify-server-cert for --ssl-mode).
 */
export function clientOptionFile(v: ServerVersion, t: ClientTarget): string {
  const lines = ['[client]', `user=${optionValue(t.user)}`, `password=${optionValue(t.password)}`];
  if (t.socket) lines.push(`socket=${optionValue(t.socket)}`);
  else lines.push(`host=${optionValue(t.host)}`, `port=${t.port}`, 'protocol=TCP');
  const ssl = t.ssl;
  if (ssl) {
    if (ssl.ca) lines.push(`ssl-ca=${optionValue(ssl.ca)}`);
    if (ssl.cert) lines.push(`ssl-cert=${optionValue(ssl.cert)}`);
    if (ssl.key) lines.push(`ssl-key=${optionValue(ssl.key)}`);
    const verify = ssl.verifyServerCert !== false;
    if (v.flavor === 'mysql') lines.push(`ssl-mode=${verify ? 'VERIFY_IDENTITY' : 'REQUIRED'}`);
    else lines.push(verify ? 'ssl-verify-server-cert' : 'ssl');
  }
  return lines.join('\n') + '\n';
}

/**
 * The first statement the apply session runs: it takes the salvage lock, so a run resumed after this one was
 * killed finds the session (IS_USED_LOCK) and ends it before it reads what was applied.
 */
export function takeSalvageLockSql(): string {
  return `DO GET_LOCK(${quote(SALVAGE_LOCK)}, 0)`;
}

/** Column `holder`: the connection applying a salvage right now, or NULL. */
export function salvageLockHolderSql(): string {
  return `SELECT IS_USED_LOCK(${quote(SALVAGE_LOCK)}) AS holder`;
}

/**
 * Around the apply on MySQL: super_read_only stops even privileged clients (the replication applier is exempt,
 * a client session is not), so it is lifted for the apply and set again afterwards; read_only stays on, so
 * applications still cannot write. MariaDB has none: its read_only lets an account with READ_ONLY ADMIN write.
 */
export function liftSuperReadOnly(d: Dialect): { read: string; off: string; on: string } | undefined {
  if (!d.hasSuperReadOnly) return undefined;
  return {
    read: 'SELECT @@global.super_read_only AS s',
    off: 'SET GLOBAL super_read_only = OFF',
    on: 'SET GLOBAL super_read_only = ON',
  };
}

/**
 * MariaDB: replayed transactions keep the old master's server_id in their GTIDs, and gtid_slave_pos (so also
 * gtid_current_pos) does not move for them. Set it to the position after them, replication stopped, so the
 * replica continues after them and equalization waits for them. MySQL keeps the GTIDs in gtid_executed itself.
 * Example: `fixGtidSlavePosSql(d, '0-1-1527')` → `SET GLOBAL gtid_slave_pos = '0-1-1527'`.
 */
export function fixGtidSlavePosSql(d: Dialect, position: string): string | undefined {
  return d.isMariadb ? `SET GLOBAL gtid_slave_pos = ${quote(position)}` : undefined;
}

/**
 * The privilege that lets an account replay binlog events (the BINLOG statement, and the session's server_id,
 * GTID and timestamp the decoded stream sets): MariaDB 10.5.2 split BINLOG REPLAY off SUPER; MySQL 8.0.18
 * added REPLICATION_APPLIER beside SUPER.
 * Example: `{ what: 'replaying a dead master's binlog (salvage)', anyOf: ['BINLOG REPLAY', 'SUPER'] }`
 */
export function replayPrivilege(v: ServerVersion): { what: string; anyOf: string[] } {
  const what = "replaying a dead master's binlog (salvage)";
  if (v.flavor === 'mariadb') return { what, anyOf: atLeast(v, 10, 5, 2) ? ['BINLOG REPLAY', 'SUPER'] : ['SUPER'] };
  return { what, anyOf: atLeast(v, 8, 0, 18) ? ['REPLICATION_APPLIER', 'SUPER'] : ['SUPER'] };
}

/**
 * The apply client runs under `setpriv --pdeathsig KILL` (util-linux): should mmmf die while it applies, the
 * kernel ends the client too. A run resumed after it then finds a finished or killed session, never one still
 * writing while the resumed run decides what is left to apply.
 */
export const DIE_WITH_MMMF = ['setpriv', '--pdeathsig', 'KILL'];

/**
 * How a plan shows the local commands of one file's replay, as a person would run them: decode the checked
 * bytes into a private SQL file (its statements joined into batches where their bounds are certain:
 * salvage-batch.ts), then apply that file in one session of the apply client.
 */
export function replayCommandLine(v: ServerVersion): string {
  const t = replayTools(v);
  const apply = [...DIE_WITH_MMMF, t.apply, ...applyArgs('<private option file>')].join(' ');
  return `${t.decode} ${decodeArgs(v).join(' ')} < <checked bytes> > <private SQL file, statements batched>; ${apply} < <private SQL file>`;
}

import { dialectFor } from '../dialect/dialect.js';
import type { AccountFacts, HostState, ReplicaHost } from '../domain/server-state.js';
import type { ResolvedConfig } from '../topology/config-types.js';
import { errantTransactions, onOff } from './replica-facts.js';

/** One thing `mmmf check` found. Errors make a failover fail or be refused; warnings deserve a look. */
export interface Finding {
  level: 'error' | 'warning';
  host?: string;
  message: string;
  fix: string;
}

/** What a check of one replica may look at. */
export interface ReplicaCheckInput {
  config: ResolvedConfig;
  s: ReplicaHost;
  states: HostState[];
  /** The cluster fails over by file and position. */
  byFile: boolean;
  accounts: Map<string, AccountFacts>;
  /** The active side of a master-master pair: it replicates, but it is the master (writable on purpose). */
  active: string | undefined;
}

/** One named check of a replica; its findings are about that replica. */
export interface ReplicaCheck {
  name: string;
  check(x: ReplicaCheckInput): Omit<Finding, 'host'>[];
}

/** A replica this far behind is worth a look: a failover will have to equalize it. */
const LAG_WARNING_SECONDS = 60;
/** Above this, --if-dead waits long for replicas to agree that a hung master is gone (the default is 60 s). */
const NET_TIMEOUT_WARNING_SECONDS = 30;

const warning = (message: string, fix: string) => [{ level: 'warning' as const, message, fix }];
const error = (message: string, fix: string) => [{ level: 'error' as const, message, fix }];

/** Every check `mmmf check` runs on each replica, in the order its findings are listed. */
export const REPLICA_CHECKS: readonly ReplicaCheck[] = [
  { name: 'relay logs kept for mapping by file', check: relayLogPurge },
  { name: 'delayed replica', check: delayed },
  { name: 'a hung master is noticed soon', check: netTimeout },
  { name: 'GTIDs in strict order', check: gtidStrictMode },
  { name: 'replication runs, close behind', check: replicating },
  { name: 'read-only', check: readOnly },
  { name: 'can be a source', check: binlogs },
  { name: 'no errant transactions', check: errant },
  { name: 'the replication user exists', check: replicationUser },
  { name: 'the replication user logs in safely', check: replicationUserPlugin },
];

/** The findings of every check on one replica, each naming it. */
export function replicaFindings(x: ReplicaCheckInput): Finding[] {
  return REPLICA_CHECKS.flatMap((c) =>
    c.check(x).map((f) => ({ level: f.level, host: x.s.name, message: f.message, fix: f.fix })),
  );
}

function relayLogPurge({ s, byFile }: ReplicaCheckInput) {
  if (!byFile || !s.relayLogPurge) return [];
  return warning(
    'relay_log_purge=ON, and this cluster fails over by file and position: when this replica is the best one, ' +
      'positions further back than its relay log are found in its binlog by GTID (MariaDB), or by a unique run of ' +
      'transactions (MySQL without GTIDs), and left stopped when that fails',
    'SET GLOBAL relay_log_purge = OFF (and in my.cnf) for the most direct evidence; applied relay logs then stay ' +
      'until the replica is repointed or reset, so watch their disk use',
  );
}

function delayed({ s, byFile }: ReplicaCheckInput) {
  if (s.replica.sqlDelay <= 0) return [];
  return warning(
    `delayed by ${s.replica.sqlDelay} s (MASTER_DELAY): a failover does not wait for it and never promotes it unless ` +
      `named; it follows the new master afterwards with its delay${byFile ? ' (by file: it is left stopped)' : ''}`,
    'nothing to do; to keep what only it received, a failover needs --lift-delay',
  );
}

function netTimeout({ s }: ReplicaCheckInput) {
  if (s.netTimeout === undefined || s.netTimeout <= NET_TIMEOUT_WARNING_SECONDS) return [];
  const d = dialectFor(s.version);
  const name = d.caps.logReplicaUpdates ? 'replica_net_timeout' : 'slave_net_timeout';
  return warning(
    `${name} = ${s.netTimeout} s: this replica notices a hung or cut-off master only after that long, and ` +
      'mmmf --if-dead refuses (exit 3, the next run looks again) while any replica is still connected to it',
    `${d.shortNetTimeout(10).join('; ')} (and ${name} = 10 in my.cnf)`,
  );
}

function gtidStrictMode({ s, byFile }: ReplicaCheckInput) {
  if (s.gtidStrictMode !== false || byFile) return [];
  return warning(
    'gtid_strict_mode=OFF: a GTID written twice or out of order (an errant write, a misconfigured domain) is ' +
      'accepted silently here, so GTID positions may not mean what mmmf compares',
    'SET GLOBAL gtid_strict_mode = ON (and in my.cnf)',
  );
}

function replicating({ s }: ReplicaCheckInput) {
  const r = s.replica;
  if (r.ioRunning !== 'Yes' || !r.sqlRunning) {
    const io = r.lastIoError ? `; IO error: ${r.lastIoError}` : '';
    const sql = r.lastSqlError ? `; SQL error: ${r.lastSqlError}` : '';
    return error(
      `replication not running (IO ${r.ioRunning}, SQL ${r.sqlRunning ? 'Yes' : 'No'})${io}${sql}`,
      `fix the error and ${dialectFor(s.version).startReplication()}; a stopped replica falls behind and may be ` +
        'left out',
    );
  }
  if (r.sqlDelay !== 0 || (r.secondsBehind ?? 0) <= LAG_WARNING_SECONDS) return [];
  return warning(`${r.secondsBehind} s behind its master`, 'a failover will have to equalize it; find out why it lags');
}

function readOnly({ s, active }: ReplicaCheckInput) {
  if (s.readOnly || s.name === active) return [];
  const readOnlyOn = dialectFor(s.version).setReadOnly(true).join('; ');
  const fix = `${readOnlyOn} (and in my.cnf): writes here become errant transactions`;
  return warning('read_only is OFF on a replica', fix);
}

function binlogs({ s }: ReplicaCheckInput) {
  if (s.logBin && s.logReplicaUpdates) return [];
  return error(
    `log_bin=${onOff(s.logBin)}, log_slave_updates=${onOff(s.logReplicaUpdates)}: it can be neither the new master ` +
      'nor the source that equalizes others',
    'enable log_bin and log_slave_updates in my.cnf and restart',
  );
}

function errant({ s, states }: ReplicaCheckInput) {
  const gtids = errantTransactions(s, states);
  if (!gtids.length) return [];
  return error(
    `errant transactions ${gtids.join(', ')} (written on the replica itself)`,
    'remove them (or inject empty transactions on the master) or rebuild the replica',
  );
}

function replicationUser({ s, accounts, config }: ReplicaCheckInput) {
  const users = accounts.get(s.name)?.replicationUserHosts;
  if (users && 'error' in users) {
    const fix = 'grant SELECT on mysql.user to the admin account, or check by hand';
    return warning(`cannot check for the replication user: ${users.error}`, fix);
  }
  if (!users || users.length) return [];
  const user = config.replication.user;
  return error(
    `replication user '${user}' does not exist here: other replicas could not replicate from it`,
    `CREATE USER '${user}'@'%' ... ; GRANT REPLICATION SLAVE ON *.* TO it`,
  );
}

function replicationUserPlugin({ s, accounts, config }: ReplicaCheckInput) {
  const plugins = accounts.get(s.name)?.replicationUserPlugins ?? [];
  const sha = plugins.filter((x) => x === 'caching_sha2_password' || x === 'sha256_password');
  if (!sha.length || config.replication.ssl || s.replica.tls) return [];
  return warning(
    `replication user '${config.replication.user}' authenticates with ${sha.join(', ')} and channels are ` +
      'plaintext: mmmf creates them with GET_SOURCE_PUBLIC_KEY = 1 (else a new source refuses the login with ' +
      'error 2061 until it has cached the account), but that key exchange trusts whatever answers',
    'use TLS for replication (replication.ssl in the config, and the channels), or an account whose plugin ' +
      'works without it',
  );
}

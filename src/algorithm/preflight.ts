import { gtidAhead } from '../binlog/gtid.js';
import { dialectFor } from '../dialect/dialect.js';
import type { ResolvedConfig } from '../topology/config-types.js';
import { type AccountFacts, type HostState, isReplica } from '../topology/server-state.js';
import { analyzeTopology, choosePositioning, errantTransactions } from './analyze-topology.js';

/** One thing `mmmf check` found. Errors make a failover fail or be refused; warnings deserve a look. */
export interface Finding {
  level: 'error' | 'warning';
  host?: string;
  message: string;
  fix: string;
}

/** Privileges the admin account needs on MariaDB 10.5+ when it lacks SUPER / ALL PRIVILEGES. */
const MARIADB_PRIVILEGES = [
  'REPLICATION SLAVE ADMIN',
  'READ_ONLY ADMIN',
  'CONNECTION ADMIN',
  'BINLOG MONITOR',
  'SLAVE MONITOR',
  'PROCESS',
];
const LAG_WARNING_SECONDS = 60;

/** What an SSH probe of a host found, when a VIP is configured: reachable, and has `ip` and `arping`. */
export interface SshFacts {
  ok: boolean;
  detail: string;
}

export interface PreflightInput {
  config: ResolvedConfig;
  states: HostState[];
  accounts: Map<string, AccountFacts>;
  ssh?: Map<string, SshFacts>;
  /** Check only this candidate (--failover-to), else every replica. */
  target?: string;
}

/** Pure: everything that would make a failover to some candidate fail or be refused right now. */
export function preflight({ config, states, accounts, target, ssh }: PreflightInput): {
  findings: Finding[];
  candidates: string[];
} {
  const f: Finding[] = [];
  for (const [name, s] of ssh ?? []) {
    if (!s.ok)
      f.push({
        level: 'error',
        host: name,
        message: `the writer VIP cannot be moved here: ${s.detail}`,
        fix: 'make the host reachable over SSH (see the ssh settings) with `ip` and `arping` installed',
      });
  }
  const replicas = states.filter(isReplica);
  for (const s of states) {
    if (!s.reachable)
      f.push({
        level: 'error',
        host: s.name,
        message: `unreachable: ${s.error}`,
        fix: 'fix connectivity or credentials (a failover would leave this host alone)',
      });
  }

  const ids = new Map<number, string[]>();
  for (const s of states)
    if (s.reachable && s.serverId !== undefined) ids.set(s.serverId, [...(ids.get(s.serverId) ?? []), s.name]);
  for (const [id, names] of ids) {
    if (names.length > 1)
      f.push({
        level: 'error',
        message: `server_id ${id} is used by ${names.join(', ')}`,
        fix: 'give every server its own server_id (replication silently skips events from its own id)',
      });
  }
  const formats = new Set(states.filter((s) => s.reachable && s.logBin).map((s) => s.binlogFormat));
  if (formats.size > 1)
    f.push({
      level: 'warning',
      message: `binlog_format differs between servers (${[...formats].join(', ')})`,
      fix: 'use one binlog_format everywhere',
    });
  const filters = new Set(replicas.map((s) => s.replica.filters.join(';')));
  if (filters.size > 1 || replicas.some((s) => s.replica.filters.length)) {
    f.push({
      level: 'warning',
      message: 'replication filters are in force on some replicas; mmmf leaves filtered replicas out',
      fix: 'remove Replicate_* filters, or accept that those replicas are not failed over',
    });
  }

  const byFile = choosePositioning(config.positioning, replicas).mode === 'file';
  for (const s of replicas) {
    const r = s.replica;
    if (byFile && s.relayLogPurge) {
      f.push({
        level: 'warning',
        host: s.name,
        message:
          'relay_log_purge=ON, and this cluster fails over by file and position: when this replica is the best one, its deleted relay logs cannot map the positions of replicas further behind, and those are left stopped',
        fix: 'SET GLOBAL relay_log_purge = OFF (and in my.cnf); applied relay logs then stay until the replica is repointed or reset, so watch their disk use',
      });
    }
    if (r.ioRunning !== 'Yes' || !r.sqlRunning) {
      f.push({
        level: 'error',
        host: s.name,
        message: `replication not running (IO ${r.ioRunning}, SQL ${r.sqlRunning ? 'Yes' : 'No'})${r.lastIoError ? `; IO error: ${r.lastIoError}` : ''}${r.lastSqlError ? `; SQL error: ${r.lastSqlError}` : ''}`,
        fix: `fix the error and ${dialectFor(s.version).startReplication()}; a stopped replica falls behind and may be left out`,
      });
    } else if ((r.secondsBehind ?? 0) > LAG_WARNING_SECONDS) {
      f.push({
        level: 'warning',
        host: s.name,
        message: `${r.secondsBehind} s behind its master`,
        fix: 'a failover will have to equalize it; find out why it lags',
      });
    }
    if (!s.readOnly)
      f.push({
        level: 'warning',
        host: s.name,
        message: 'read_only is OFF on a replica',
        fix: `${dialectFor(s.version).setReadOnly(true).join('; ')} (and in my.cnf): writes here become errant transactions`,
      });
    if (!s.logBin || !s.logReplicaUpdates) {
      f.push({
        level: 'error',
        host: s.name,
        message: `log_bin=${s.logBin ? 'ON' : 'OFF'}, log_slave_updates=${s.logReplicaUpdates ? 'ON' : 'OFF'}: it can be neither the new master nor the source that equalizes others`,
        fix: 'enable log_bin and log_slave_updates in my.cnf and restart',
      });
    }
    const errant = errantTransactions(s, states);
    if (errant.length)
      f.push({
        level: 'error',
        host: s.name,
        message: `errant transactions ${errant.join(', ')} (written on the replica itself)`,
        fix: 'remove them (or inject empty transactions on the master) or rebuild the replica',
      });
    const acc = accounts.get(s.name);
    const users = acc?.replicationUserHosts;
    if (users && 'error' in users)
      f.push({
        level: 'warning',
        host: s.name,
        message: `cannot check for the replication user: ${users.error}`,
        fix: 'grant SELECT on mysql.user to the admin account, or check by hand',
      });
    else if (users && users.length === 0)
      f.push({
        level: 'error',
        host: s.name,
        message: `replication user '${config.replication.user}' does not exist here: other replicas could not replicate from it`,
        fix: `CREATE USER '${config.replication.user}'@'%' ... ; GRANT REPLICATION SLAVE ON *.* TO it`,
      });
  }

  for (const s of states) {
    if (!s.reachable || s.version?.flavor !== 'mariadb') continue;
    const g = accounts.get(s.name)?.grants;
    if (!g) continue;
    if ('error' in g) {
      f.push({
        level: 'warning',
        host: s.name,
        message: `cannot read the admin account's grants: ${g.error}`,
        fix: 'check its privileges by hand (see README, Privileges)',
      });
      continue;
    }
    const global = g
      .filter((line) => / ON \*\.\* TO /i.test(line))
      .join(' ')
      .toUpperCase();
    if (/ALL PRIVILEGES|\bSUPER\b/.test(global)) continue;
    const missing = MARIADB_PRIVILEGES.filter(
      (p) => !global.includes(p) && !(p === 'SLAVE MONITOR' && global.includes('REPLICA MONITOR')),
    );
    if (missing.length)
      f.push({
        level: 'error',
        host: s.name,
        message: `the admin account lacks ${missing.join(', ')}`,
        fix: `GRANT ${missing.join(', ')} ON *.* TO the admin account`,
      });
  }

  // Finally, ask the planner itself: would a failover to each candidate be refused right now?
  const candidates = target ? [target] : replicas.map((s) => s.name);
  for (const name of candidates) {
    const a = analyzeTopology(config, states, { target: name });
    for (const why of a.refusals)
      f.push({ level: 'error', host: name, message: `a failover to ${name} would be refused: ${why}`, fix: '' });
    const best = a.best;
    const t = states.find((s) => s.name === name);
    if (best && t && best !== t && t.replica) {
      const n =
        a.positioning.mode === 'gtid' && best.version?.flavor === 'mariadb'
          ? gtidAhead(
              'mariadb',
              best.replica.gtidReceived || best.gtidApplied || '',
              t.replica.gtidReceived || t.gtidApplied || '',
            )
          : 0;
      if (n > 0)
        f.push({
          level: 'warning',
          host: name,
          message: `${n} transactions behind ${best.name}: a failover to it would equalize those first`,
          fix: 'nothing to do; expect a longer failover',
        });
    }
  }
  const seen = new Set<string>();
  const unique = f.filter((x) => {
    const k = `${x.level}|${x.host}|${x.message}`;
    return seen.has(k) ? false : (seen.add(k), true);
  });
  return { findings: unique, candidates };
}

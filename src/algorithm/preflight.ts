import { findOldMaster } from './find-old-master.js';
import { missingPrivileges } from './privileges.js';
import { gtidAhead } from '../binlog/gtid.js';
import { dialectFor } from '../dialect/dialect.js';
import type { ResolvedConfig } from '../topology/config-types.js';
import { matchSource } from '../topology/identity.js';
import { type AccountFacts, type HostState, isProbed, isReplica, type ReplicaHost } from '../domain/server-state.js';
import { analyzeTopology, choosePositioning, errantTransactions } from './analyze-topology.js';
import { onOff } from './replica-facts.js';

/** One thing `mmmf check` found. Errors make a failover fail or be refused; warnings deserve a look. */
export interface Finding {
  level: 'error' | 'warning';
  host?: string;
  message: string;
  fix: string;
}

/** Privileges the admin account needs on MariaDB 10.5+ when it lacks SUPER / ALL PRIVILEGES. */
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
  /** Check only this candidate (--failover-to), else every replica that is not delayed. */
  target?: string;
}

/** Above this, --if-dead waits long for replicas to agree that a hung master is gone (the default is 60 s). */
const NET_TIMEOUT_WARNING_SECONDS = 30;

type Add = (level: Finding['level'], host: string | undefined, message: string, fix: string) => void;

/** Pure: everything that would make a failover to some candidate fail or be refused right now. */
export function preflight({ config, states, accounts, target, ssh }: PreflightInput): {
  findings: Finding[];
  candidates: string[];
} {
  const f: Finding[] = [];
  const add: Add = (level, host, message, fix) => f.push({ level, ...(host ? { host } : {}), message, fix });
  for (const [name, s] of ssh ?? []) {
    if (s.ok) continue;
    const fix = 'make the host reachable over SSH (see the ssh settings) with `ip` and `arping` installed';
    add('error', name, `the writer VIP cannot be moved here: ${s.detail}`, fix);
  }
  const replicas = states.filter(isReplica);
  for (const s of states) {
    if (s.reachable) continue;
    add(
      'error',
      s.name,
      `unreachable: ${s.error}`,
      'fix connectivity or credentials (a failover would leave this host alone)',
    );
  }
  clusterFindings(states, replicas, add);
  const byFile = choosePositioning(config.positioning, replicas).mode === 'file';
  // The active side of a master-master pair replicates too, but it is the master: it is writable on purpose
  // and no candidate to fail over to.
  const found = findOldMaster(states);
  const active = found.ok && found.value.passive ? found.value.name : undefined;
  for (const s of replicas) replicaFindings(config, s, states, { byFile, accounts, active }, add);
  for (const s of states) privilegeFindings(s, accounts, add);

  // Finally, ask the planner itself: would a failover to each candidate be refused right now?
  // Candidates are the master's direct replicas: a replica of an intermediate master stays under it.
  const direct = new Set(found.ok ? found.value.direct.map((r) => r.name) : replicas.map((r) => r.name));
  const candidates = target
    ? [target]
    : replicas.filter((s) => s.replica.sqlDelay === 0 && s.name !== active && direct.has(s.name)).map((s) => s.name);
  for (const name of candidates) plannerFindings(config, states, name, add);
  const seen = new Set<string>();
  const unique = f.filter((x) => {
    const k = `${x.level}|${x.host}|${x.message}`;
    return seen.has(k) ? false : (seen.add(k), true);
  });
  return { findings: unique, candidates };
}

/** Findings about the cluster as a whole: server ids, binlog formats, filters, how the master is named. */
function clusterFindings(states: HostState[], replicas: ReplicaHost[], add: Add): void {
  const ids = new Map<number, string[]>();
  for (const s of states) {
    if (s.reachable && s.serverId !== undefined) ids.set(s.serverId, [...(ids.get(s.serverId) ?? []), s.name]);
  }
  for (const [id, names] of ids) {
    if (names.length < 2) continue;
    const fix = 'give every server its own server_id (replication silently skips events from its own id)';
    add('error', undefined, `server_id ${id} is used by ${names.join(', ')}`, fix);
  }
  const formats = new Set(states.filter((s) => s.reachable && s.logBin).map((s) => s.binlogFormat));
  if (formats.size > 1) {
    add(
      'warning',
      undefined,
      `binlog_format differs between servers (${[...formats].join(', ')})`,
      'use one binlog_format everywhere',
    );
  }
  if (replicas.some((s) => s.replica.filters.length)) {
    add(
      'warning',
      undefined,
      'replication filters are in force on some replicas; mmmf leaves filtered replicas out',
      'remove Replicate_* filters, or accept that those replicas are not failed over',
    );
  }
  // The config may name a server differently from its replicas: mmmf matches them by server_id, other tools may not.
  for (const r of replicas) {
    const m = matchSource(r.replica, states);
    const configured = states.find((s) => s.name === m.name);
    if (!configured || m.how === 'address' || configured.address === m.address) continue;
    add(
      'warning',
      configured.name,
      `replicas reach ${configured.name} as ${m.address}, the config names it ${configured.address} (the same server: ${m.how})`,
      `use the replicas' address in the config (host: '${r.replica.sourceHost}', port: ${r.replica.sourcePort}), so that ` +
        'what mmmf fences and what replicas use cannot drift apart',
    );
    break;
  }
}

function replicaFindings(
  config: ResolvedConfig,
  s: ReplicaHost,
  states: HostState[],
  o: { byFile: boolean; accounts: Map<string, AccountFacts>; active: string | undefined },
  add: Add,
): void {
  const r = s.replica;
  const d = dialectFor(s.version);
  if (o.byFile && s.relayLogPurge) {
    add(
      'warning',
      s.name,
      'relay_log_purge=ON, and this cluster fails over by file and position: when this replica is the best one, ' +
        'positions further back than its relay log are found in its binlog by GTID (MariaDB), or by a unique run of ' +
        'transactions (MySQL without GTIDs), and left stopped when that fails',
      'SET GLOBAL relay_log_purge = OFF (and in my.cnf) for the most direct evidence; applied relay logs then stay ' +
        'until the replica is repointed or reset, so watch their disk use',
    );
  }
  if (r.sqlDelay > 0) {
    add(
      'warning',
      s.name,
      `delayed by ${r.sqlDelay} s (MASTER_DELAY): a failover does not wait for it and never promotes it unless named; ` +
        `it follows the new master afterwards with its delay${o.byFile ? ' (by file: it is left stopped)' : ''}`,
      'nothing to do; to keep what only it received, a failover needs --lift-delay',
    );
  }
  if (s.netTimeout !== undefined && s.netTimeout > NET_TIMEOUT_WARNING_SECONDS) {
    const name = d.caps.logReplicaUpdates ? 'replica_net_timeout' : 'slave_net_timeout';
    add(
      'warning',
      s.name,
      `${name} = ${s.netTimeout} s: this replica notices a hung or cut-off master only after that long, and ` +
        'mmmf --if-dead refuses (exit 3, the next run looks again) while any replica is still connected to it',
      `${d.shortNetTimeout(10).join('; ')} (and ${name} = 10 in my.cnf)`,
    );
  }
  if (s.gtidStrictMode === false && !o.byFile) {
    add(
      'warning',
      s.name,
      'gtid_strict_mode=OFF: a GTID written twice or out of order (an errant write, a misconfigured domain) is ' +
        'accepted silently here, so GTID positions may not mean what mmmf compares',
      'SET GLOBAL gtid_strict_mode = ON (and in my.cnf)',
    );
  }
  if (r.ioRunning !== 'Yes' || !r.sqlRunning) {
    const errors = `${r.lastIoError ? `; IO error: ${r.lastIoError}` : ''}${r.lastSqlError ? `; SQL error: ${r.lastSqlError}` : ''}`;
    add(
      'error',
      s.name,
      `replication not running (IO ${r.ioRunning}, SQL ${r.sqlRunning ? 'Yes' : 'No'})${errors}`,
      `fix the error and ${d.startReplication()}; a stopped replica falls behind and may be left out`,
    );
  } else if (r.sqlDelay === 0 && (r.secondsBehind ?? 0) > LAG_WARNING_SECONDS) {
    add(
      'warning',
      s.name,
      `${r.secondsBehind} s behind its master`,
      'a failover will have to equalize it; find out why it lags',
    );
  }
  if (!s.readOnly && s.name !== o.active) {
    const fix = `${d.setReadOnly(true).join('; ')} (and in my.cnf): writes here become errant transactions`;
    add('warning', s.name, 'read_only is OFF on a replica', fix);
  }
  if (!s.logBin || !s.logReplicaUpdates) {
    add(
      'error',
      s.name,
      `log_bin=${onOff(s.logBin)}, log_slave_updates=${onOff(s.logReplicaUpdates)}: it can be neither the new master ` +
        'nor the source that equalizes others',
      'enable log_bin and log_slave_updates in my.cnf and restart',
    );
  }
  const errant = errantTransactions(s, states);
  if (errant.length) {
    const fix = 'remove them (or inject empty transactions on the master) or rebuild the replica';
    add('error', s.name, `errant transactions ${errant.join(', ')} (written on the replica itself)`, fix);
  }
  const users = o.accounts.get(s.name)?.replicationUserHosts;
  if (users && 'error' in users) {
    const fix = 'grant SELECT on mysql.user to the admin account, or check by hand';
    add('warning', s.name, `cannot check for the replication user: ${users.error}`, fix);
  } else if (users && users.length === 0) {
    const user = config.replication.user;
    add(
      'error',
      s.name,
      `replication user '${user}' does not exist here: other replicas could not replicate from it`,
      `CREATE USER '${user}'@'%' ... ; GRANT REPLICATION SLAVE ON *.* TO it`,
    );
  }
  const plugins = o.accounts.get(s.name)?.replicationUserPlugins ?? [];
  const sha = plugins.filter((x) => x === 'caching_sha2_password' || x === 'sha256_password');
  if (sha.length && !config.replication.ssl && !r.tls) {
    add(
      'warning',
      s.name,
      `replication user '${config.replication.user}' authenticates with ${sha.join(', ')} and channels are ` +
        'plaintext: mmmf creates them with GET_SOURCE_PUBLIC_KEY = 1 (else a new source refuses the login with ' +
        'error 2061 until it has cached the account), but that key exchange trusts whatever answers',
      'use TLS for replication (replication.ssl in the config, and the channels), or an account whose plugin ' +
        'works without it',
    );
  }
}

function privilegeFindings(s: HostState, accounts: Map<string, AccountFacts>, add: Add): void {
  if (!isProbed(s)) return;
  const g = accounts.get(s.name)?.grants;
  if (!g) return;
  if ('error' in g) {
    add(
      'warning',
      s.name,
      `cannot read the admin account's grants: ${g.error}`,
      'check its privileges by hand (see README, Privileges)',
    );
    return;
  }
  const missing = missingPrivileges(s.version, g);
  if (!missing.length) return;
  const needs = missing.map((m) => `${m.anyOf.join(' or ')} for ${m.what}`).join('; ');
  const grant = [...new Set(missing.map((m) => m.anyOf[0]!))].join(', ');
  add(
    'error',
    s.name,
    `the admin account lacks ${needs} (${s.version.text})`,
    `GRANT ${grant} ON *.* TO the admin account (SUPER no longer covers some of these on MariaDB 10.11+)`,
  );
}

function plannerFindings(config: ResolvedConfig, states: HostState[], name: string, add: Add): void {
  const a = analyzeTopology(config, states, { target: name });
  for (const why of a.refusals) add('error', name, `a failover to ${name} would be refused: ${why}`, '');
  const best = a.best;
  const t = states.find((s) => s.name === name);
  if (!best || !isReplica(t) || best === t) return;
  const n =
    a.positioning.mode === 'gtid' && best.version.flavor === 'mariadb'
      ? gtidAhead(
          'mariadb',
          best.replica.gtidReceived || best.gtidApplied || '',
          t.replica.gtidReceived || t.gtidApplied || '',
        )
      : 0;
  if (n > 0) {
    const message = `${n} transactions behind ${best.name}: a failover to it would equalize those first`;
    add('warning', name, message, 'nothing to do; expect a longer failover');
  }
}

import { gtidAhead } from '../binlog/gtid.js';
import { type AccountFacts, type HostState, isProbed, isReplica, type ReplicaHost } from '../domain/server-state.js';
import type { ResolvedConfig } from '../topology/config-types.js';
import { matchSource } from '../topology/identity.js';
import { analyzeTopology } from './analyze-topology.js';
import { findOldMaster } from './find-old-master.js';
import { missingPrivileges } from './privileges.js';
import { type Finding, replicaFindings } from './replica-checks.js';
import { choosePositioning } from './replica-facts.js';
import { semiSyncFindings } from './semi-sync-checks.js';
import { writerProblems } from './writers.js';

export type { Finding } from './replica-checks.js';

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

const finding = (level: Finding['level'], host: string | undefined, message: string, fix: string): Finding => ({
  level,
  ...(host ? { host } : {}),
  message,
  fix,
});

/** Pure: everything that would make a failover to some candidate fail or be refused right now. */
export function preflight({ config, states, accounts, target, ssh }: PreflightInput): {
  findings: Finding[];
  candidates: string[];
} {
  const replicas = states.filter(isReplica);
  const byFile = choosePositioning(config.positioning, replicas).mode === 'file';
  // The active side of a master-master pair replicates too, but it is the master: it is writable on purpose
  // and no candidate to fail over to.
  const found = findOldMaster(states);
  const active = found.ok && found.value.passive ? found.value.name : undefined;
  // Finally, ask the planner itself: would a failover to each candidate be refused right now?
  // Candidates are the master's direct replicas: a replica of an intermediate master stays under it.
  const direct = new Set(found.ok ? found.value.direct.map((r) => r.name) : replicas.map((r) => r.name));
  const candidates = target
    ? [target]
    : replicas.filter((s) => s.replica.sqlDelay === 0 && s.name !== active && direct.has(s.name)).map((s) => s.name);
  const findings = [
    ...sshFindings(ssh),
    ...states
      .filter((s) => !s.reachable)
      .map((s) =>
        finding(
          'error',
          s.name,
          `unreachable: ${s.error}`,
          'fix connectivity or credentials (a failover would leave this host alone)',
        ),
      ),
    ...writerProblems(states, config.source).map((w) => finding('error', undefined, w.message, w.fix)),
    ...clusterFindings(states, replicas),
    ...replicas.flatMap((s) => replicaFindings({ config, s, states, byFile, accounts, active })),
    ...states.flatMap((s) => privilegeFindings(s, accounts)),
    ...candidates.flatMap((name) => plannerFindings(config, states, name)),
    ...semiSyncFindings(
      config,
      found.ok ? found.value.state : undefined,
      found.ok ? found.value.direct : [],
      candidates,
    ),
  ];
  const seen = new Set<string>();
  const unique = findings.filter((x) => {
    const k = `${x.level}|${x.host}|${x.message}`;
    return seen.has(k) ? false : (seen.add(k), true);
  });
  return { findings: unique, candidates };
}

function sshFindings(ssh: Map<string, SshFacts> | undefined): Finding[] {
  const fix = 'make the host reachable over SSH (see the ssh settings) with `ip` and `arping` installed';
  return [...(ssh ?? [])]
    .filter(([, s]) => !s.ok)
    .map(([name, s]) => finding('error', name, `the writer VIP cannot be moved here: ${s.detail}`, fix));
}

/** Findings about the cluster as a whole: server ids, binlog formats, filters, how the master is named. */
function clusterFindings(states: HostState[], replicas: ReplicaHost[]): Finding[] {
  const out: Finding[] = [];
  const add = (...f: Parameters<typeof finding>) => out.push(finding(...f));
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
      `replicas reach ${configured.name} as ${m.address}, the config names it ${configured.address} ` +
        `(the same server: ${m.how})`,
      `use the replicas' address in the config (host: '${r.replica.sourceHost}', port: ${r.replica.sourcePort}), ` +
        'so that ' +
        'what mmmf fences and what replicas use cannot drift apart',
    );
    break;
  }
  return out;
}

function privilegeFindings(s: HostState, accounts: Map<string, AccountFacts>): Finding[] {
  if (!isProbed(s)) return [];
  const g = accounts.get(s.name)?.grants;
  if (!g) return [];
  if ('error' in g) {
    return [
      finding(
        'warning',
        s.name,
        `cannot read the admin account's grants: ${g.error}`,
        'check its privileges by hand (see README, Privileges)',
      ),
    ];
  }
  const missing = missingPrivileges(s.version, g);
  if (!missing.length) return [];
  const needs = missing.map((m) => `${m.anyOf.join(' or ')} for ${m.what}`).join('; ');
  const grant = [...new Set(missing.flatMap((m) => m.anyOf.slice(0, 1)))].join(', ');
  return [
    finding(
      'error',
      s.name,
      `the admin account lacks ${needs} (${s.version.text})`,
      `GRANT ${grant} ON *.* TO the admin account (SUPER no longer covers some of these on MariaDB 10.11+)`,
    ),
  ];
}

function plannerFindings(config: ResolvedConfig, states: HostState[], name: string): Finding[] {
  const a = analyzeTopology(config, states, { target: name });
  const out = a.refusals.map((why) => finding('error', name, `a failover to ${name} would be refused: ${why}`, ''));
  const best = a.best;
  const t = states.find((s) => s.name === name);
  if (!best || !isReplica(t) || best === t) return out;
  const n =
    a.positioning.mode === 'gtid' && best.version.flavor === 'mariadb'
      ? gtidAhead(
          'mariadb',
          best.replica.gtidReceived || best.gtidApplied || '',
          t.replica.gtidReceived || t.gtidApplied || '',
        )
      : 0;
  if (n <= 0) return out;
  const message = `${n} transactions behind ${best.name}: a failover to it would equalize those first`;
  return [...out, finding('warning', name, message, 'nothing to do; expect a longer failover')];
}

import { replayPrivilege } from '../dialect/salvage-dialect.js';
import { type AccountFacts, type HostState, isProbed } from '../domain/server-state.js';
import type { ResolvedConfig } from '../topology/config-types.js';
import { missingPrivileges } from './privileges.js';
import type { Finding } from './replica-checks.js';

/**
 * What `check` found out for salvaging a dead master's binlog: per host SSH is configured for, whether its SSH
 * user reaches it and may read its binlog index and files; and whether this (the monitor) host has the tools
 * that decode and apply them. Example: `{ access: Map { 'db1' => { ok: true, detail: 'ok 3 files' } },
 * tools: { ok: false, detail: 'mariadb-binlog not found' } }`
 */
export interface SalvageFacts {
  access: Map<string, { ok: boolean; detail: string }>;
  tools: { ok: boolean; detail: string };
}

/**
 * Pure: what keeps a failover from salvaging a dead master's binlog. Warnings, not errors: without a salvage a
 * failover still works, as it does without SSH, but it loses what only the dead master's binlog holds.
 */
export function salvageFindings(
  config: ResolvedConfig,
  states: HostState[],
  accounts: Map<string, AccountFacts>,
  facts: SalvageFacts,
): Finding[] {
  if (!config.salvage) return [];
  const out: Finding[] = [];
  const lost = 'a failover while it is the master could not salvage what only its binlog holds';
  for (const [name, a] of facts.access) {
    if (a.ok) continue;
    const user = config.hosts.find((h) => h.name === name)?.ssh.user;
    const fix = `give the ssh user (${user}) read access to the binlogs, or set hosts.${name}.binlogDir`;
    out.push({ level: 'warning', host: name, message: `${lost}: ${a.detail}`, fix });
  }
  if (!facts.tools.ok) {
    const fix = "install the cluster's client package (mariadb-client, or mysql-client for MySQL) and util-linux here";
    out.push({ level: 'warning', message: `no salvage can be applied from this host: ${facts.tools.detail}`, fix });
  }
  for (const s of states) {
    const g = accounts.get(s.name)?.grants;
    if (!isProbed(s) || !s.replica || !g || 'error' in g) continue;
    const need = replayPrivilege(s.version);
    if (!missingPrivileges(s.version, g, [need]).length) continue;
    out.push({
      level: 'warning',
      host: s.name,
      message:
        `the admin account lacks ${need.anyOf.join(' or ')} for ${need.what}: ` +
        `a salvage into ${s.name} would be refused`,
      fix: `GRANT ${need.anyOf[0]} ON *.* TO the admin account`,
    });
  }
  return out;
}

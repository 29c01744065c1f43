import type { ServerVersion } from '../domain/server-state.js';

/**
 * What mmmf's admin account must be granted, per flavor and version, for the statements a failover sends —
 * each need with the privileges that satisfy it (any one). SUPER stopped covering some of them in MariaDB
 * 10.5.2 (fine-grained privileges) and 10.11 (READ_ONLY ADMIN, BINLOG MONITOR, SLAVE MONITOR: checked on
 * 10.11.19, SUPER alone gets error 1227 for SET GLOBAL read_only, SHOW BINLOG EVENTS and SHOW RELAYLOG EVENTS).
 *
 * @example { what: 'setting read_only (fencing, promotion)', anyOf: ['READ_ONLY ADMIN'] }
 */
export interface PrivilegeNeed {
  what: string;
  anyOf: string[];
}

const at = (v: ServerVersion, major: number, minor: number, patch = 0) =>
  v.major * 1e6 + v.minor * 1e3 + v.patch >= major * 1e6 + minor * 1e3 + patch;

export function privilegeNeeds(v: ServerVersion): PrivilegeNeed[] {
  return v.flavor === 'mariadb' ? mariadbNeeds(v) : mysqlNeeds(v);
}

function mariadbNeeds(v: ServerVersion): PrivilegeNeed[] {
  const fine = at(v, 10, 5, 2); // the fine-grained privileges exist
  const monitor = at(v, 10, 5, 9); // SLAVE MONITOR exists
  const strict = at(v, 10, 11); // SUPER no longer covers read_only, binlog and relay log events
  const orSuper = (xs: string[]) => (strict ? xs : [...xs, 'SUPER']);
  return [
    {
      what: 'reading replica status',
      anyOf: monitor
        ? ['SLAVE MONITOR', 'SUPER']
        : fine
          ? ['REPLICATION SLAVE ADMIN', 'SUPER']
          : ['REPLICATION CLIENT', 'SUPER'],
    },
    {
      what: 'stopping, starting and repointing replication',
      anyOf: fine ? ['REPLICATION SLAVE ADMIN', 'SUPER'] : ['SUPER'],
    },
    { what: 'resetting replication (promotion)', anyOf: ['RELOAD'] },
    {
      what: 'reading the binlog position and list',
      anyOf: fine ? ['BINLOG MONITOR', 'SUPER'] : ['REPLICATION CLIENT', 'SUPER'],
    },
    {
      what: 'reading binlog events (position mapping)',
      anyOf: fine ? orSuper(['BINLOG MONITOR']) : ['REPLICATION SLAVE'],
    },
    {
      what: 'reading relay log events (position mapping)',
      anyOf: monitor ? orSuper(['SLAVE MONITOR']) : fine ? ['REPLICATION SLAVE ADMIN', 'SUPER'] : ['REPLICATION SLAVE'],
    },
    { what: 'setting read_only (fencing, promotion)', anyOf: fine ? orSuper(['READ_ONLY ADMIN']) : ['SUPER'] },
    { what: 'killing client connections (fencing)', anyOf: fine ? ['CONNECTION ADMIN', 'SUPER'] : ['SUPER'] },
    { what: "seeing other users' connections (fencing)", anyOf: ['PROCESS'] },
  ];
}

function mysqlNeeds(v: ServerVersion): PrivilegeNeed[] {
  const eight = v.major >= 8;
  const dyn = (x: string) => (eight ? [x, 'SUPER'] : ['SUPER']);
  return [
    { what: 'reading replica status', anyOf: ['REPLICATION CLIENT', 'SUPER'] },
    { what: 'stopping, starting and repointing replication', anyOf: dyn('REPLICATION_SLAVE_ADMIN') },
    { what: 'resetting replication (promotion)', anyOf: ['RELOAD'] },
    { what: 'reading the binlog position and list', anyOf: ['REPLICATION CLIENT', 'SUPER'] },
    { what: 'reading binlog and relay log events (position mapping)', anyOf: ['REPLICATION SLAVE'] },
    { what: 'setting (super_)read_only (fencing, promotion)', anyOf: dyn('SYSTEM_VARIABLES_ADMIN') },
    { what: 'killing client connections (fencing)', anyOf: dyn('CONNECTION_ADMIN') },
    { what: "seeing other users' connections (fencing)", anyOf: ['PROCESS'] },
  ];
}

/** Aliases a server may print in SHOW GRANTS for the same privilege. */
const ALIASES: Record<string, string[]> = {
  'SLAVE MONITOR': ['REPLICA MONITOR'],
  'REPLICATION SLAVE ADMIN': ['REPLICATION REPLICA ADMIN'],
  'REPLICATION CLIENT': ['BINLOG MONITOR'],
  'REPLICATION SLAVE': ['REPLICATION REPLICA'],
};

/**
 * Pure: the needs the account's global grants (`SHOW GRANTS` lines `... ON *.* TO ...`) do not satisfy.
 * ALL PRIVILEGES satisfies everything.
 */
export function missingPrivileges(
  v: ServerVersion,
  grants: string[],
  needs: PrivilegeNeed[] = privilegeNeeds(v),
): PrivilegeNeed[] {
  const global = grants
    .filter((line) => / ON \*\.\* TO /i.test(line))
    .map(
      (line) =>
        line
          .toUpperCase()
          .replace(/^GRANT\s+/, '')
          .split(/\s+ON\s+\*\.\*/)[0] ?? '',
    )
    .join(',');
  if (/\bALL( PRIVILEGES)?\b/.test(global)) return [];
  const held = new Set(global.split(',').map((p) => p.trim().replace(/\s+/g, ' ')));
  const has = (p: string) => held.has(p) || (ALIASES[p] ?? []).some((a) => held.has(a));
  return needs.filter((n) => !n.anyOf.some(has));
}

// Semi-synchronous replication in the fake servers, as each version documents it (MySQL reference manual 5.7,
// 8.0, 8.4, 9.x "Semisynchronous Replication"; MariaDB knowledge base "Semisynchronous Replication"):
// - MariaDB 10.3.3+: built in; rpl_semi_sync_master_* and rpl_semi_sync_slave_* always exist.
// - MySQL: plugins; their variables exist only while installed. rpl_semi_sync_master / _slave (semisync_master.so,
//   semisync_slave.so) up to 8.4; rpl_semi_sync_source / _replica (semisync_source.so, semisync_replica.so) with
//   source/replica names since 8.0.26; 9.0 removed the old ones. Old and new of one side never load together.
// - The replica side takes effect when the IO thread starts; a master counts a replica as a client (and the replica
//   reads status ON) only when it connected with its side on to a master whose side is on.
// Written from the manuals, independently of src/dialect/semi-sync.ts.

export interface SemiSyncProfile {
  builtIn: boolean;
  /** Plugins this version ships (MySQL). */
  plugins: string[];
}

/** What a fake server holds: installed plugins and the variables set (name → 'ON'/'OFF'/number). */
export interface FakeSemiSync {
  plugins: string[];
  vars: Record<string, string>;
}

export class SqlError extends Error {
  constructor(
    readonly errno: number,
    message: string,
  ) {
    super(message);
  }
}

type Side = 'master' | 'source' | 'slave' | 'replica';
const MASTER_SIDES: Side[] = ['master', 'source'];

/** The sides loaded on a server, each with its spelling. */
function loaded(p: SemiSyncProfile, s: FakeSemiSync): Side[] {
  if (p.builtIn) return ['master', 'slave'];
  return s.plugins.map((x) => x.replace('rpl_semi_sync_', '') as Side);
}

/** Default values of a side's variables (MariaDB waits AFTER_COMMIT by default, MySQL AFTER_SYNC). */
function defaults(side: Side, mariadb: boolean): Record<string, string> {
  if (!MASTER_SIDES.includes(side)) return { enabled: 'OFF', trace_level: '32' };
  const r = side === 'source' ? 'replica' : 'slave';
  return {
    enabled: 'OFF',
    timeout: '10000',
    trace_level: '32',
    [`wait_no_${r}`]: 'ON',
    wait_point: mariadb ? 'AFTER_COMMIT' : 'AFTER_SYNC',
    ...(mariadb ? {} : { [`wait_for_${r}_count`]: '1' }),
  };
}

/** Every semi-sync variable of a server with its value. */
export function semiSyncVariables(p: SemiSyncProfile, s: FakeSemiSync, mariadb: boolean): Record<string, string> {
  const out: Record<string, string> = {};
  for (const side of loaded(p, s)) {
    for (const [k, v] of Object.entries(defaults(side, mariadb))) {
      const name = `rpl_semi_sync_${side}_${k}`;
      out[name] = s.vars[name] ?? v;
    }
  }
  return out;
}

/** SET GLOBAL rpl_semi_sync_*: only a loaded side's variables exist. */
export function setSemiSyncVariable(
  p: SemiSyncProfile,
  s: FakeSemiSync,
  mariadb: boolean,
  name: string,
  value: string,
): void {
  const vars = semiSyncVariables(p, s, mariadb);
  if (!(name in vars)) throw new SqlError(1193, `Unknown system variable '${name}'`);
  const v = value.toUpperCase();
  if (/_enabled$|_wait_no_/.test(name)) {
    if (!['ON', 'OFF', '1', '0'].includes(v)) throw new SqlError(1231, `Variable '${name}' can't be set to '${value}'`);
    s.vars[name] = v === '1' || v === 'ON' ? 'ON' : 'OFF';
  } else if (name.endsWith('_wait_point')) {
    if (!['AFTER_SYNC', 'AFTER_COMMIT'].includes(v))
      throw new SqlError(1231, `Variable '${name}' can't be set to '${value}'`);
    s.vars[name] = v;
  } else {
    if (!/^\d+$/.test(value)) throw new SqlError(1232, `Incorrect argument type to variable '${name}'`);
    s.vars[name] = value;
  }
}

/** INSTALL PLUGIN name SONAME 'file': shipped by this version, not installed yet, not beside its other spelling. */
export function installSemiSyncPlugin(p: SemiSyncProfile, s: FakeSemiSync, plugin: string, soname: string): void {
  const side = plugin.replace('rpl_semi_sync_', '');
  if (!p.plugins.includes(plugin) || soname !== `semisync_${side}.so`) {
    throw new SqlError(1126, `Can't open shared library '${soname}' (errno: 2 cannot open shared object file)`);
  }
  if (s.plugins.includes(plugin)) throw new SqlError(1125, `Function '${plugin}' already exists`);
  const other = { master: 'source', source: 'master', slave: 'replica', replica: 'slave' }[side];
  if (s.plugins.includes(`rpl_semi_sync_${other}`)) {
    throw new SqlError(1123, `Can't initialize function '${plugin}'; Plugin initialization function failed.`);
  }
  s.plugins.push(plugin);
}

/** The loaded master side's spelling and whether it is on. */
export function masterSide(p: SemiSyncProfile, s: FakeSemiSync, mariadb: boolean): { side?: Side; on: boolean } {
  const side = loaded(p, s).find((x) => MASTER_SIDES.includes(x));
  const vars = semiSyncVariables(p, s, mariadb);
  return { ...(side ? { side } : {}), on: !!side && vars[`rpl_semi_sync_${side}_enabled`] === 'ON' };
}

/** Whether the replica side is loaded and on (read when the IO thread starts). */
export function replicaSideOn(p: SemiSyncProfile, s: FakeSemiSync, mariadb: boolean): boolean {
  const side = loaded(p, s).find((x) => !MASTER_SIDES.includes(x));
  return !!side && semiSyncVariables(p, s, mariadb)[`rpl_semi_sync_${side}_enabled`] === 'ON';
}

/** The status counters: `clients` connected with their side on; `acking` this server's IO thread acknowledges. */
export function semiSyncStatus(
  p: SemiSyncProfile,
  s: FakeSemiSync,
  mariadb: boolean,
  o: { clients: number; acking: boolean },
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const side of loaded(p, s)) {
    const prefix = `Rpl_semi_sync_${side}`;
    if (MASTER_SIDES.includes(side)) {
      const on = semiSyncVariables(p, s, mariadb)[`rpl_semi_sync_${side}_enabled`] === 'ON';
      out[`${prefix}_clients`] = String(on ? o.clients : 0);
      out[`${prefix}_status`] = on ? 'ON' : 'OFF';
      out[`${prefix}_yes_tx`] = '0';
      out[`${prefix}_no_tx`] = '0';
    } else out[`${prefix}_status`] = o.acking ? 'ON' : 'OFF';
  }
  return out;
}

/** SHOW GLOBAL VARIABLES/STATUS LIKE 'pattern' over a name → value map (LIKE is case-insensitive there). */
export function showLike(values: Record<string, string>, pattern: string) {
  const re = new RegExp(
    `^${pattern
      .replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
      .replace(/%/g, '.*')
      .replace(/_/g, '.')}$`,
    'i',
  );
  const rows = Object.entries(values)
    .filter(([k]) => re.test(k))
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([Variable_name, Value]) => ({ Variable_name, Value }));
  return { columns: ['Variable_name', 'Value'], rows };
}

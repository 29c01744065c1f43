import type { Row } from '../domain/row.js';
import type { SemiSyncMasterSide, SemiSyncReplicaSide, SemiSyncState } from '../domain/semi-sync.js';
import type { ServerVersion } from '../domain/server-state.js';
import { type Capabilities, capabilitiesOf } from './capabilities.js';

/**
 * How each flavor and version spells semi-synchronous replication. MariaDB 10.3.3+ has it built in
 * (rpl_semi_sync_master_* / rpl_semi_sync_slave_*, always there). MySQL loads it as plugins, whose variables
 * exist only while the plugin is installed: rpl_semi_sync_master / rpl_semi_sync_slave (5.7, 8.0), and since
 * 8.0.26 rpl_semi_sync_source / rpl_semi_sync_replica with source/replica names (8.4 still loads the old ones,
 * 9.0 removed them). A server uses the names of the plugin it loaded, so names come from the probe, not the
 * version; the version only says which plugin mmmf installs when one is missing.
 */

/** The master side's spelling. */
export type MasterNames = SemiSyncMasterSide['names'];
/** The replica side's spelling. */
export type ReplicaNames = SemiSyncReplicaSide['names'];

/** What the new master's side is set to; an absent value keeps the server's own. */
export interface MasterSettings {
  timeoutMs?: number;
  waitPoint?: string;
  waitNoReplica?: boolean;
  waitForCount?: number;
}

/** A plugin as INSTALL PLUGIN names it. Example: `{ plugin: 'rpl_semi_sync_source', soname: 'semisync_source.so' }` */
export interface SemiSyncPlugin {
  plugin: string;
  soname: string;
}

const onOff = (v: unknown) => String(v ?? '').toUpperCase() === 'ON' || String(v) === '1';
const WAIT_POINTS = ['AFTER_SYNC', 'AFTER_COMMIT'];

/** `SHOW GLOBAL VARIABLES/STATUS` rows (Variable_name, Value) as a map with lower-case names. */
function valuesOf(rows: Row[]): Map<string, unknown> {
  return new Map(rows.map((r) => [String(r.Variable_name ?? r.VARIABLE_NAME ?? '').toLowerCase(), r.Value ?? r.VALUE]));
}

export class SemiSyncDialect {
  readonly caps: Capabilities;

  constructor(readonly version: ServerVersion) {
    this.caps = capabilitiesOf(version);
  }

  private get isMariadb(): boolean {
    return this.version.flavor === 'mariadb';
  }

  /** Both sides' variables, whatever is loaded: a plugin not installed gives no rows, never an error. */
  variablesSql(): string {
    return "SHOW GLOBAL VARIABLES LIKE 'rpl_semi_sync%'";
  }

  /** Both sides' status counters (Rpl_semi_sync_*), whatever is loaded. */
  statusSql(): string {
    return "SHOW GLOBAL STATUS LIKE 'Rpl_semi_sync%'";
  }

  /** Reads both answers into one state; the spelling found says which plugin is loaded. */
  parse(variables: Row[], status: Row[]): SemiSyncState {
    const v = valuesOf(variables);
    const st = valuesOf(status);
    const masterNames: MasterNames | undefined = v.has('rpl_semi_sync_source_enabled')
      ? 'source'
      : v.has('rpl_semi_sync_master_enabled')
        ? 'master'
        : undefined;
    const replicaNames: ReplicaNames | undefined = v.has('rpl_semi_sync_replica_enabled')
      ? 'replica'
      : v.has('rpl_semi_sync_slave_enabled')
        ? 'slave'
        : undefined;
    return {
      builtIn: this.caps.semiSyncBuiltIn,
      ...(masterNames ? { master: this.parseMaster(masterNames, v, st) } : {}),
      ...(replicaNames
        ? {
            replica: {
              names: replicaNames,
              enabled: onOff(v.get(`rpl_semi_sync_${replicaNames}_enabled`)),
              status: onOff(st.get(`rpl_semi_sync_${replicaNames}_status`)),
            },
          }
        : {}),
    };
  }

  private parseMaster(n: MasterNames, v: Map<string, unknown>, st: Map<string, unknown>): SemiSyncMasterSide {
    const r = n === 'source' ? 'replica' : 'slave';
    const num = (x: unknown) => (x === undefined || x === null || x === '' ? undefined : Number(x));
    const timeoutMs = num(v.get(`rpl_semi_sync_${n}_timeout`));
    const waitPoint = v.get(`rpl_semi_sync_${n}_wait_point`);
    const noReplica = v.get(`rpl_semi_sync_${n}_wait_no_${r}`);
    const count = num(v.get(`rpl_semi_sync_${n}_wait_for_${r}_count`));
    return {
      names: n,
      enabled: onOff(v.get(`rpl_semi_sync_${n}_enabled`)),
      ...(timeoutMs !== undefined ? { timeoutMs } : {}),
      ...(waitPoint !== undefined ? { waitPoint: String(waitPoint).toUpperCase() } : {}),
      ...(noReplica !== undefined ? { waitNoReplica: onOff(noReplica) } : {}),
      ...(count !== undefined ? { waitForCount: count } : {}),
      status: onOff(st.get(`rpl_semi_sync_${n}_status`)),
      clients: num(st.get(`rpl_semi_sync_${n}_clients`)) ?? 0,
    };
  }

  /** The plugin mmmf installs for a side this server lacks (newest spelling this version loads). */
  pluginFor(side: 'master' | 'replica'): SemiSyncPlugin & { names: MasterNames | ReplicaNames } {
    const names = this.caps.semiSyncSourcePlugins
      ? side === 'master'
        ? 'source'
        : 'replica'
      : side === 'master'
        ? 'master'
        : 'slave';
    return { plugin: `rpl_semi_sync_${names}`, soname: `semisync_${names}.so`, names };
  }

  installPlugin(p: SemiSyncPlugin): string {
    return `INSTALL PLUGIN ${p.plugin} SONAME '${p.soname}'`;
  }

  /**
   * Whether a side's plugin is active, in either spelling (rows: one per active plugin). Run before INSTALL
   * PLUGIN, which fails for one already installed, and MySQL refuses the new spelling beside the old.
   */
  pluginActiveSql(side: 'master' | 'replica'): string {
    const both = side === 'master' ? ['source', 'master'] : ['replica', 'slave'];
    const list = both.map((x) => `'rpl_semi_sync_${x}'`).join(', ');
    return (
      `SELECT PLUGIN_NAME AS name FROM information_schema.PLUGINS WHERE PLUGIN_NAME IN (${list}) ` +
      "AND PLUGIN_STATUS = 'ACTIVE'"
    );
  }

  /**
   * The master side on, with the given settings first (so the first commit it waits for waits as configured).
   * The wait count exists on MySQL 5.7.3+ only (MariaDB always waits for one).
   */
  masterOn(n: MasterNames, s: MasterSettings): string[] {
    const r = n === 'source' ? 'replica' : 'slave';
    const out: string[] = [];
    if (s.timeoutMs !== undefined) out.push(`SET GLOBAL rpl_semi_sync_${n}_timeout = ${Math.trunc(s.timeoutMs)}`);
    if (s.waitPoint !== undefined && WAIT_POINTS.includes(s.waitPoint.toUpperCase())) {
      out.push(`SET GLOBAL rpl_semi_sync_${n}_wait_point = ${s.waitPoint.toUpperCase()}`);
    }
    if (s.waitNoReplica !== undefined) {
      out.push(`SET GLOBAL rpl_semi_sync_${n}_wait_no_${r} = ${s.waitNoReplica ? 'ON' : 'OFF'}`);
    }
    if (s.waitForCount !== undefined && !this.isMariadb) {
      out.push(`SET GLOBAL rpl_semi_sync_${n}_wait_for_${r}_count = ${Math.max(1, Math.trunc(s.waitForCount))}`);
    }
    out.push(`SET GLOBAL rpl_semi_sync_${n}_enabled = ON`);
    return out;
  }

  /** A server that becomes a replica stops waiting for acknowledgements of its own. */
  masterOff(n: MasterNames): string {
    return `SET GLOBAL rpl_semi_sync_${n}_enabled = OFF`;
  }

  /** The replica side on: it acknowledges from the next start of its IO thread, so send it before starting. */
  replicaOn(n: ReplicaNames): string {
    return `SET GLOBAL rpl_semi_sync_${n}_enabled = ON`;
  }

  /** Replicas connected with their side on, as column Value. */
  masterClientsSql(n: MasterNames): string {
    return `SHOW GLOBAL STATUS LIKE 'Rpl_semi_sync_${n}_clients'`;
  }

  /** Whether this replica acknowledges now (its IO thread is connected to a semi-sync master), as column Value. */
  replicaStatusSql(n: ReplicaNames): string {
    return `SHOW GLOBAL STATUS LIKE 'Rpl_semi_sync_${n}_status'`;
  }

  /** The value of a one-row SHOW GLOBAL STATUS LIKE answer. */
  statusValue(rows: Row[]): string {
    return String(rows[0]?.Value ?? rows[0]?.VALUE ?? '');
  }
}

export function semiSyncDialectFor(version: ServerVersion): SemiSyncDialect {
  return new SemiSyncDialect(version);
}

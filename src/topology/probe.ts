import { dialectFor, parseVersion, type Dialect } from '../dialect/dialect.js';
import { formatAddress, parseAddress } from '../domain/address.js';
import { binlogLocationSql } from '../dialect/salvage-dialect.js';
import type { ResolvedConfig, ResolvedHost } from './config-types.js';
import { describeConnectError, type ConnectionSet, type SqlConnection } from './connection.js';
import type { HostState } from '../domain/server-state.js';

const PROBE_QUERY_MS = 10_000;

/** Reads everything mmmf decides on from one server. Never changes anything. */
export async function probeHost(
  host: ResolvedHost,
  conn: SqlConnection,
): Promise<{ state: HostState; dialect: Dialect }> {
  const [v] = await conn.query('SELECT VERSION() AS version, @@version_comment AS comment', PROBE_QUERY_MS);
  const version = parseVersion(String(v?.version ?? ''), String(v?.comment ?? ''));
  const dialect = dialectFor(version);
  const [vars = {}] = await conn.query(dialect.variablesSql(), PROBE_QUERY_MS);
  const replicaRows = await conn.query(dialect.replicaStatusSql(), PROBE_QUERY_MS);
  const all = dialect.allChannelsSql();
  const channels = all ? (await conn.query(all, PROBE_QUERY_MS)).length : replicaRows.length;
  const binlogRows = Number(vars.log_bin) === 1 ? await conn.query(dialect.binlogStatusSql(), PROBE_QUERY_MS) : [];
  const binlog = dialect.parseBinlogStatus(binlogRows[0]);
  const clients = await conn.query(dialect.clientConnectionsSql(), PROBE_QUERY_MS);
  const replica = replicaRows[0] ? dialect.parseReplicaStatus(replicaRows[0]) : undefined;
  const [trx] = replica ? [] : await conn.query(dialect.oldestWriteTransactionSql(), PROBE_QUERY_MS);
  const ss = dialect.semiSync;
  const semiSync = ss.parse(
    await conn.query(ss.variablesSql(), PROBE_QUERY_MS),
    await conn.query(ss.statusSql(), PROBE_QUERY_MS),
  );
  const files = await serverFiles(conn);
  const state: HostState = {
    name: host.name,
    address: formatAddress(host),
    reachable: true,
    version,
    serverId: Number(vars.server_id),
    ...(vars.server_uuid ? { serverUuid: String(vars.server_uuid) } : {}),
    // MariaDB always has GTIDs; MySQL only with gtid_mode=ON and enforce_gtid_consistency=ON.
    gtidEnabled:
      version.flavor === 'mariadb' ||
      (String(vars.gtid_mode).toUpperCase() === 'ON' &&
        ['ON', '1'].includes(String(vars.enforce_gtid_consistency).toUpperCase())),
    readOnly: Number(vars.read_only) === 1,
    ...(vars.super_read_only !== undefined ? { superReadOnly: Number(vars.super_read_only) === 1 } : {}),
    logBin: Number(vars.log_bin) === 1,
    logReplicaUpdates: Number(vars.log_replica_updates) === 1,
    relayLogPurge: Number(vars.relay_log_purge) === 1,
    binlogFormat: String(vars.binlog_format ?? ''),
    ...(vars.net_timeout !== undefined ? { netTimeout: Number(vars.net_timeout) } : {}),
    ...(vars.gtid_strict_mode !== undefined ? { gtidStrictMode: Number(vars.gtid_strict_mode) === 1 } : {}),
    gtidBinlog: String(vars.gtid_binlog ?? '').replace(/\s+/g, ''),
    gtidApplied: String(vars.gtid_applied ?? '').replace(/\s+/g, ''),
    ...(vars.gtid_current !== undefined ? { gtidCurrent: String(vars.gtid_current ?? '').replace(/\s+/g, '') } : {}),
    ...(vars.gtid_binlog_state !== undefined
      ? { gtidBinlogState: String(vars.gtid_binlog_state ?? '').replace(/\s+/g, '') }
      : {}),
    ...(binlog ? { binlog } : {}),
    ...(replica ? { replica } : {}),
    ...(channels > 1 ? { channels } : {}),
    clientConnections: clients.length,
    ...(trx ? { oldestWriteTrxSeconds: Number(trx.s) } : {}),
    semiSync,
    ...(files ? { files } : {}),
  };
  return { state, dialect };
}

/** Where the server keeps its files (remembered for a salvage of its binlog); nothing when it cannot say. */
async function serverFiles(conn: SqlConnection): Promise<HostState['files']> {
  try {
    const [r] = await conn.query(binlogLocationSql(), PROBE_QUERY_MS);
    const text = (v: unknown) => (typeof v === 'string' && v !== '' ? v : undefined);
    const datadir = text(r?.datadir);
    if (!datadir) return undefined;
    const logBinBasename = text(r?.log_bin_basename);
    const logBinIndex = text(r?.log_bin_index);
    return { datadir, ...(logBinBasename ? { logBinBasename } : {}), ...(logBinIndex ? { logBinIndex } : {}) };
  } catch {
    return undefined; // a server that cannot say is probed all the same: this only serves a later salvage
  }
}

/** The probed cluster: one state per configured host (in config order) and a dialect per reachable host. */
export interface ProbedCluster {
  states: HostState[];
  dialects: Map<string, Dialect>;
}

/** Probes every host in parallel over already-open connections; a host that fails is reported, not fatal. */
export async function probeCluster(config: ResolvedConfig, conns: ConnectionSet): Promise<ProbedCluster> {
  const dialects = new Map<string, Dialect>();
  const states = await Promise.all(
    config.hosts.map(async (h): Promise<HostState> => {
      const down = (error: string): HostState => ({ name: h.name, address: formatAddress(h), reachable: false, error });
      const conn = conns.open.get(h.name);
      if (!conn) return down(conns.failed.get(h.name) ?? 'not connected');
      try {
        const { state, dialect } = await probeHost(h, conn);
        dialects.set(h.name, dialect);
        return state;
      } catch (err) {
        // Connected, but a status statement failed: say so, it is not a network problem.
        return down(`connected, but reading its replication state failed: ${describeConnectError(err)}`);
      }
    }),
  );
  await addResolvedAddresses(states);
  return { states, dialects };
}

const LOOKUP_MS = 1000;

/**
 * What every configured host and every replica's source resolves to: the second identity signal (after
 * server ids) that tells `localhost` and `127.0.0.1` apart from two different servers. A name that does not
 * resolve within a second resolves to nothing (and so matches nothing).
 */
async function addResolvedAddresses(states: HostState[]): Promise<void> {
  const { lookup } = await import('node:dns/promises');
  const cache = new Map<string, Promise<string[]>>();
  const resolve = (name: string) => {
    let p = cache.get(name);
    if (!p) {
      const timeout = new Promise<string[]>((r) => setTimeout(() => r([]), LOOKUP_MS).unref());
      const found = lookup(name, { all: true }).then(
        (xs) => xs.map((x) => x.address),
        () => [],
      );
      cache.set(name, (p = Promise.race([found, timeout])));
    }
    return p;
  };
  await Promise.all(
    states.map(async (s) => {
      s.resolved = await resolve(parseAddress(s.address).host);
      if (s.replica) s.replica.sourceResolved = await resolve(s.replica.sourceHost);
    }),
  );
}

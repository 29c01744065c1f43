import { dialectFor } from '../dialect/dialect.js';
import { acksNeeded, type SemiSyncMasterSide } from '../domain/semi-sync.js';
import { type HostState, isProbed, type ProbedHost } from '../domain/server-state.js';
import type { ResolvedConfig } from '../topology/config-types.js';
import type { Finding } from './replica-checks.js';
import { describeSettings, semiSyncConfig, semiSyncIntent } from './semi-sync-intent.js';

/**
 * Below this, a replica that restarts, a network hiccup or a long fsync makes the master give up waiting and
 * acknowledge commits no replica has: the promise "no acknowledged write is lost" then holds only sometimes.
 * (MySQL's and MariaDB's default is 10 s.)
 */
export const SHORT_SEMI_SYNC_TIMEOUT_MS = 1000;

const warn = (host: string | undefined, message: string, fix: string): Finding => ({
  level: 'warning',
  ...(host ? { host } : {}),
  message,
  fix,
});

/**
 * Pure: what `mmmf check` says about semi-synchronous replication on a cluster that runs it: a master waiting for
 * more acknowledging replicas than it has, one that falls back to asynchronous quickly (or now runs so), and
 * candidates that could not carry it after a failover (no plugin, other settings than the master's).
 */
export function semiSyncFindings(
  config: ResolvedConfig,
  master: HostState | undefined,
  replicas: HostState[],
  candidates: string[],
): Finding[] {
  const intent = semiSyncIntent(config, master, replicas);
  if (!intent) return [];
  const side = isProbed(master) ? master.semiSync?.master : undefined;
  const out = side?.enabled && isProbed(master) ? masterFindings(master, side, replicas) : [];
  const cfg = semiSyncConfig(config);
  for (const name of candidates) {
    const t = replicas.find((r) => r.name === name);
    if (!isProbed(t)) continue;
    const own = t.semiSync?.master;
    if (!own && !t.semiSync?.builtIn) {
      if (cfg.installPlugins) continue;
      const ss = dialectFor(t.version).semiSync;
      const install = ss.installPlugin(ss.pluginFor('master'));
      out.push(
        warn(
          name,
          'no semi-sync master plugin: a failover to it is refused (the cluster runs semi-sync)',
          `${install} (and plugin-load-add in its my.cnf), or semiSync.installPlugins: true in the config`,
        ),
      );
    } else if (own && side && (cfg.timeoutMs === undefined || cfg.waitPoint === undefined)) {
      out.push(...settingsDrift(t, own, master?.name ?? 'the master', side, cfg));
    }
  }
  return out;
}

/** The master's own side: enough acknowledging replicas, a timeout that does not give up quickly, really on. */
function masterFindings(master: ProbedHost, side: SemiSyncMasterSide, replicas: HostState[]): Finding[] {
  const out: Finding[] = [];
  const needed = acksNeeded(side);
  const acking = replicas.filter((r) => r.reachable && r.semiSync?.replica?.enabled);
  const w = side.names;
  if (acking.length < needed) {
    const have = `${acking.length} of its replicas ${acking.length === 1 ? 'has' : 'have'} the replica side on`;
    out.push(
      warn(
        master.name,
        `semi-sync: ${master.name} waits for ${needed} acknowledging replica${needed > 1 ? 's' : ''} per commit, but ` +
          `${have}: commits wait ${side.timeoutMs ?? '?'} ms, then it runs asynchronously`,
        replicaSideFix(replicas) ??
          `add replicas, or lower rpl_semi_sync_${w}_wait_for_${w === 'source' ? 'replica' : 'slave'}_count`,
      ),
    );
  }
  if (side.timeoutMs !== undefined && side.timeoutMs < SHORT_SEMI_SYNC_TIMEOUT_MS) {
    out.push(
      warn(
        master.name,
        `rpl_semi_sync_${w}_timeout = ${side.timeoutMs} ms: a replica slower than that for a moment makes it ` +
          'acknowledge commits no replica has received (it falls back to asynchronous)',
        `SET GLOBAL rpl_semi_sync_${w}_timeout = 10000 (or more; and in its my.cnf)`,
      ),
    );
  }
  if (side.waitNoReplica === false) {
    out.push(
      warn(
        master.name,
        `rpl_semi_sync_${w}_wait_no_${w === 'source' ? 'replica' : 'slave'} = OFF: with no replica connected it ` +
          'acknowledges commits at once, asynchronously',
        `SET GLOBAL rpl_semi_sync_${w}_wait_no_${w === 'source' ? 'replica' : 'slave'} = ON (and in its my.cnf)`,
      ),
    );
  }
  if (!side.status) {
    out.push(
      warn(
        master.name,
        `Rpl_semi_sync_${w}_status is OFF: ${master.name} runs asynchronously right now (a commit timed out ` +
          'waiting for a replica; it switches back once a replica has caught up)',
        'find out why no replica acknowledged in time (IO threads, network, the replicas above)',
      ),
    );
  }
  return out;
}

/** How to switch a replica's side on: the statements for the first replica that has it off. */
function replicaSideFix(replicas: HostState[]): string | undefined {
  const r = replicas.find((x): x is ProbedHost => isProbed(x) && !x.semiSync?.replica?.enabled);
  if (!r) return undefined;
  const d = dialectFor(r.version);
  const names = r.semiSync?.replica?.names ?? (d.semiSync.pluginFor('replica').names as 'slave' | 'replica');
  const install =
    r.semiSync?.replica || r.semiSync?.builtIn ? '' : `${d.semiSync.installPlugin(d.semiSync.pluginFor('replica'))}; `;
  return (
    `on ${r.name}: ${install}${d.semiSync.replicaOn(names)}; ${d.stopIoThread()}; ${d.startIoThread()} ` +
    '(and the variable in its my.cnf)'
  );
}

/**
 * A candidate promoted after the master died keeps its own timeout and wait point (the master's can no longer be
 * read): when they differ from the master's, say so while they can still be aligned.
 */
function settingsDrift(
  t: ProbedHost,
  own: SemiSyncMasterSide,
  masterName: string,
  side: SemiSyncMasterSide,
  cfg: ReturnType<typeof semiSyncConfig>,
): Finding[] {
  const timeoutDiffers = cfg.timeoutMs === undefined && own.timeoutMs !== side.timeoutMs;
  const pointDiffers = cfg.waitPoint === undefined && own.waitPoint !== side.waitPoint;
  if (!timeoutDiffers && !pointDiffers) return [];
  const theirs = describeSettings({ timeoutMs: own.timeoutMs, waitPoint: own.waitPoint });
  const master = describeSettings({ timeoutMs: side.timeoutMs, waitPoint: side.waitPoint });
  return [
    warn(
      t.name,
      `promoted while ${masterName} is down, it would run semi-sync with its own ${theirs} (${masterName}: ${master})`,
      'set the same values in its my.cnf, or semiSync.timeoutMs and semiSync.waitPoint in the config',
    ),
  ];
}

import type { MasterSettings } from '../dialect/semi-sync.js';
import type { HostState } from '../domain/server-state.js';
import type { ResolvedConfig, ResolvedSemiSync } from '../topology/config-types.js';
import { SEMI_SYNC_DEFAULTS } from '../topology/validate-semi-sync.js';

/**
 * What a plan does about semi-synchronous replication: the new master runs its side with `settings`, every
 * server that replicates from it runs the replica side. Absent: the cluster is asynchronous, or the config says
 * `semiSync: false` (mmmf then touches no semi-sync setting).
 *
 * @example { why: 'the old master test1 runs it', settings: { timeoutMs: 3000, waitPoint: 'AFTER_SYNC' },
 *   settingsWhy: "the old master's", waitForAck: true, installPlugins: false }
 */
export interface SemiSyncIntent {
  /** Why the cluster counts as semi-synchronous (shown in the plan). */
  why: string;
  /** The new master's side; a value absent keeps the new master's own. */
  settings: MasterSettings;
  /** Where the settings come from. */
  settingsWhy: string;
  /** Writes open only once an acknowledging replica is connected. */
  waitForAck: boolean;
  installPlugins: boolean;
}

export const semiSyncConfig = (config: ResolvedConfig): ResolvedSemiSync => config.semiSync ?? SEMI_SYNC_DEFAULTS;

/**
 * Pure: whether (and how) a run carries semi-sync, from the config and the old master's side — or, when the old
 * master does not answer, from its replicas' side (a replica side switched on says the cluster runs it).
 * `master`: the old master of a failover or switchover, the current master of a rejoin.
 */
export function semiSyncIntent(
  config: ResolvedConfig,
  master: HostState | undefined,
  replicas: HostState[],
): SemiSyncIntent | undefined {
  const cfg = semiSyncConfig(config);
  if (cfg.enabled === false) return undefined;
  const name = master?.name ?? 'the old master';
  const side = master?.reachable ? master.semiSync?.master : undefined;
  const acking = replicas.filter((r) => r.reachable && r.semiSync?.replica?.enabled).map((r) => r.name);
  const why =
    cfg.enabled === true
      ? 'semiSync: true in the config'
      : side?.enabled
        ? `${name} runs it (rpl_semi_sync_${side.names}_enabled = ON)`
        : !master?.reachable && acking.length
          ? `${name} does not answer, and ${acking.join(', ')} ${acking.length > 1 ? 'have' : 'has'} the replica side on`
          : undefined;
  if (!why) return undefined;
  const settings: MasterSettings = {
    ...(cfg.timeoutMs !== undefined ? { timeoutMs: cfg.timeoutMs } : pick(side?.timeoutMs, 'timeoutMs')),
    ...(cfg.waitPoint !== undefined ? { waitPoint: cfg.waitPoint } : pick(side?.waitPoint, 'waitPoint')),
    ...pick(side?.waitNoReplica, 'waitNoReplica'),
    ...pick(side?.waitForCount, 'waitForCount'),
  };
  return { why, settings, settingsWhy: settingsWhy(cfg, side !== undefined, name), ...flags(cfg) };
}

const pick = <K extends keyof MasterSettings>(v: MasterSettings[K] | undefined, k: K) =>
  v === undefined ? {} : { [k]: v };

const flags = (cfg: ResolvedSemiSync) => ({ waitForAck: cfg.waitForAck, installPlugins: cfg.installPlugins });

function settingsWhy(cfg: ResolvedSemiSync, fromOld: boolean, name: string): string {
  const both = cfg.timeoutMs !== undefined && cfg.waitPoint !== undefined;
  if (both) return 'from the config';
  const rest = fromOld ? `${name}'s` : "the new master's own (the old master's are unknown)";
  return cfg.timeoutMs !== undefined || cfg.waitPoint !== undefined ? `from the config, else ${rest}` : rest;
}

/** The settings as the plan shows them. Example: 'timeout 3000 ms, wait point AFTER_SYNC'. */
export function describeSettings(s: MasterSettings): string {
  const parts = [
    s.timeoutMs !== undefined ? `timeout ${s.timeoutMs} ms` : '',
    s.waitPoint ? `wait point ${s.waitPoint}` : '',
    s.waitNoReplica !== undefined ? `wait with no replica ${s.waitNoReplica ? 'ON' : 'OFF'}` : '',
    s.waitForCount !== undefined ? `${s.waitForCount} ack${s.waitForCount === 1 ? '' : 's'} per commit` : '',
  ].filter(Boolean);
  return parts.join(', ') || 'its own settings';
}

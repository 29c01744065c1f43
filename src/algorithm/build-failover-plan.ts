import { accept, type Outcome, refuse } from '../domain/outcome.js';
import type { ResolvedConfig } from '../topology/config-types.js';
import type { HostState } from '../domain/server-state.js';
import { type Analysis, analyzeTopology, passGate } from './analyze-topology.js';
import { chooseTarget } from './choose-target.js';
import { type PlanContext, StepList } from './plan/context.js';
import { addReaderSteps } from './plan/readers.js';
import { assignReaders } from './reader-vips.js';
import { confirmBest, equalizeReplicas, mapLaggingReplicas } from './plan/equalize.js';
import { salvageDeadMaster, type SalvageOptions } from './plan/salvage.js';
import { fenceOldMaster } from './plan/fence.js';
import {
  addWriterVip,
  promoteTarget,
  repointReplicas,
  startStoppedUnderTarget,
  verifyWriterVip,
} from './plan/promote.js';
import { quiesceReplicas } from './plan/quiesce.js';
import { semiSyncHeader, semiSyncRefusals, semiSyncWarnings } from './plan/semi-sync.js';
import { semiSyncIntent } from './semi-sync-intent.js';
import { switchoverRefusals } from './plan/switchover.js';
import type { Plan } from './plan-types.js';

export { showRef } from './plan/context.js';

export interface FailoverOptions {
  target: string;
  /** A planned switchover: the master must be alive and healthy, and it becomes a replica of the target. */
  switchover?: { maxLagSeconds: number; maxTransactionSeconds: number };
  /** Apply delayed replicas' relay logs now (lifting their delay) and let them take part. */
  liftDelay?: boolean;
  /** Fail over even though the old master answers (it is fenced first); without it a live master is refused. */
  fenceLiveMaster?: boolean;
  /** The master the last run that promoted one published in the cluster's store. */
  published?: string | undefined;
  /** Reader VIPs configured: who holds each now (read over SSH) and the hosts set offline. */
  readers?: { holders: Map<string, string[]>; offline: string[] };
  /** Salvaging a dead old master's binlog over SSH: switched off for this run, and what mmmf remembers of it. */
  salvage?: SalvageOptions;
}

/**
 * Pure: (config, probed state, options) -> the plan, or every reason a failover would risk losing or splitting
 * data (the operator sees all of them at once). No I/O, no clock.
 *
 * The runbook: fence the old master → quiesce every replica (stop receiving, apply the relay log, stop) →
 * confirm the best replica → bring the target, then the others, up to it → promote the target → move the VIP →
 * repoint the others (and, in a switchover, the old master) → verify.
 */
export function buildFailoverPlan(config: ResolvedConfig, states: HostState[], opts: FailoverOptions): Outcome<Plan> {
  if (opts.target === 'auto' && !opts.switchover) return autoPlan(config, states, opts);
  const a = analyzeTopology(config, states, opts);
  const semiSync = semiSyncIntent(config, a.oldMaster.state, a.direct);
  const header = {
    kind: opts.switchover ? ('switchover' as const) : ('failover' as const),
    oldMaster: {
      address: a.oldMaster.address,
      ...(a.oldMaster.name ? { name: a.oldMaster.name } : {}),
      reachable: !!a.oldMaster.state?.reachable,
    },
    positioning: a.positioning.mode,
    positioningWhy: a.positioning.why,
    hosts: a.hosts,
    warnings: [...a.warnings, ...semiSyncWarnings(a, semiSync, !!opts.switchover)],
    ...(semiSync && a.target ? { semiSync: semiSyncHeader(semiSync, a.target.name) } : {}),
  };
  if (a.nothingToDo) {
    const plan: Plan = { ...header, kind: 'failover', target: opts.target, best: opts.target, steps: [] };
    return accept({ ...plan, nothingToDo: a.nothingToDo });
  }
  const own = [
    ...(opts.switchover
      ? [...switchoverRefusals(a, states, opts.switchover), ...tlsRefusals(config, a)]
      : a.oldMaster.state?.reachable && !opts.fenceLiveMaster
        ? [liveMasterRefusal(a, opts.target)]
        : []),
    ...semiSyncRefusals(a, semiSync, !!opts.switchover),
  ];
  const gate = passGate(a, own);
  if (!gate.ok) {
    const verb = opts.switchover ? 'switch over' : 'fail over';
    return refuse(gate.refusals, `refusing to ${verb} to ${opts.target}: nothing was changed`);
  }
  const ctx = {
    config,
    analysis: gate.value,
    switchover: !!opts.switchover,
    list: new StepList(),
    ...(semiSync ? { semiSync } : {}),
  };
  const fence = fenceOldMaster(ctx);
  const stopped = quiesceReplicas(ctx, fence);
  const confirmed = confirmBest(ctx, fence, stopped);
  const mapped = mapLaggingReplicas(ctx, confirmed, stopped);
  const salvaged = salvageDeadMaster(ctx, confirmed, opts.salvage);
  const ready = equalizeReplicas(ctx, salvaged, stopped, mapped);
  const promote = promoteTarget(ctx, ready, salvaged.step);
  const vip = addWriterVip(ctx, promote, fence);
  repointReplicas(ctx, promote, ready, fence);
  startStoppedUnderTarget(ctx, promote);
  verifyWriterVip(ctx, vip);
  if (opts.readers) placeReaders(ctx, opts.readers);
  return accept({ ...header, target: gate.value.target.name, best: gate.value.best.name, steps: ctx.list.steps });
}

/** `--failover-to auto`: the target the rules choose, then its plan (with how it was chosen). */
function autoPlan(config: ResolvedConfig, states: HostState[], opts: FailoverOptions): Outcome<Plan> {
  const choice = chooseTarget(config, states, !!opts.liftDelay, opts.published);
  if (!choice.ok) return refuse(choice.refusals, 'refusing to fail over (--failover-to auto): nothing was changed');
  const o = buildFailoverPlan(config, states, { ...opts, target: choice.value.name });
  return o.ok ? accept({ ...o.value, targetWhy: choice.value.why }) : o;
}

/**
 * Reader VIPs go to the replicas this run verifies (a delayed one lags on purpose, an offline one is kept out),
 * each added once its host is verified; the new master holds them only when no replica qualifies.
 */
function placeReaders(ctx: PlanContext, readers: NonNullable<FailoverOptions['readers']>): void {
  const { config, list } = ctx;
  if (!config.vip?.readers.length) return;
  const verified = new Map(
    list.steps.filter((x) => x.action.kind === 'verify-replica' && !x.action.delayed).map((x) => [x.host, x] as const),
  );
  const offline = new Set(readers.offline);
  const qualifying = config.hosts.map((h) => h.name).filter((n) => verified.has(n) && !offline.has(n));
  const moves = assignReaders(config.vip.readers, qualifying, readers.holders, ctx.analysis.target.name);
  addReaderSteps(
    config,
    list,
    moves,
    (host) => verified.get(host) ?? list.steps.find((x) => x.action.kind === 'promote'),
  );
}

/**
 * A channel that uses TLS keeps its own settings (or replication.ssl). The old master a switchover demotes
 * gets a channel it never had: with the cluster's channels on TLS and no replication.ssl, it would be the one
 * plaintext channel — refused, never silently downgraded.
 */
function tlsRefusals(config: ResolvedConfig, a: Analysis): string[] {
  if (config.replication.ssl) return [];
  const tls = a.direct.filter((r) => r.replica.tls);
  const old = a.oldMaster.state;
  if (!tls.length || !old || old.replica?.tls) return [];
  return [
    `${tls.map((r) => r.name).join(', ')} replicate over TLS, but the old master ${old.name} has no TLS channel of ` +
      'its own to carry and replication.ssl is not configured: its new channel would be plaintext. Add ' +
      "replication: { ..., ssl: { ca: '/path/on/the/replicas/ca.pem' } } to the config.",
  ];
}

/** A failover takes the master out of service: one that still answers is never failed over by accident. */
function liveMasterRefusal(a: Analysis, target: string): string {
  const old = `${a.oldMaster.name ?? a.oldMaster.address} (${a.oldMaster.state?.address ?? a.oldMaster.address})`;
  return (
    `the old master ${old} answers: it is alive, and a failover would take it out of service. For a planned ` +
    `change use --switchover-to ${target} (writes wait a moment, nothing is lost, it becomes a replica). To ` +
    'fail over from a master that is alive but must go (hung disk, broken storage), add --fence-live-master: ' +
    'it is made read-only, its client connections are killed, its last writes collected and the VIP removed.'
  );
}

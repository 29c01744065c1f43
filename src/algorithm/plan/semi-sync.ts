import { isProbed, type ProbedHost } from '../../domain/server-state.js';
import type { Analysis, PlannableAnalysis } from '../analyze-topology.js';
import type { SemiSyncChange, Step } from '../plan-types.js';
import { describeSettings, type SemiSyncIntent } from '../semi-sync-intent.js';
import { dialectOf, type PlanContext } from './context.js';

// Semi-synchronous replication across a promotion. The order that loses nothing:
//  1. the promotion switches the new master's side on before anything can be written there;
//  2. every replica it repoints switches its replica side on before START SLAVE (the side takes effect when the
//     IO thread starts), and its master side off (it waits for nobody's acknowledgement any more);
//  3. writes open (read_only OFF) only once enough of them are connected with their side on: the very first
//     commit then waits for a replica that received it. With semiSync.waitForAck: false the promotion opens
//     writes itself, as without semi-sync, and commits made before a replica connects wait up to the timeout.
// Writes stay blocked in a switchover only for the repointing (parallel) and the old master's demotion; the
// acknowledgement wait itself ends as soon as the first replica's IO thread has connected.

/** The promoted server's master side on (installing its plugin first when it lacks it and the config allows). */
export function newMasterChange(intent: SemiSyncIntent, target: ProbedHost): SemiSyncChange | undefined {
  const ss = dialectOf(target).semiSync;
  const side = target.semiSync?.master;
  if (!side && !intent.installPlugins && !target.semiSync?.builtIn) return undefined;
  const names = side?.names ?? (ss.pluginFor('master').names as 'master' | 'source');
  return {
    ...(side
      ? {}
      : { install: { check: ss.pluginActiveSql('master'), install: ss.installPlugin(ss.pluginFor('master')) } }),
    set: ss.masterOn(names, intent.settings),
  };
}

/** Whether a follower will acknowledge: its replica plugin is loaded, or mmmf may install it. */
const canAck = (intent: SemiSyncIntent, r: ProbedHost) =>
  !!r.semiSync?.replica || !!r.semiSync?.builtIn || intent.installPlugins;

/**
 * A server that replicates from the new master: its replica side on and, when it runs one, its master side off.
 * Undefined when there is nothing to send (no plugin to switch on, none installed, no master side running).
 */
export function followerChange(intent: SemiSyncIntent, r: ProbedHost): SemiSyncChange | undefined {
  const ss = dialectOf(r).semiSync;
  const master = r.semiSync?.master;
  const replica = r.semiSync?.replica;
  const off = master?.enabled ? [ss.masterOff(master.names)] : [];
  if (!canAck(intent, r)) return off.length ? { set: off } : undefined;
  const names = replica?.names ?? (ss.pluginFor('replica').names as 'slave' | 'replica');
  return {
    ...(replica
      ? {}
      : { install: { check: ss.pluginActiveSql('replica'), install: ss.installPlugin(ss.pluginFor('replica')) } }),
    set: [...off, ss.replicaOn(names)],
  };
}

/** How a follower's verification reads that it acknowledges (its replica side's status), when it will. */
export function ackStatusSql(intent: SemiSyncIntent | undefined, r: ProbedHost): string | undefined {
  if (!intent || !canAck(intent, r)) return undefined;
  const ss = dialectOf(r).semiSync;
  return ss.replicaStatusSql(r.semiSync?.replica?.names ?? (ss.pluginFor('replica').names as 'slave' | 'replica'));
}

/** A change as the printed plan shows it. */
export function showChange(c: SemiSyncChange | undefined): string[] {
  if (!c) return [];
  return [...(c.install ? [`${c.install.install} -- when not installed (${c.install.check})`] : []), ...c.set];
}

/** Who will replicate from the new master once the plan ran: as repointReplicas builds them. */
function followers(a: Analysis | PlannableAnalysis, switchover: boolean): ProbedHost[] {
  const byFile = a.positioning.mode === 'file';
  const old = a.oldMaster.state;
  return [
    ...a.replicas.filter((r) => r !== a.target),
    ...(byFile ? [] : [...a.delayed, ...a.orphans]),
    ...(switchover && isProbed(old) ? [old] : []),
  ];
}

/**
 * Refusals before any change: a new master that cannot run its side (plugin missing, installing not allowed),
 * and writes that could never open (no follower could acknowledge while writes wait for one).
 */
export function semiSyncRefusals(a: Analysis, intent: SemiSyncIntent | undefined, switchover: boolean): string[] {
  const t = a.target;
  if (!intent || !t) return [];
  const out: string[] = [];
  if (!newMasterChange(intent, t)) {
    const ss = dialectOf(t).semiSync;
    out.push(
      `the cluster runs semi-synchronous replication (${intent.why}), but ${t.name} has no semi-sync master ` +
        `plugin: run ${ss.installPlugin(ss.pluginFor('master'))} on ${t.name} (and add it to its my.cnf), or set ` +
        'semiSync.installPlugins: true to let mmmf install it, or semiSync: false to fail over asynchronously.',
    );
  }
  const acking = followers(a, switchover).filter((r) => canAck(intent, r));
  if (intent.waitForAck && !acking.length) {
    out.push(
      `the cluster runs semi-synchronous replication (${intent.why}), and writes open on ${t.name} only once a ` +
        'replica acknowledges, but no replica of it could: none takes part, or none has the semi-sync replica ' +
        'plugin (install it, or set semiSync.installPlugins: true). To open writes asynchronously, set ' +
        'semiSync.waitForAck: false.',
    );
  }
  return out;
}

/**
 * Semi-sync with waitForAck: the replicas that would acknowledge the new master, each with the step that readies
 * it for its repointing. Undefined when the promotion needs no such check: no wait for an acknowledgement, or an
 * acknowledging follower needs no preparation (it is ready whatever fails).
 */
export function ackersToCheck(
  ctx: PlanContext,
  ready: Map<string, Step>,
): { host: string; ready: number }[] | undefined {
  const intent = ctx.semiSync;
  if (!intent?.waitForAck) return undefined;
  const acking = followers(ctx.analysis, ctx.switchover).filter((r) => canAck(intent, r));
  const out = acking.flatMap((r) => {
    const step = ready.get(r.name);
    return step ? [{ host: r.name, ready: step.n }] : [];
  });
  return out.length === acking.length && out.length ? out : undefined;
}

/** Plan warnings: followers that will replicate asynchronously (no replica plugin, installing not allowed). */
export function semiSyncWarnings(a: Analysis, intent: SemiSyncIntent | undefined, switchover: boolean): string[] {
  const t = a.target;
  if (!intent || !t) return [];
  return followers(a, switchover)
    .filter((r) => !canAck(intent, r))
    .map((r) => noReplicaPlugin(r, t.name));
}

/** The warning for a server that will replicate from `master` without acknowledging. */
export function noReplicaPlugin(r: ProbedHost, master: string): string {
  const ss = dialectOf(r).semiSync;
  return (
    `${r.name} has no semi-sync replica plugin: it replicates from ${master} asynchronously and never ` +
    `acknowledges; run ${ss.installPlugin(ss.pluginFor('replica'))} there, or set semiSync.installPlugins: true`
  );
}

/** The plan header's line. Example: 'test1 runs it; the new master: timeout 3000 ms, wait point AFTER_SYNC ...'. */
export function semiSyncHeader(intent: SemiSyncIntent, target: string): string {
  const settings = describeSettings(intent.settings);
  const writes = intent.waitForAck
    ? 'writes open once a replica acknowledges'
    : 'writes open at once (semiSync.waitForAck: false)';
  return `${intent.why}; ${target}: ${settings} (${intent.settingsWhy}); ${writes}`;
}

/**
 * Semi-sync with waitForAck: the step that opens writes on the new master once enough replicas with their side
 * on are connected (the master's acknowledgement count, at most as many as follow it). Without waitForAck
 * there is none: the promotion opens writes itself.
 */
export function openWritesStep(ctx: PlanContext, promote: Step, follows: { host: ProbedHost; step: Step }[]): void {
  const intent = ctx.semiSync;
  if (!intent?.waitForAck) return;
  const target = ctx.analysis.target;
  const td = dialectOf(target);
  const acking = follows.filter((f) => f.step.action.kind === 'repoint' && canAck(intent, f.host));
  const side = target.semiSync?.master;
  const names = side?.names ?? (td.semiSync.pluginFor('master').names as 'master' | 'source');
  const count = Math.max(1, intent.settings.waitForCount ?? side?.waitForCount ?? 1);
  const needed = Math.max(1, Math.min(count, acking.length));
  const clientsSql = td.semiSync.masterClientsSql(names);
  const setWritable = td.setReadOnly(false);
  const seconds = ctx.config.timeouts.verify;
  ctx.list.add({
    phase: 'open-writes',
    host: target.name,
    title: `Open writes once ${needed} replica${needed > 1 ? 's' : ''} acknowledge${needed > 1 ? '' : 's'}`,
    action: { kind: 'open-writes', clientsSql, needed, followers: acking.map((f) => f.step.n), setWritable },
    sql: [`${clientsSql} -- repeated until >= ${needed}, at most ${seconds} s`, ...setWritable],
    why: 'semi-sync: the first commit must already wait for a replica that received it, never fall back to asynchronous',
    after: [promote],
  });
}

import { isProbed, type ProbedHost } from '../../domain/server-state.js';
import { showRemote, vipAddArgv, vipCheckArgv, vipRemoveArgv } from '../../vip/vip-commands.js';
import { isFormerMaster } from '../replica-facts.js';
import type { Step, StepRef } from '../plan-types.js';
import { coordinatesOf, dialectOf, hostConfig, type PlanContext, sourceSpec } from './context.js';
import type { Fence } from './fence.js';
import {
  ackersToCheck,
  ackStatusSql,
  followerChange,
  newMasterChange,
  openWritesStep,
  showChange,
} from './semi-sync.js';

/** The promotion: the target forgets the old master and opens writes. Nothing that follows may run without it. */
export function promoteTarget(ctx: PlanContext, ready: Map<string, Step>, confirmed: Step): Step {
  const { analysis: a, list } = ctx;
  const target = a.target;
  const td = dialectOf(target);
  const recheck = recheckOldMaster(ctx);
  const byFile = a.positioning.mode === 'file';
  const stop = td.stopReplication();
  // MMM's move_role writer: in a pair's switchover the new active keeps replicating from the old active (now
  // the read-only passive), so the pair stays circular. Anywhere else it forgets the old master; after a
  // failover that also means nothing the dead active wrote but never sent can flow in when it comes back.
  const keepPair = ctx.switchover && a.passive === target;
  const reset = keepPair ? undefined : td.resetReplicationAll();
  const restart = keepPair ? td.startReplication() : undefined;
  // Semi-sync: the master side goes on here, before anything can be written; with waitForAck an open-writes
  // step opens writes once a replica acknowledges (plan/semi-sync.ts).
  const semiSync = ctx.semiSync ? newMasterChange(ctx.semiSync, target) : undefined;
  const setWritable = ctx.semiSync?.waitForAck ? [] : td.setReadOnly(false);
  const recordEnd = byFile ? td.binlogStatusSql() : undefined;
  const ackers = ackersToCheck(ctx, ready);
  return list.add({
    phase: 'promote',
    host: target.name,
    title: keepPair ? 'Promote to active master (the pair stays circular)' : 'Promote to master',
    action: {
      kind: 'promote',
      stop,
      ...(reset ? { reset } : {}),
      ...(recordEnd ? { recordEnd } : {}),
      ...(semiSync ? { semiSync } : {}),
      setWritable,
      ...(ackers ? { ackers } : {}),
      ...(restart ? { restart } : {}),
    },
    sql: [
      ...(ackers ? [`-- only when ${ackers.map((x) => x.host).join(' or ')} is ready to acknowledge`] : []),
      stop,
      ...(reset ? [reset] : []),
      ...(recordEnd ? [`${recordEnd} -- recorded before writes open: replicas start here`] : []),
      ...showChange(semiSync),
      ...setWritable,
      ...(restart ? [restart] : []),
    ],
    why:
      (keepPair
        ? `it accepts writes and keeps replicating from ${a.oldMaster.name ?? a.oldMaster.address}, its pair partner`
        : 'it forgets the old master and accepts writes') +
      (semiSync ? '; semi-sync master side on first' : '') +
      (setWritable.length ? '' : ' (they open once a replica acknowledges)'),
    after: [ready.get(target.name), confirmed, recheck],
  });
}

/**
 * A dead old master can come back while the run works (a crash restarted by systemd, a power cycle): right before
 * the promotion it is looked at again, and fenced over SQL if it answers, or nothing is promoted.
 */
function recheckOldMaster(ctx: PlanContext): Step | undefined {
  const { analysis: a, list } = ctx;
  const name = a.oldMaster.name;
  if (!name || a.oldMaster.state?.reachable) return undefined;
  const d = dialectOf(a.target);
  const setReadOnly = d.setReadOnly(true);
  const listClients = d.clientConnectionsSql();
  return list.add({
    phase: 'promote',
    host: name,
    title: 'Make sure the old master is still down (fence it if it answers again)',
    action: { kind: 'recheck-old-master', setReadOnly, listClients, dialectOf: a.target.name },
    sql: [`-- only if ${name} answers: ${setReadOnly.join('; ')}; ${listClients}; KILL each client connection`],
    why: 'a master that came back must not take writes next to the new one: fenced, or nothing is promoted',
  });
}

/** Moves the writer VIP onto the new master (after the promotion) and returns the step, if a VIP is configured. */
export function addWriterVip(ctx: PlanContext, promote: Step, fence: Fence): Step | undefined {
  const { config, analysis: a } = ctx;
  if (!config.vip) return undefined;
  const t = hostConfig(config, promote.host);
  // A live old master (fenced: read-only, clients killed) keeps the VIP until the new master is writable, then
  // gives it up and the new master takes it, back to back: clients see the VIP on no host for a moment only.
  // A dead one lost it first thing (fence phase). Either way the VIP is added only once it is off the old host
  // (or that host was shown unreachable over SSH), never on two hosts at once. (Semi-sync with waitForAck: the
  // new master is still read-only here; writes open moments later, once a replica acknowledges.)
  const old = a.oldMaster.name && a.oldMaster.state?.reachable ? hostConfig(config, a.oldMaster.name) : undefined;
  const removed = old
    ? ctx.list.add({
        phase: 'vip',
        host: old.name,
        title: 'Remove the writer VIP from the old master',
        action: { kind: 'vip-remove' },
        command: [showRemote(old, vipRemoveArgv(config.vip.address, old.vipInterface ?? config.vip.interface))],
        why: `${old.name} is read-only now; ${t.name} takes the VIP right after`,
        after: [promote],
      })
    : fence.vipRemove;
  return ctx.list.add({
    phase: 'vip',
    host: t.name,
    title: `Add the writer VIP on ${t.name} and announce it (gratuitous ARP)`,
    action: { kind: 'vip-add' },
    command: [showRemote(t, vipAddArgv(config.vip.address, t.vipInterface ?? config.vip.interface))],
    why: 'applications reach the writer through the VIP',
    after: [promote, removed],
  });
}

/**
 * Every other replica follows the new master: by GTID from where it stands, or by file from the new master's
 * binlog position recorded before writes opened. Delayed replicas follow too, with their delay kept (by file
 * their position cannot be mapped, so they are left stopped: the plan's warnings say so). A switchover also
 * demotes the old master. Each one is then verified.
 */
export function repointReplicas(ctx: PlanContext, promote: Step, ready: Map<string, Step>, fence: Fence): void {
  const { analysis: a } = ctx;
  const target = a.target;
  const byFile = a.positioning.mode === 'file';
  const at: StepRef | undefined = byFile ? { step: promote.n, key: 'file' } : undefined;
  const followers: { host: ProbedHost; step: Step; formerMaster: boolean; delay: number }[] = [];
  const others = a.replicas.filter((r) => r !== target);
  for (const r of [...others, ...(byFile ? [] : [...a.delayed, ...a.orphans])]) {
    const delay = a.delayed.includes(r) ? r.replica.sqlDelay : 0;
    const formerMaster = isFormerMaster(r);
    const why = byFile
      ? `it holds exactly what ${target.name} held before writes opened, so it starts at that binlog position`
      : `continues from its GTID position, which ${target.name}'s binlog holds` +
        (delay ? `; it keeps its delay of ${delay} s` : '');
    const after = [promote, ready.get(r.name)];
    const step = repointStep(ctx, r, { title: `Replicate from ${target.name}`, formerMaster, delay, at, why, after });
    followers.push({ host: r, step, formerMaster, delay });
  }
  // A switchover keeps the old master: it follows the new one (from gtid_current_pos: its own writes are in
  // its binlog, not in gtid_slave_pos) and stays read-only.
  const old = a.oldMaster.state;
  if (ctx.switchover && isProbed(old)) {
    const why = 'the old master becomes a replica of the new one, continuing from everything it wrote';
    const after = [promote, ...fence.gate];
    const title = `Replicate from ${target.name}`;
    const step = repointStep(ctx, old, { title, formerMaster: true, delay: 0, at, why, after, phase: 'demote' });
    followers.push({ host: old, step, formerMaster: true, delay: 0 });
  }
  openWritesStep(ctx, promote, followers);
  for (const f of followers) verifyStep(ctx, f.host, f);
}

/**
 * Replicas of the target that an earlier run's catch-up by file left stopped at its UNTIL: they replicated from
 * the target, so wherever they stopped is a place in its binlog, and writes opened on it only append — started
 * once it is promoted, then verified like every replica.
 */
export function startStoppedUnderTarget(ctx: PlanContext, promote: Step): void {
  const { analysis: a } = ctx;
  for (const r of a.stoppedUnderTarget) {
    const start = dialectOf(r).startReplication();
    // Its verification waits for it to acknowledge like any follower's: the replica side goes on before START.
    const semiSync = ctx.semiSync ? followerChange(ctx.semiSync, r) : undefined;
    const step = ctx.list.add({
      phase: 'repoint',
      host: r.name,
      title: `Start replicating from ${a.target.name} again`,
      action: { kind: 'restart-replication', start, ...(semiSync ? { semiSync } : {}) },
      sql: [...showChange(semiSync), start],
      why: `an earlier run's catch-up left it stopped under ${a.target.name}, at a place in its binlog`,
      after: [promote],
    });
    verifyStep(ctx, r, { step, formerMaster: false, delay: 0 });
  }
}

function repointStep(
  ctx: PlanContext,
  r: ProbedHost,
  o: {
    title: string;
    formerMaster: boolean;
    delay: number;
    at: StepRef | undefined;
    why: string;
    after: (Step | undefined)[];
    phase?: 'repoint' | 'demote';
  },
): Step {
  const { analysis: a, config } = ctx;
  const target = a.target;
  const rd = dialectOf(r);
  const source = sourceSpec(config, target.name, r);
  const base = o.at
    ? rd.changeSourceFile(source, coordinatesOf(o.at.step), true)
    : rd.changeSourceGtid(source, true, o.formerMaster);
  const change = rd.withDelay(base, o.delay);
  const stop = rd.stopReplication();
  const setReadOnly = rd.setReadOnly(true);
  const semiSync = ctx.semiSync ? followerChange(ctx.semiSync, r) : undefined;
  const start = rd.startReplication();
  return ctx.list.add({
    phase: o.phase ?? 'repoint',
    host: r.name,
    title: o.title,
    action: {
      kind: 'repoint',
      source: target.name,
      ...(o.formerMaster ? { formerMaster: true } : {}),
      ...(o.at ? { at: o.at } : {}),
      stop,
      change,
      setReadOnly,
      ...(semiSync ? { semiSync } : {}),
      start,
    },
    sql: [stop, change, ...setReadOnly, ...showChange(semiSync), start],
    why: o.why + (semiSync ? '; semi-sync replica side on before it starts' : ''),
    after: o.after,
  });
}

function verifyStep(ctx: PlanContext, r: ProbedHost, f: { step: Step; formerMaster: boolean; delay: number }): void {
  const { analysis: a, config } = ctx;
  const target = a.target.name;
  const rd = dialectOf(r);
  const byFile = a.positioning.mode === 'file';
  const seconds = config.timeouts.verify;
  const delayed = f.delay > 0;
  // A former master already has the old transactions, so its gtid_slave_pos never moves past them:
  // it is caught up when its gtid_current_pos holds the new master's binlog position.
  const pos = { file: `<binlog file of ${target}>`, position: `<binlog pos of ${target}>` };
  const caughtUp = delayed
    ? `-- not waited for: it applies ${f.delay} s behind on purpose`
    : byFile
      ? `${rd.waitForPositionSql(pos, 1)} -- repeated until >= 0, at most ${seconds} s`
      : f.formerMaster
        ? `${rd.currentGtidSql()} -- repeated until it holds <binlog GTID position of ${target}>, at most ${seconds} s`
        : `${rd.waitForGtidSql(`<binlog GTID position of ${target}>`, 1)} -- repeated until 0, at most ${seconds} s`;
  const semiSyncStatus = ackStatusSql(ctx.semiSync, r);
  ctx.list.add({
    phase: 'verify',
    host: r.name,
    title: `Verify it replicates from ${target}`,
    action: {
      kind: 'verify-replica',
      source: target,
      ...(f.formerMaster ? { formerMaster: true } : {}),
      ...(byFile ? { byFile: true } : {}),
      ...(delayed ? { delayed: true } : {}),
      ...(semiSyncStatus ? { semiSyncStatus } : {}),
    },
    sql: [
      `${rd.replicaStatusSql()} -- repeated until IO and SQL threads run, at most ${seconds} s`,
      caughtUp,
      ...(semiSyncStatus ? [`${semiSyncStatus} -- repeated until ON: it acknowledges ${target}'s commits`] : []),
    ],
    why: `a ${ctx.switchover ? 'switchover' : 'failover'} is done only when every replica runs and has caught up`,
    after: [f.step],
  });
}

/** After everything else: exactly the new master answers for the VIP. */
export function verifyWriterVip(ctx: PlanContext, vipAdd: Step | undefined): void {
  const { config } = ctx;
  if (!config.vip || !vipAdd) return;
  const vip = config.vip;
  ctx.list.add({
    phase: 'verify',
    host: vipAdd.host,
    title: `Verify that only ${vipAdd.host} holds the writer VIP`,
    action: { kind: 'vip-verify', holder: vipAdd.host },
    command: config.hosts.map((h) => showRemote(h, vipCheckArgv(vip.address, h.vipInterface ?? vip.interface))),
    why: 'two hosts answering for the VIP would split writes',
    after: [vipAdd],
  });
}

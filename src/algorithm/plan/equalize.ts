import { PAGE_ROWS } from '../../binlog/binlog-events.js';
import type { ReplicaHost } from '../../domain/server-state.js';
import { isFormerMaster } from '../replica-facts.js';
import type { Step, StepRef } from '../plan-types.js';
import { coordinatesOf, dialectOf, type PlanContext, showRef, sourceSpec } from './context.js';
import type { Fence } from './fence.js';
import type { Stopped } from './quiesce.js';

/** The confirmed best replica's step, and the value lagging replicas replicate up to. */
export interface Confirmed {
  step: Step;
  bestEnd: StepRef;
}

/** Re-checks on the drained state that the planned best replica really holds everything, before anything moves. */
export function confirmBest(ctx: PlanContext, fence: Fence, stopped: Stopped): Confirmed {
  const { analysis: a, list } = ctx;
  const best = a.best;
  const bd = dialectOf(best);
  const byFile = a.positioning.mode === 'file';
  const candidates = a.replicas.flatMap((r) => {
    const stop = stopped.get(r.name);
    return stop ? [{ host: r.name, stoppedBy: stop.n }] : [];
  });
  const compared = a.replicas.length > 1 ? 'compared by old-master coordinates' : 'only replica';
  const common = { phase: 'confirm' as const, host: best.name, after: [stopped.get(best.name), fence.recordEnd] };
  const masterEnd = fence.masterEnd ? { masterEnd: fence.masterEnd } : {};
  const step = byFile
    ? list.add({
        ...common,
        title: `Confirm ${best.name} executed the most and record its binlog end`,
        action: { kind: 'confirm-best', candidates, ...masterEnd, byFile },
        sql: [`${bd.replicaStatusSql()} -- on every replica: executed old-master coordinates`, bd.binlogStatusSql()],
        why:
          `${best.name} received the most (${compared}); this re-checks it after draining and records where ` +
          'lagging replicas must stop',
      })
    : list.add({
        ...common,
        title: `Confirm ${best.name} holds every transaction any replica has`,
        action: { kind: 'confirm-best', candidates, ...masterEnd },
        sql: [`${bd.currentGtidSql()} -- on every replica`],
        why:
          `${best.name} received the most (${compared}); this re-checks it after draining, before anything is ` +
          'repointed',
      });
  return { step, bestEnd: { step: step.n, key: byFile ? 'file' : 'gtid' } };
}

/** The replicas behind the best one, the target first. */
function laggingReplicas(ctx: PlanContext) {
  const { target, best, replicas } = ctx.analysis;
  return [target, ...replicas.filter((r) => r !== target)].filter((r) => r !== best);
}

/**
 * By file, each lagging replica's position mapped into the best replica's binlog, as replication left it: a
 * salvage that follows appends the dead master's last transactions after everything mapped there, so they come
 * after the cut of every lagging replica, as the old master's last ones.
 */
export function mapLaggingReplicas(ctx: PlanContext, confirmed: Confirmed, stopped: Stopped): Map<string, Step> {
  const mapped = new Map<string, Step>();
  if (ctx.analysis.positioning.mode !== 'file') return mapped;
  for (const r of laggingReplicas(ctx)) mapped.set(r.name, mapStep(ctx, r, confirmed, stopped));
  return mapped;
}

/**
 * Every replica behind the best one replicates from it up to exactly its end (`confirmed`: after a salvage,
 * the salvage's), then stops. The target goes first and alone: when it cannot be brought up, nothing else has
 * moved, and nothing is promoted. By file, each starts at its position mapped into the best replica's binlog.
 *
 * Returns, per replica, the last step it needs before it may follow the new master.
 */
export function equalizeReplicas(
  ctx: PlanContext,
  confirmed: Confirmed,
  stopped: Stopped,
  mapped: Map<string, Step> = mapLaggingReplicas(ctx, confirmed, stopped),
): Map<string, Step> {
  const { analysis: a } = ctx;
  const target = a.target;
  const ready = new Map<string, Step>(stopped);
  const lagging = laggingReplicas(ctx);
  let targetReady: Step | undefined;
  for (const r of lagging) {
    const isTarget = r === target;
    const step = equalizeStep(ctx, r, confirmed, {
      mapped: mapped.get(r.name),
      after: [stopped.get(r.name), confirmed.step, mapped.get(r.name), isTarget ? undefined : targetReady],
    });
    if (isTarget) targetReady = step;
    ready.set(r.name, step);
  }
  return ready;
}

function mapStep(ctx: PlanContext, r: ReplicaHost, confirmed: Confirmed, stopped: Stopped): Step {
  const best = ctx.analysis.best;
  const rd = dialectOf(r);
  const bd = dialectOf(best);
  const page = (d: typeof rd, kind: 'binlog' | 'relay', file: string) => d.logEventsSql(kind, file, 4, 0, PAGE_ROWS);
  return ctx.list.add({
    phase: 'map',
    host: r.name,
    title: `Map its position into ${best.name}'s binlog`,
    action: { kind: 'map-position', best: best.name, bestEnd: confirmed.bestEnd },
    sql: [
      `${rd.replicaStatusSql()} -- its executed old-master coordinates`,
      `${rd.binaryLogsSql()}; ${page(rd, 'binlog', '<newest binlog>')} -- its own last transaction`,
      `${page(bd, 'relay', '<relay log file>')} -- on ${best.name}: newest relay log first, back to that position`,
      `${bd.binaryLogsSql()}; ${page(bd, 'binlog', '<binlog file>')} -- on ${best.name}: as many transactions ` +
        'back from its end',
    ],
    why:
      `old-master coordinates mean nothing in ${best.name}'s binlog. ${best.name}'s relay log keeps them: count its ` +
      `transactions after ${r.name}'s position there, take as many from the end of its binlog, and accept the cut ` +
      `only if they match one by one and the one before it is ${r.name}'s own last transaction`,
    after: [stopped.get(r.name), confirmed.step],
  });
}

function equalizeStep(
  ctx: PlanContext,
  r: ReplicaHost,
  confirmed: Confirmed,
  o: { mapped: Step | undefined; after: (Step | undefined)[] },
): Step {
  const { analysis: a, config } = ctx;
  const best = a.best;
  const rd = dialectOf(r);
  const source = sourceSpec(config, best.name, r);
  const stop = rd.stopReplication();
  const seconds = config.timeouts.equalize;
  const isTarget = r === a.target;
  let statements: { change: string; startUntil: string; wait: string };
  let waitNote: string;
  if (o.mapped) {
    const bestEnd = coordinatesOf(confirmed.step.n);
    statements = {
      change: rd.changeSourceFile(source, coordinatesOf(o.mapped.n), true),
      startUntil: rd.startReplicationUntilPosition(bestEnd),
      wait: rd.waitForPositionSql(bestEnd, 1),
    };
    waitNote = 'repeated until >= 0';
  } else {
    const until = showRef(confirmed.bestEnd);
    statements = {
      change: rd.changeSourceGtid(source, true, isFormerMaster(r)),
      startUntil: rd.startReplicationUntilGtid(until),
      wait: rd.waitForGtidSql(until, 1),
    };
    waitNote = 'repeated until 0';
  }
  return ctx.list.add({
    phase: isTarget ? 'equalize-target' : 'equalize',
    host: r.name,
    title: `Catch up from ${best.name}`,
    action: {
      kind: 'equalize',
      source: best.name,
      until: confirmed.bestEnd,
      ...(o.mapped ? { from: { step: o.mapped.n, key: 'file' as const } } : {}),
      ...statements,
      stop,
    },
    sql: [
      statements.change,
      statements.startUntil,
      `${statements.wait} -- ${waitNote}, at most ${seconds} s; stops early on a replication error`,
      stop,
    ],
    why:
      `${r.name} must hold everything ${best.name} has before it ` +
      `${isTarget ? 'is promoted' : 'follows the new master'} (skipped at run time when it already does)`,
    after: o.after,
  });
}

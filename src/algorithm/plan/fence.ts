import { isProbed, type ProbedHost } from '../../domain/server-state.js';
import { showRemote, vipRemoveArgv } from '../../vip/vip-commands.js';
import type { Step, StepRef } from '../plan-types.js';
import { dialectOf, hostConfig, type PlanContext, showRef, type StepList } from './context.js';

/**
 * How a hook's command appears in a plan, a dry run, the journal and --json: its program only. A fence hook
 * often carries a credential (`ipmitool ... -P secret`), and a plan is shown and stored.
 */
export function showHookCommand(cmd: string | string[]): string {
  const program = typeof cmd === 'string' ? (cmd.trim().split(/\s+/)[0] ?? '') : (cmd[0] ?? '');
  const shown = /^[\w./+-]+$/.test(program) ? program : '<command>';
  return `${shown} … (hooks.fence; arguments not shown: they may hold credentials)`;
}

/** What fencing leaves for later steps: the SQL steps everything else needs, and the old master's end. */
export interface Fence {
  /** The fencing steps that must have succeeded before any replica is touched (empty for a dead master). */
  gate: Step[];
  /** The old master's final binlog position (GTID and coordinates), when it was alive to be read. */
  masterEnd?: StepRef;
  recordEnd?: Step;
  /** The dead old master's VIP removal: the new master takes the VIP only after it. */
  vipRemove?: Step;
}

/**
 * Makes a server read-only, then kills its client connections (read_only does not stop privileged users, and
 * an open transaction could still commit): the old master a failover fences, the former master a rejoin
 * brings back. `text`: each step's title and why.
 */
export function fenceWrites(
  list: StepList,
  host: ProbedHost,
  text: { readOnly: [string, string]; kill: [string, string] },
): { readOnly: Step; kill: Step } {
  const d = dialectOf(host);
  const setReadOnly = d.setReadOnly(true);
  const readOnly = list.add({
    phase: 'fence',
    host: host.name,
    title: text.readOnly[0],
    action: { kind: 'fence-read-only', setReadOnly },
    sql: setReadOnly,
    why: text.readOnly[1],
  });
  const listClients = d.clientConnectionsSql();
  const kill = list.add({
    phase: 'fence',
    host: host.name,
    title: text.kill[0],
    action: { kind: 'kill-clients', listClients },
    sql: [listClients, `${d.killConnection(0).replace(/\d+$/, '<id>')} -- for each row`],
    why: text.kill[1],
    after: [readOnly],
  });
  return { readOnly, kill };
}

/**
 * A live old master is fenced first, so nothing new is written while the topology changes, and its last
 * transactions are pulled into the replicas instead of being left behind. A dead one gets the fence hook and
 * loses the VIP (its host may still answer even when its database does not).
 */
export function fenceOldMaster(ctx: PlanContext): Fence {
  const old = ctx.analysis.oldMaster.state;
  const vipRemove = fenceFromOutside(ctx);
  if (!isProbed(old)) return { gate: [], ...(vipRemove ? { vipRemove } : {}) };
  const od = dialectOf(old);
  const noSuperReadOnly = od.hasSuperReadOnly ? '' : ' (MariaDB has no super_read_only)';
  const { readOnly, kill } = fenceWrites(ctx.list, old, {
    readOnly: ['Make the old master read-only', 'stops new writes from clients while the topology changes'],
    kill: [
      'Kill client connections on the old master',
      `read_only does not stop privileged users${noSuperReadOnly}, and open transactions must not commit later`,
    ],
  });
  const binlogStatus = od.binlogStatusSql();
  const binlogGtid = od.binlogGtidSql();
  const recordEnd = ctx.list.add({
    phase: 'fence',
    host: old.name,
    title: "Record the old master's final position",
    action: { kind: 'record-master-end', binlogStatus, binlogGtid },
    sql: [binlogStatus, binlogGtid],
    why: 'every replica must receive up to here so nothing written on it is lost',
    after: [kill],
  });
  const masterEnd: StepRef = { step: recordEnd.n, key: 'gtid' };
  catchUp(ctx, recordEnd, masterEnd);
  return { gate: [readOnly, kill, recordEnd], masterEnd, recordEnd };
}

/**
 * What fences a dead old master without SQL: the fence hook, and the writer VIP's removal (returned: the new
 * master takes the VIP only after it).
 */
function fenceFromOutside(ctx: PlanContext): Step | undefined {
  const { config, analysis: a, list } = ctx;
  const old = a.oldMaster.state;
  const oldCfg = a.oldMaster.name ? hostConfig(config, a.oldMaster.name) : undefined;
  if (!old?.reachable && config.hooks.fence && oldCfg) {
    list.add({
      phase: 'fence',
      host: oldCfg.name,
      title: 'Run the fence hook on the unreachable old master',
      action: { kind: 'fence-hook' },
      command: [showHookCommand(config.hooks.fence)],
      why: 'mmmf cannot make it read-only over SQL; the hook (e.g. a power-off) makes sure it takes no more writes',
      onFailure: 'warn',
    });
  }
  // A dead old master loses the VIP first thing (its host may still answer); a live one keeps it until the new
  // master is writable (promote.ts addWriterVip).
  if (!config.vip || !oldCfg || old?.reachable) return undefined;
  const argv = vipRemoveArgv(config.vip.address, oldCfg.vipInterface ?? config.vip.interface);
  return list.add({
    phase: 'fence',
    host: oldCfg.name,
    title: 'Remove the writer VIP from the old master',
    action: { kind: 'vip-remove' },
    command: [showRemote(oldCfg, argv)],
    why: `applications must stop reaching ${oldCfg.name} (its database is down, but its host may still answer)`,
    onFailure: 'warn',
  });
}

/** Every replica taking part (and every delayed one) receives up to the live old master's final position. */
function catchUp(ctx: PlanContext, recordEnd: Step, masterEnd: StepRef): void {
  const { analysis: a, list, config } = ctx;
  for (const r of [...a.replicas, ...a.delayed]) {
    const rd = dialectOf(r);
    const startIo = rd.startIoThread();
    const until = `repeated until received = ${showRef(masterEnd)}, at most ${config.timeouts.drain} s`;
    list.add({
      phase: 'catch-up',
      host: r.name,
      title: "Receive up to the old master's final position",
      action: { kind: 'catch-up', masterEnd, startIo },
      sql: [startIo, `${rd.replicaStatusSql()} -- ${until}`],
      why: 'the old master is alive, so the cheapest source of its last transactions is the old master itself',
      after: [recordEnd],
    });
  }
}

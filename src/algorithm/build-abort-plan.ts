import { dialectFor } from '../dialect/dialect.js';
import { parseAddress } from '../domain/address.js';
import { accept, type Outcome, refuse } from '../domain/outcome.js';
import type { ResolvedConfig } from '../topology/config-types.js';
import { type HostState, isProbed, type ProbedHost } from '../domain/server-state.js';
import { showRemote, vipAddArgv } from '../vip/vip-commands.js';
import { StepList } from './plan/context.js';
import type { Plan, Step } from './plan-types.js';

/**
 * What to do with a replica a file-positioned run already moved to another source (the best replica, to catch
 * up from it): its place in that source's binlog is exact, its place in the old master's binlog is not known.
 * `--abort` refuses (the way out is forward: finishing the run); a failed switchover's rollback, which has no way
 * forward, lets it keep following that source, which replicates from the old master again: nothing is guessed.
 */
export type MovedByFile = 'refuse' | 'follow';

/**
 * Pure: the steps that put a cluster back as it was before an unfinished failover, from that failover's plan,
 * what its journal says was begun, and the state now. Possible only before the point of no return: once the
 * target was promoted it may have taken writes, and the way out is forward (finish the failover).
 */
export function buildAbortPlan(
  config: ResolvedConfig,
  plan: Plan,
  begun: Set<number>,
  states: HostState[],
  movedByFile: MovedByFile = 'refuse',
): Outcome<Step[]> {
  const finish = `finish it instead: mmmf --cfg ${config.source} --failover-to ${plan.target}`;
  const promote = plan.steps.find((s) => s.action.kind === 'promote');
  if (promote && begun.has(promote.n)) {
    return refuse(
      [finish],
      `the unfinished failover to ${plan.target} is past the point of no return (step ${promote.n} promoted ` +
        `${plan.target}, which may have taken writes)`,
    );
  }
  // By file, salvaged transactions sit in the best replica beyond its position in the old master's binlog:
  // replicating from the old master again would apply them twice (by GTID they are in its GTID position).
  const salvage = plan.steps.find((s) => s.action.kind === 'salvage');
  if (plan.positioning === 'file' && salvage && begun.has(salvage.n)) {
    return refuse(
      [finish],
      `the unfinished failover to ${plan.target} began salvaging ${oldName(plan)}'s binlog into ${salvage.host} ` +
        `(step ${salvage.n}): by file and position, replicating from ${oldName(plan)} again could apply them twice`,
    );
  }
  const touched = touchedReplicas(plan, begun, states);
  const moved = plan.positioning === 'file' ? touched.filter((s) => sourceOf(s) !== plan.oldMaster.address) : [];
  if (moved.length && movedByFile === 'refuse') {
    const names = moved.map((s) => s.name).join(', ');
    const hold = moved.length === 1 ? 'it holds' : 'they hold';
    return refuse(
      [finish],
      `the unfinished failover to ${plan.target} already moved ${names} to ${plan.best} by file and position, so ` +
        `${hold} no position in ${oldName(plan)}'s binlog that mmmf could go back to without guessing`,
    );
  }
  const list = new StepList();
  for (const s of touched) replicaStep(config, plan, list, s, moved.includes(s));
  giveVipBack(config, plan, begun, list);
  makeOldMasterWritable(plan, begun, states, list);
  return accept(list.steps);
}

const oldName = (plan: Plan) => plan.oldMaster.name ?? plan.oldMaster.address;
const sourceOf = (s: ProbedHost) => s.replica?.sourceAddress ?? '';

/** The replicas (and the target) a step of the run touched, as they are now. */
function touchedReplicas(plan: Plan, begun: Set<number>, states: HostState[]): ProbedHost[] {
  const touched = new Set(plan.steps.filter((s) => begun.has(s.n)).map((s) => s.host));
  return plan.hosts
    .filter((h) => (h.role === 'replica' || h.role === 'target') && touched.has(h.name))
    .map((h) => states.find((x) => x.name === h.name))
    .filter(isProbed);
}

/** Restarts a replica that still points at the old master (or follows where it was moved); else back by GTID. */
function replicaStep(config: ResolvedConfig, plan: Plan, list: StepList, s: ProbedHost, moved: boolean): void {
  const d = dialectFor(s.version);
  const src = sourceOf(s);
  const start = d.startReplication();
  if (src === plan.oldMaster.address || moved) {
    const via = plan.hosts.find((h) => h.address === src)?.name ?? src;
    list.add({
      phase: 'repoint',
      host: s.name,
      title: `Restart replication from ${moved ? via : oldName(plan)}`,
      action: { kind: 'restart-replication', start },
      sql: [start],
      why: moved
        ? `the run had brought it up to ${via} by file: its place in ${via}'s binlog is exact, in ` +
          `${oldName(plan)}'s it is not known; ${via} replicates from ${oldName(plan)} again`
        : 'the failover only stopped it',
    });
    return;
  }
  const stop = d.stopReplication();
  const source = { ...parseAddress(plan.oldMaster.address), user: config.replication.user, password: '' };
  const change = d.changeSourceGtid(source, true);
  list.add({
    phase: 'repoint',
    host: s.name,
    title: `Replicate from ${oldName(plan)} again`,
    action: { kind: 'repoint', source: oldName(plan), stop, change, setReadOnly: [], start },
    sql: [stop, change, start],
    why: `the failover had pointed it at ${src || 'nothing'}; its GTID position continues where it is`,
  });
}

function giveVipBack(config: ResolvedConfig, plan: Plan, begun: Set<number>, list: StepList): void {
  const vipRemoved = plan.steps.find((s) => s.action.kind === 'vip-remove');
  const oldCfg = config.hosts.find((h) => h.name === plan.oldMaster.name);
  if (!config.vip || !vipRemoved || !begun.has(vipRemoved.n) || !oldCfg) return;
  list.add({
    phase: 'vip',
    host: oldCfg.name,
    title: 'Give the writer VIP back to the old master',
    action: { kind: 'vip-add' },
    command: [showRemote(oldCfg, vipAddArgv(config.vip.address, oldCfg.vipInterface ?? config.vip.interface))],
    why: 'it stays the writer',
  });
}

function makeOldMasterWritable(plan: Plan, begun: Set<number>, states: HostState[], list: StepList): void {
  const fenced = plan.steps.find((s) => s.action.kind === 'fence-read-only');
  const old = states.find((s) => s.name === plan.oldMaster.name);
  if (!fenced || !begun.has(fenced.n) || !isProbed(old)) return;
  const setWritable = dialectFor(old.version).setReadOnly(false);
  list.add({
    phase: 'promote',
    host: old.name,
    title: 'Make the old master writable again',
    action: { kind: 'make-writable', setWritable },
    sql: setWritable,
    why: 'the failover had fenced it; it stays the master',
  });
}

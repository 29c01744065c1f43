import { dialectFor } from '../dialect/dialect.js';
import { UnsafeError } from '../errors.js';
import type { ResolvedConfig } from '../topology/config-types.js';
import { type HostState, isProbed } from '../topology/server-state.js';
import { showRemote, vipAddArgv } from '../vip/vip-commands.js';
import { StepList } from './plan/context.js';
import type { Plan, Step } from './plan-types.js';

/**
 * Pure: the steps that put a cluster back as it was before an unfinished failover, from that failover's plan,
 * what its journal says was done, and the state now. Possible only before the point of no return: once the
 * target was promoted it may have taken writes, and the way out is forward (finish the failover).
 */
export function buildAbortPlan(config: ResolvedConfig, plan: Plan, begun: Set<number>, states: HostState[]): Step[] {
  const promote = plan.steps.find((s) => s.phase === 'promote');
  if (promote && begun.has(promote.n)) {
    throw new UnsafeError(
      `the unfinished failover to ${plan.target} is past the point of no return (step ${promote.n} promoted ${plan.target}, which may have taken writes)`,
      [`finish it instead: mmmf --cfg ${config.source} --failover-to ${plan.target}`],
    );
  }
  if (plan.positioning === 'file') {
    // By file, an equalized replica runs at the best replica's binlog coordinates. Its place in the old
    // master's binlog would have to be mapped back through the logs; mmmf does not guess it.
    const moved = plan.steps
      .filter((s) => (s.phase === 'equalize' || s.phase === 'equalize-target') && begun.has(s.n))
      .map((s) => s.host);
    if (moved.length > 0) {
      const names = moved.join(', ');
      throw new UnsafeError(
        `the unfinished failover to ${plan.target} already moved ${names} to ${plan.best} by file and position, so ${moved.length === 1 ? 'it holds' : 'they hold'} no position in ${plan.oldMaster.name ?? plan.oldMaster.address}'s binlog that mmmf could go back to without guessing`,
        [`finish it instead: mmmf --cfg ${config.source} --failover-to ${plan.target}`],
      );
    }
  }
  const [oldHost, oldPort] = [
    plan.oldMaster.address.slice(0, plan.oldMaster.address.lastIndexOf(':')),
    Number(plan.oldMaster.address.split(':').pop()),
  ];
  const list = new StepList();
  const oldName = plan.oldMaster.name ?? plan.oldMaster.address;
  const touched = new Set(plan.steps.filter((s) => begun.has(s.n)).map((s) => s.host));
  for (const h of plan.hosts) {
    if ((h.role !== 'replica' && h.role !== 'target') || !touched.has(h.name)) continue;
    const s = states.find((x) => x.name === h.name);
    if (!isProbed(s)) continue;
    const d = dialectFor(s.version);
    const src = s.replica?.sourceAddress ?? '';
    const start = d.startReplication();
    if (src === plan.oldMaster.address) {
      list.add({
        phase: 'repoint',
        host: h.name,
        title: `Restart replication from ${oldName}`,
        action: { kind: 'restart-replication', start },
        sql: [start],
        why: 'the failover only stopped it',
      });
      continue;
    }
    const stop = d.stopReplication();
    const source = { host: oldHost, port: oldPort, user: config.replication.user, password: '' };
    const change = d.changeSourceGtid(source, true);
    const setReadOnly: string[] = [];
    list.add({
      phase: 'repoint',
      host: h.name,
      title: `Replicate from ${oldName} again`,
      action: { kind: 'repoint', source: oldName, stop, change, setReadOnly, start },
      sql: [stop, change, start],
      why: `the failover had pointed it at ${src || 'nothing'}; its GTID position continues where it is`,
    });
  }
  const vipRemoved = plan.steps.find((s) => s.action.kind === 'vip-remove');
  const oldCfg = config.hosts.find((h) => h.name === plan.oldMaster.name);
  if (config.vip && vipRemoved && begun.has(vipRemoved.n) && oldCfg) {
    list.add({
      phase: 'vip',
      host: oldCfg.name,
      title: 'Give the writer VIP back to the old master',
      action: { kind: 'vip-add' },
      command: [showRemote(oldCfg, vipAddArgv(config.vip.address, oldCfg.vipInterface ?? config.vip.interface))],
      why: 'it stays the writer',
    });
  }
  const fenced = plan.steps.find((s) => s.action.kind === 'fence-read-only');
  const old = states.find((s) => s.name === plan.oldMaster.name);
  if (fenced && begun.has(fenced.n) && isProbed(old)) {
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
  return list.steps;
}

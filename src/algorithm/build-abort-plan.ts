import { dialectFor } from '../dialect/dialect.js';
import { UnsafeError } from '../errors.js';
import type { ResolvedConfig } from '../topology/config-types.js';
import type { HostState } from '../topology/server-state.js';
import { showRemote } from '../vip/remote.js';
import { vipAddArgv } from '../vip/vip-commands.js';
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
    const moved = plan.steps.filter((s) => s.phase === 'equalize' && begun.has(s.n)).map((s) => s.host);
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
  const steps: Step[] = [];
  const add = (host: string, title: string, sql: string[], why: string) =>
    steps.push({
      n: steps.length + 1,
      phase: 'repoint',
      host,
      title,
      action: { kind: 'repoint', source: plan.oldMaster.name ?? plan.oldMaster.address },
      sql,
      why,
      onFailure: 'drop-host',
    });
  const touched = new Set(plan.steps.filter((s) => begun.has(s.n)).map((s) => s.host));
  for (const h of plan.hosts) {
    if ((h.role !== 'replica' && h.role !== 'target') || !touched.has(h.name)) continue;
    const s = states.find((x) => x.name === h.name);
    if (!s?.reachable || !s.version) continue;
    const d = dialectFor(s.version);
    const src = s.replica ? `${s.replica.sourceHost}:${s.replica.sourcePort}` : '';
    if (src === plan.oldMaster.address) {
      add(
        h.name,
        `Restart replication from ${plan.oldMaster.name ?? plan.oldMaster.address}`,
        [d.startReplication()],
        'the failover only stopped it',
      );
    } else {
      add(
        h.name,
        `Replicate from ${plan.oldMaster.name ?? plan.oldMaster.address} again`,
        [
          d.stopReplication(),
          d.changeSourceGtid({ host: oldHost, port: oldPort, user: config.replication.user, password: '' }, true),
          d.startReplication(),
        ],
        `the failover had pointed it at ${src || 'nothing'}; its GTID position continues where it is`,
      );
    }
  }
  const vipRemoved = plan.steps.find((s) => s.action.kind === 'vip-remove');
  const oldCfg = config.hosts.find((h) => h.name === plan.oldMaster.name);
  if (config.vip && vipRemoved && begun.has(vipRemoved.n) && oldCfg) {
    steps.push({
      n: steps.length + 1,
      phase: 'vip',
      host: oldCfg.name,
      title: 'Give the writer VIP back to the old master',
      action: { kind: 'vip-add' },
      sql: [],
      command: [showRemote(oldCfg, vipAddArgv(config.vip.address, oldCfg.vipInterface ?? config.vip.interface))],
      why: 'it stays the writer',
      onFailure: 'continue',
    });
  }
  const fenced = plan.steps.find((s) => s.action.kind === 'fence-read-only');
  const old = states.find((s) => s.name === plan.oldMaster.name);
  if (fenced && begun.has(fenced.n) && old?.reachable && old.version) {
    steps.push({
      n: steps.length + 1,
      phase: 'promote',
      host: old.name,
      title: 'Make the old master writable again',
      action: { kind: 'promote' },
      sql: dialectFor(old.version).setReadOnly(false),
      why: 'the failover had fenced it; it stays the master',
      onFailure: 'continue',
    });
  }
  return steps;
}

import { accept, type Outcome, refuse } from '../domain/outcome.js';
import type { ResolvedConfig } from '../topology/config-types.js';
import type { HostState } from '../domain/server-state.js';
import { findOldMaster } from './find-old-master.js';
import type { HostPlan, Plan } from './plan-types.js';
import { StepList } from './plan/context.js';
import { addReaderSteps } from './plan/readers.js';
import { assignReaders, readerQualification } from './reader-vips.js';

export interface RolesInput {
  /** Who holds each VIP now, and the hosts SSH could not ask. */
  holders: { byVip: Map<string, string[]>; unknown: string[] };
  /** Hosts kept out of reader roles (after this command's own change, for offline/online). */
  offline: string[];
  /** What the command does, for the plan's title and the refusals: 'roles', 'offline NAME', 'online NAME'. */
  command: string;
}

/**
 * Pure: `mmmf roles` (and the rebalance after offline/online) — the reader VIP moves that leave each VIP on
 * exactly one qualifying replica, spread evenly, without touching replication or the writer.
 */
export function buildRolesPlan(config: ResolvedConfig, states: HostState[], input: RolesInput): Outcome<Plan> {
  const vip = config.vip;
  if (!vip?.readers.length) {
    return refuse(
      ["add vip.readers: ['10.0.0.201/24', ...] to the config (see README, Reader VIPs)"],
      `${input.command}: no reader VIPs configured`,
    );
  }
  const found = findOldMaster(states);
  const master =
    found.ok && found.value.state?.reachable && found.value.state.readOnly === false ? found.value.name : undefined;
  if (!master) {
    return refuse(
      [
        ...(found.ok
          ? [`the replicas' master ${found.value.name ?? found.value.address} does not answer or is read-only`]
          : found.refusals),
        'fail over first (mmmf --failover-to ...), then run mmmf roles',
      ],
      `${input.command}: no reachable writable master: reader VIPs are placed by the master's replicas`,
    );
  }
  const offline = new Set(input.offline);
  const { qualifying, why } = readerQualification(config, states, master, offline);
  const moves = assignReaders(vip.readers, qualifying, input.holders.byVip, master);
  const list = new StepList();
  addReaderSteps(config, list, moves, () => undefined);
  const holds = (n: string) => moves.filter((m) => m.to === n).map((m) => m.vip);
  const hosts: HostPlan[] = states.map((s) => ({
    name: s.name,
    address: s.address,
    role: s.name === master ? 'old-master' : qualifying.includes(s.name) ? 'replica' : 'outside',
    note: holds(s.name).length
      ? `holds ${holds(s.name).join(', ')}`
      : `holds no reader VIP${why.get(s.name) ? `: ${why.get(s.name)}` : ''}`,
  }));
  const warnings = input.holders.unknown.length
    ? [
        `not reachable over SSH, so not checked for VIPs: ${input.holders.unknown.join(', ')} (a dead host that ` +
          'comes back may still hold one: mmmf roles removes it then)',
      ]
    : [];
  const plan: Plan = {
    kind: 'roles',
    target: master,
    oldMaster: { address: found.ok ? found.value.address : '?', name: master, reachable: true },
    best: master,
    positioning: 'gtid',
    positioningWhy: 'replication is not touched',
    hosts,
    warnings,
    steps: list.steps,
    ...(list.steps.length ? {} : { nothingToDo: 'every reader VIP is where it belongs: nothing to do.' }),
  };
  return accept(plan);
}

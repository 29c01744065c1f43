import { accept, type Outcome, refuse } from '../domain/outcome.js';
import type { ResolvedConfig } from '../topology/config-types.js';
import type { HostState } from '../domain/server-state.js';
import { findOldMaster } from './find-old-master.js';
import type { HostPlan, Plan } from './plan-types.js';
import { hostConfig, StepList } from './plan/context.js';
import { showRemote, vipAddArgv, vipRemoveArgv } from '../vip/vip-commands.js';
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
  if (!vip) {
    return refuse(
      ["add vip: { address, interface, readers: ['10.0.0.201/24', ...] } to the config (see README, Writer VIP)"],
      `${input.command}: no VIP configured`,
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
  addWriterVipSteps(config, list, master, input.holders);
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
    ...(list.steps.length ? {} : { nothingToDo: 'every VIP is where it belongs: nothing to do.' }),
  };
  return accept(plan);
}

/**
 * The writer VIP on the master only. A failover that could not take it off an old master's host (SSH refused:
 * the host may still answer for it) leaves it off the new master; once that is settled (the address removed
 * there by hand, the host powered off, sshd back), `roles` finishes the move: removed wherever it may be —
 * including hosts SSH could not ask — and added on the master only after every removal succeeded or found the
 * host silent. Never on two hosts at once.
 */
function addWriterVipSteps(
  config: ResolvedConfig,
  list: StepList,
  master: string,
  holders: RolesInput['holders'],
): void {
  const vip = config.vip;
  if (!vip) return;
  const held = holders.byVip.get(vip.address) ?? [];
  // Once the master holds it, a host SSH could not ask is only warned about (the plan's warnings name it):
  // trying to remove it there every run would fail every run while that host is down.
  const mayHold = held.includes(master) ? held : [...held, ...holders.unknown];
  const removed = mayHold
    .filter((n, i, all) => n !== master && all.indexOf(n) === i)
    .map((from) => {
      const h = hostConfig(config, from);
      return list.add({
        phase: 'vip',
        host: from,
        title: 'Remove the writer VIP',
        action: { kind: 'vip-remove' },
        command: [showRemote(h, vipRemoveArgv(vip.address, h.vipInterface ?? vip.interface))],
        why: held.includes(from) ? `${from} is not the master` : `${from} could not be asked whether it holds it`,
      });
    });
  if (held.includes(master)) return;
  const m = hostConfig(config, master);
  list.add({
    phase: 'vip',
    host: master,
    title: `Add the writer VIP on ${master} and announce it (gratuitous ARP)`,
    action: { kind: 'vip-add' },
    command: [showRemote(m, vipAddArgv(vip.address, m.vipInterface ?? vip.interface))],
    why: 'applications reach the writer through the VIP; only once no other host can hold it',
    after: removed,
  });
}

import type { ResolvedConfig } from '../../topology/config-types.js';
import { showRemote, vipAddArgv, vipRemoveArgv } from '../../vip/vip-commands.js';
import type { Step } from '../plan-types.js';
import type { ReaderMove } from '../reader-vips.js';
import { hostConfig, type StepList } from './context.js';

/**
 * The steps that carry out reader VIP moves: remove each from where it must not be (a dead host's removal may
 * fail: reported, not fatal), then add it where it goes with a gratuitous ARP — once that host is verified
 * (`after`). A reader VIP never blocks a failover: every step only warns.
 */
export function addReaderSteps(
  config: ResolvedConfig,
  list: StepList,
  moves: ReaderMove[],
  after: (host: string) => Step | undefined,
): void {
  const vip = config.vip;
  if (!vip) return;
  for (const m of moves) {
    const removed: Step[] = [];
    for (const from of m.remove) {
      const h = hostConfig(config, from);
      removed.push(
        list.add({
          phase: 'readers',
          host: from,
          title: `Remove the reader VIP ${m.vip}`,
          action: { kind: 'vip-remove', address: m.vip },
          command: [showRemote(h, vipRemoveArgv(m.vip, h.vipInterface ?? vip.interface))],
          why: m.to ? `it moves to ${m.to}` : 'no host qualifies to hold it',
          onFailure: 'warn',
        }),
      );
    }
    if (!m.to || m.stays) continue;
    const h = hostConfig(config, m.to);
    list.add({
      phase: 'readers',
      host: m.to,
      title: `Add the reader VIP ${m.vip} and announce it (gratuitous ARP)`,
      action: { kind: 'vip-add', address: m.vip },
      command: [showRemote(h, vipAddArgv(m.vip, h.vipInterface ?? vip.interface))],
      why: 'reader VIPs are spread over replicas that replicate without error and lag little',
      after: [after(m.to)],
      onFailure: 'warn',
    });
  }
}

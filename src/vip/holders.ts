import type { ResolvedConfig } from '../topology/config-types.js';
import { runRemote } from './remote.js';

/** Who holds each configured VIP (writer and readers), and which hosts could not be asked over SSH. */
export interface VipHolders {
  byVip: Map<string, string[]>;
  unknown: string[];
}

/**
 * One SSH call per host: the addresses on its VIP interface, matched against every configured VIP. A host
 * that does not answer is listed as unknown (it may hold a VIP mmmf cannot see or remove).
 */
export async function probeVipHolders(config: ResolvedConfig): Promise<VipHolders> {
  const vip = config.vip;
  const byVip = new Map<string, string[]>();
  const unknown: string[] = [];
  if (!vip) return { byVip, unknown };
  const all = [vip.address, ...vip.readers];
  for (const a of all) byVip.set(a, []);
  await Promise.all(
    config.hosts.map(async (h) => {
      const argv = ['sh', '-c', 'ip -o addr show dev "$1"', 'mmmf-vip', h.vipInterface ?? vip.interface];
      const r = await runRemote(h, argv, config.timeouts.connect);
      if (!r.ok) return void unknown.push(h.name);
      for (const a of all) if (r.out.includes(` ${a} `)) byVip.get(a)!.push(h.name);
    }),
  );
  const order = (xs: string[]) => config.hosts.map((h) => h.name).filter((n) => xs.includes(n));
  for (const [a, hs] of byVip) byVip.set(a, order(hs));
  return { byVip, unknown: order(unknown) };
}

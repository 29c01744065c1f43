import { buildRolesPlan } from '../algorithm/build-roles-plan.js';
import { findOldMaster } from '../algorithm/find-old-master.js';
import { renderPlan } from '../output/render-plan.js';
import { offlineLine, renderRolesSummary } from '../output/render-summaries.js';
import type { Connector } from '../topology/connection.js';
import { loadConfig } from './load-config.js';
import { probeVipHolders } from '../vip/holders.js';
import { refused, valueOrRefuse } from './run/refusal.js';
import { runAndReport, showOnly } from './run/run-and-report.js';
import { planRun, sessionFor, withSession } from './run/session.js';

export interface RolesOptions {
  cfg: string;
  /** offline / online: the host to take out of reader roles, or to let back in. */
  change?: { kind: 'offline' | 'online'; name: string };
  dryRun?: boolean;
  json?: boolean;
  debug?: boolean;
  connector?: Connector;
}

/**
 * `mmmf roles` rebalances the reader VIPs; `mmmf offline NAME` (MMM's set_offline) keeps NAME out of reader
 * roles, recorded in the state folder, and moves its VIPs away; `mmmf online NAME` lets it back in. Replication
 * and the writer are never touched. A dry run shows the moves and records nothing.
 */
export async function rolesCommand(opts: RolesOptions): Promise<number> {
  const change = opts.change;
  const command = change ? `${change.kind} ${change.name}` : 'roles';
  const config = await loadConfig(opts.cfg, change ? [{ flag: change.kind, name: change.name }] : []);
  return withSession(sessionFor(config, opts, `mmmf ${command}`), async (s) => {
    const probed = await s.probe();
    let offline = (await s.view?.store.readOffline()) ?? [];
    if (change?.kind === 'offline') {
      const found = findOldMaster(probed.states);
      if (found.ok && found.value.name === change.name) {
        throw refused(`offline ${change.name}: it is the master: refusing, nothing was changed`, [
          `move the writer first: mmmf --cfg ${config.source} --switchover-to NAME, then offline ${change.name}`,
        ]);
      }
      offline = [...offline, change.name];
    } else if (change?.kind === 'online') offline = offline.filter((n) => n !== change.name);
    const holders = await probeVipHolders(config);
    const outcome = buildRolesPlan(config, probed.states, { holders, offline, command });
    const plan = valueOrRefuse(outcome, `${command}: refusing, nothing was changed`);
    // Recorded before the moves, so a failover running meanwhile already keeps it out.
    if (change && !opts.dryRun) await s.lock?.writeOffline(offline);
    const dryRun = !!opts.dryRun;
    const kind = command.split(' ')[0] as 'roles' | 'offline' | 'online';
    if (dryRun || plan.nothingToDo) {
      const text = renderPlan(plan, s.c, { dryRun }) + offlineLine(offline, s.c) + '\n';
      return showOnly(s, { command: kind, plan, dryRun, text, json: { offline } });
    }
    const run = planRun(s, plan, probed.dialects);
    return runAndReport(s, run, {
      command: kind,
      shown: renderPlan(plan, s.c, { dryRun: false }) + '\n\n',
      // Replication is not touched: what must hold afterwards is every reader VIP on exactly one host, and the
      // writer VIP on the master alone.
      readBack: async (results) => {
        const after = await probeVipHolders(config);
        const placed = [...after.byVip].filter(([vip]) => config.vip?.readers.includes(vip));
        const writer = config.vip ? (after.byVip.get(config.vip.address) ?? []) : [];
        const writerOk = writer.length === 1 && writer[0] === plan.target;
        const violations = writerOk ? [] : [`the writer VIP is on [${writer.join(', ')}], not on ${plan.target} alone`];
        const stepsOk = !run.failed && results.every((r) => r.status !== 'failed');
        return { ok: stepsOk && writerOk && placed.every(([, hs]) => hs.length === 1), violations, placed, offline };
      },
      json: () => ({ offline }),
      summary: (end, c) => renderRolesSummary(end.judged, c),
    });
  });
}

import type { Dialect } from '../dialect/dialect.js';
import { buildRolesPlan } from '../algorithm/build-roles-plan.js';
import { findOldMaster } from '../algorithm/find-old-master.js';
import type { Plan } from '../algorithm/plan-types.js';
import { EXIT } from '../errors.js';
import { renderPlan } from '../output/render-plan.js';
import { readOffline, writeOffline } from '../safety/offline.js';
import type { Connector } from '../topology/connection.js';
import { loadConfig } from './load-config.js';
import { probeVipHolders } from '../vip/holders.js';
import { runWithProgress } from './run/progress.js';
import { refused, valueOrRefuse } from './run/refusal.js';
import { printReport } from './run/report.js';
import { planRun, type Session, sessionFor, withSession } from './run/session.js';

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
    let offline = readOffline(config);
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
    if (change && !opts.dryRun) writeOffline(config, offline);
    if (opts.dryRun || plan.nothingToDo) return show(s, plan, command, !!opts.dryRun, offline);
    return execute(s, plan, probed.dialects, command, offline);
  });
}

function show(s: Session, plan: Plan, command: string, dryRun: boolean, offline: string[]): number {
  if (s.json) {
    const nothing = plan.nothingToDo ? { nothingToDo: plan.nothingToDo } : {};
    printReport({ command: kindOf(command), dryRun, ok: true, exitCode: EXIT.ok, plan, offline, ...nothing });
  } else s.write(renderPlan(plan, s.c, { dryRun }) + offlineLine(s, offline) + '\n');
  return EXIT.ok;
}

async function execute(
  s: Session,
  plan: Plan,
  dialects: Map<string, Dialect>,
  command: string,
  offline: string[],
): Promise<number> {
  const { c } = s;
  if (!s.json) s.write(renderPlan(plan, c, { dryRun: false }) + '\n\n');
  const run = planRun(s, plan, dialects);
  const results = s.json ? await run.runAll() : await runWithProgress(run);
  const failed = results.filter((r) => r.status === 'failed');
  const after = await probeVipHolders(s.config);
  const placed = [...after.byVip].filter(([vip]) => s.config.vip?.readers.includes(vip));
  const ok = !run.failed && placed.every(([, hs]) => hs.length === 1) && failed.length === 0;
  const exitCode = ok ? EXIT.ok : EXIT.failed;
  if (s.json) {
    printReport({ command: kindOf(command), dryRun: false, ok, exitCode, plan, results, offline });
    return exitCode;
  }
  s.write('\n' + c.bold('Reader VIPs now') + '\n');
  for (const [vip, hs] of placed) {
    const mark = hs.length === 1 ? c.green('✔') : c.red('✖');
    s.write(`  ${mark} ${vip}  ${hs.length ? hs.join(', ') : 'on no host'}\n`);
  }
  s.write(offlineLine(s, offline) + (ok ? '' : c.red('✖ Not every reader VIP is on exactly one host: see above.\n')));
  return exitCode;
}

const kindOf = (command: string) => command.split(' ')[0] as 'roles' | 'offline' | 'online';

function offlineLine(s: Session, offline: string[]): string {
  return offline.length ? `\n${s.c.dim(`Offline (kept out of reader roles): ${offline.join(', ')}`)}\n` : '';
}

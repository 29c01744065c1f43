import { buildFailoverPlan } from '../algorithm/build-failover-plan.js';
import type { Plan } from '../algorithm/plan-types.js';
import { resumeRefusals } from '../algorithm/resume-checks.js';
import { Journal, type UnfinishedRun } from '../executor/journal.js';
import { faultsFromEnv } from '../executor/faults.js';
import { targetMappingRefusal } from '../executor/target-mapping.js';
import type { Faults } from '../executor/types.js';
import { renderPlan } from '../output/render-plan.js';
import { mark } from '../process/timeline.js';
import { checkAntiFlap } from '../safety/anti-flap.js';
import { probeVipHolders } from '../vip/holders.js';
import { hookEnv, runHook } from '../safety/hooks.js';
import type { Positioning } from '../topology/config-types.js';
import type { Connector } from '../topology/connection.js';
import { loadConfig } from './load-config.js';
import { recallHost } from '../state/host-memory.js';
import type { ServerFiles } from '../domain/server-state.js';
import type { ProbedCluster } from '../topology/probe.js';
import { publishMaster } from './run/coordination.js';
import { failoverEnding } from './run/failover-ending.js';
import { requireDeadMaster } from './run/if-dead.js';
import { failedOverMeanwhile } from './run/other-runs.js';
import { refused, valueOrRefuse } from './run/refusal.js';
import { runAndReport, showOnly } from './run/run-and-report.js';
import { heldLock, planRun, type Session, withSession } from './run/session.js';

export interface FailoverCommandOptions {
  cfg: string;
  target: string;
  dryRun?: boolean;
  json?: boolean;
  /** Overrides the anti-flap check (never the safety checks). */
  force?: boolean;
  /** Stream the run log (every statement and answer) to stderr. */
  debug?: boolean;
  /**
   * A planned switchover: the master is alive and becomes a replica of the target; a failure before promotion
   * rolls back.
   */
  switchover?: boolean;
  /** Overrides the config's `positioning` for this run. */
  positioning?: Positioning;
  /** Apply delayed replicas' relay logs now (lifting their delay) and let them take part. */
  liftDelay?: boolean;
  /** Fail over even though the old master answers (fenced first). */
  fenceLiveMaster?: boolean;
  /** Fail over only when every signal agrees the master is dead for deadConfirmSeconds; a live one: exit 0. */
  ifDead?: boolean;
  /** Finish an unfinished run even when its journal is older than journalMaxAgeMinutes. */
  resume?: boolean;
  connector?: Connector;
  /** Test-only fault injection; read from MMMF_TEST_* once here when not given. */
  faults?: Faults;
  /** Do not salvage a dead old master's binlog in this run (`--no-salvage`). */
  noSalvage?: boolean;
}

/**
 * `mmmf --failover-to NAME` / `--switchover-to NAME`: probe, plan (pure), print, and unless --dry-run execute
 * exactly that plan; a run that died is resumed instead. Returns the exit code; refusals are UnsafeErrors.
 */
export async function failoverCommand(opts: FailoverCommandOptions): Promise<number> {
  const flag = opts.switchover ? '--switchover-to' : '--failover-to';
  const config = await loadConfig(opts.cfg, [{ flag, name: opts.target }]);
  mark('config');
  if (opts.positioning) config.positioning = opts.positioning;
  // Also in a resumed run: a salvage the killed run began keeps what it applied and goes on.
  if (opts.noSalvage) delete config.salvage;
  let deathEvidence: string[] | undefined;
  let provenDead: string | undefined;
  if (opts.ifDead) {
    const common = { config, json: !!opts.json, debug: !!opts.debug, dryRun: !!opts.dryRun };
    const outcome = await requireDeadMaster({ ...common, connector: opts.connector });
    if (!outcome.dead) return outcome.exitCode;
    deathEvidence = outcome.evidence;
    provenDead = outcome.master;
  }
  const session = {
    config,
    json: !!opts.json,
    debug: !!opts.debug,
    faults: opts.faults ?? faultsFromEnv(process.env),
    connector: opts.connector,
    // A dry run changes nothing, so it neither takes nor waits for the locks (it reads the store: a resume shows).
    lock: opts.dryRun ? undefined : `mmmf --${opts.switchover ? 'switchover' : 'failover'}-to ${opts.target}`,
    readState: true,
    warmSsh: !opts.dryRun,
  };
  return withSession(session, async (s) => {
    const probed = await s.probe();
    const unfinished = s.view?.unfinished;
    if (unfinished) return resume(s, opts, unfinished, probed);
    // Between the judgment and the lock another monitor may have done this very failover.
    const done = provenDead && !opts.dryRun ? failedOverMeanwhile(s, probed, provenDead, !!opts.json) : undefined;
    if (done !== undefined) return done;
    const planned = await planOrRefuse(s, probed, opts);
    mark('plan');
    const plan = deathEvidence && !planned.nothingToDo ? { ...planned, deathEvidence } : planned;
    const dryRun = !!opts.dryRun;
    if (dryRun || plan.nothingToDo) {
      // The master in place is published again (a proxy may follow a stale one after changes made by hand).
      if (!dryRun && plan.nothingToDo) await publishMaster(s, plan.target);
      return showOnly(s, { command: plan.kind, plan, dryRun, text: renderPlan(plan, s.c, { dryRun }) + '\n' });
    }
    // Anti-flap guards against automation looping on failovers (a switchover is a deliberate, planned act).
    // After the plan, so that running a finished failover again says "nothing to do", not "too soon".
    if (!opts.switchover) checkAntiFlap(config, s.view?.snapshot.antiFlap, new Date(), !!opts.force);
    return execute(s, plan, probed);
  });
}

/** Runs the plan: the preFailover hook, the journal's start, every step, then the ending (read back, report). */
function execute(s: Session, plan: Plan, probed: ProbedCluster): Promise<number> {
  const { config } = s;
  const journal = new Journal(heldLock(s));
  const run = planRun(s, plan, probed.dialects, journal);
  const shown = renderPlan(plan, s.c, { dryRun: false }) + '\n\n';
  const before = async () => {
    const pre = await runHook(config, 'preFailover', hookEnv(config, plan, 'preFailover'), { plan });
    if (pre && !pre.ok) {
      throw refused('the preFailover hook failed: refusing, nothing was changed', [
        `hook ${pre.detail}`,
        'fix the hook (or what it checks) and run again',
      ]);
    }
    s.log?.line('mmmf', '#', `executing ${plan.steps.length} steps, best ${plan.best}, target ${plan.target}`);
    await s.sshReady();
    await journal.start(plan);
    mark('hook, ssh, journal');
  };
  return runAndReport(s, run, failoverEnding(s, run, journal, probed.dialects, { shown, before }));
}

/** What mmmf remembers of every host's files (for a salvage of a dead master's binlog). */
function rememberedFiles(config: Session['config']): Record<string, ServerFiles> {
  const out: Record<string, ServerFiles> = {};
  for (const h of config.hosts) {
    const m = recallHost(config.stateDir, h.name, `${h.host}:${h.port}`);
    if (m) out[h.name] = m.files;
  }
  return out;
}

/** The plan, or a refusal (exit 3) with every reason the planner or the read-only mapping check found. */
async function planOrRefuse(s: Session, probed: ProbedCluster, opts: FailoverCommandOptions): Promise<Plan> {
  // The survey goes through this run's SSH connections once they are up: before that, each host would be asked
  // over a connection of its own, a second handshake per host while the run's own are still being made.
  const surveyed = !!s.config.vip?.readers.length;
  if (surveyed) await s.sshReady();
  const readers = surveyed
    ? { holders: (await probeVipHolders(s.config)).byVip, offline: (await s.view?.store.readOffline()) ?? [] }
    : undefined;
  const outcome = buildFailoverPlan(s.config, probed.states, {
    target: opts.target,
    ...(readers ? { readers } : {}),
    ...(opts.switchover ? { switchover: s.config.switchover } : {}),
    ...(opts.liftDelay ? { liftDelay: true } : {}),
    ...(opts.fenceLiveMaster ? { fenceLiveMaster: true } : {}),
    salvage: { remembered: rememberedFiles(s.config) },
    published: s.view?.snapshot.master?.name,
  });
  const verb = opts.switchover ? 'switch over' : 'fail over';
  const headline = `refusing to ${verb} to ${opts.target}: nothing was changed`;
  const plan = valueOrRefuse(outcome, headline);
  const unmappable = await targetMappingRefusal(plan, probed.states, s.conns.open, probed.dialects);
  if (unmappable) throw refused(headline, [unmappable]);
  return plan;
}

/**
 * A run died (kill -9, lost network, its monitor host) and left its journal: finish exactly the plan it printed,
 * skipping the steps it completed — after looking first: the cluster is probed again and must still be safe to
 * finish (resume-checks.ts), and a journal older than journalMaxAgeMinutes is not resumed by itself. Every step
 * is idempotent, so the one it died in, and one that failed, run again.
 */
async function resume(
  s: Session,
  opts: FailoverCommandOptions,
  unfinished: UnfinishedRun,
  probed: ProbedCluster,
): Promise<number> {
  const { start } = unfinished;
  const plan = start.plan;
  const cfg = s.config.source;
  const done = unfinished.results.filter((r) => r.status === 'done' || r.status === 'skipped').map((r) => r.n);
  const died = unfinished.interrupted.length ? `, died in step ${unfinished.interrupted.join(', ')}` : '';
  const said =
    `an unfinished ${plan.kind} to ${start.target} (started ${start.at} by pid ${start.pid} on ${start.host}; ` +
    `${done.length} of ${plan.steps.length} steps done${died})`;
  if (opts.dryRun) {
    const text =
      `${s.c.yellow(`Found ${said}.`)}\nA real run of --failover-to ${start.target} resumes it at the first ` +
      `step not done:\n\n${renderPlan(plan, s.c, { dryRun: true })}\n`;
    return showOnly(s, {
      command: plan.kind,
      plan,
      dryRun: true,
      text,
      json: { resume: { startedAt: start.at, done } },
    });
  }
  if (start.target !== opts.target && opts.target !== 'auto') {
    throw refused(`found ${said}: refusing to start another one to ${opts.target}`, [
      `finish it: mmmf --cfg ${cfg} --failover-to ${start.target}`,
      `or undo it (if nothing was promoted yet): mmmf --cfg ${cfg} --abort`,
      `its journal: ${s.view?.store.where ?? s.config.stateDir}`,
    ]);
  }
  const minutes = (Date.now() - Date.parse(unfinished.lastAt)) / 60_000;
  if (minutes > s.config.journalMaxAgeMinutes && !opts.resume) {
    throw refused(`found ${said}, last written ${minutes.toFixed(0)} minutes ago: not resumed by itself`, [
      `its journal is older than journalMaxAgeMinutes (${s.config.journalMaxAgeMinutes}): the cluster may have ` +
        `changed since (a false alarm, repairs by hand). Look first: mmmf status --cfg ${cfg}`,
      `to undo it (if nothing was promoted yet): mmmf --cfg ${cfg} --abort`,
      `to finish it anyway: mmmf --cfg ${cfg} --failover-to ${start.target} --resume`,
    ]);
  }
  const begun = new Set([...unfinished.results.map((r) => r.n), ...unfinished.interrupted]);
  const unsafe = resumeRefusals(plan, new Set(done), begun, probed.states, cfg);
  if (unsafe.length) throw refused(`found ${said}: refusing to resume it, nothing was changed`, unsafe);
  const journal = new Journal(heldLock(s));
  const run = planRun(s, plan, probed.dialects, journal);
  run.restore(unfinished.results, unfinished.outputs);
  const shown = `${s.c.yellow(`Resuming ${said}.`)}\n\n${renderPlan(plan, s.c, { dryRun: false })}\n\n`;
  const before = async () => {
    s.log?.line('mmmf', '#', `resuming ${said}`);
    await s.sshReady();
  };
  const resumed = { startedAt: start.at, done };
  return runAndReport(s, run, failoverEnding(s, run, journal, probed.dialects, { shown, before, resumed }));
}

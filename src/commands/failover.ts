import { buildAbortPlan } from '../algorithm/build-abort-plan.js';
import { buildFailoverPlan } from '../algorithm/build-failover-plan.js';
import type { HostState } from '../topology/server-state.js';
import type { Plan, Step } from '../algorithm/plan-types.js';
import { ConfigError, UnsafeError } from '../errors.js';
import { loggingConnector, openRunLog, type RunLog } from '../output/run-log.js';
import { hookEnv, runHook } from '../safety/hooks.js';
import type { Dialect } from '../dialect/dialect.js';
import { Journal, type UnfinishedRun } from '../executor/journal.js';
import { faultsFromEnv, PlanRun, type StepResult } from '../executor/run-plan.js';
import { hostOutcomes, renderResult, type HostOutcome } from '../output/render-result.js';
import { renderPlan } from '../output/render-plan.js';
import { colorsFor } from '../output/style.js';
import { checkAntiFlap, recordFailover } from '../safety/anti-flap.js';
import { invariantViolations } from '../safety/invariants.js';
import type { Faults } from '../executor/types.js';
import { acquireLocalLock, acquireServerLocks } from '../safety/run-lock.js';
import type { Positioning, ResolvedConfig } from '../topology/config-types.js';
import { connectMysql, withConnections, type ConnectionSet, type Connector } from '../topology/connection.js';
import { loadConfig } from '../topology/load-config.js';
import { targetMappingRefusal } from '../executor/target-mapping.js';
import { probeCluster } from '../topology/probe.js';

const DEAD_RUN_LOCK_WAIT_S = 5;

export interface FailoverCommandOptions {
  cfg: string;
  target: string;
  dryRun?: boolean;
  json?: boolean;
  /** Overrides the anti-flap check (never the safety checks). */
  force?: boolean;
  /** Stream the run log (every statement and answer) to stderr. */
  debug?: boolean;
  /** Undo an unfinished (killed) failover instead, if it has not reached the point of no return. */
  abort?: boolean;
  /** A planned switchover: the master is alive, becomes a replica of the target; a failure before promotion rolls back. */
  switchover?: boolean;
  /** Overrides the config's `positioning` for this run. */
  positioning?: Positioning;
  /** Apply delayed replicas' relay logs now (lifting their delay) and let them take part. */
  liftDelay?: boolean;
  connector?: Connector;
  /** Test-only fault injection (MMMF_TEST_*), read once by the entry point. */
  faults?: Faults;
}

/** `mmmf --failover-to NAME`: probe, plan (pure), print, and unless --dry-run execute. Returns the exit code. */
export async function failoverCommand(opts: FailoverCommandOptions): Promise<number> {
  const config = await loadConfig(opts.cfg);
  if (opts.positioning) config.positioning = opts.positioning;
  if (!opts.abort && !config.hosts.some((h) => h.name === opts.target)) {
    throw new ConfigError(`--failover-to ${opts.target}: no such host in ${config.source}`, [
      `configured hosts: ${config.hosts.map((h) => h.name).join(', ')}`,
    ]);
  }
  const started = Date.now();
  // A dry run changes nothing, so it neither takes nor waits for the locks.
  const local = opts.dryRun
    ? { release: () => {}, tookOverFromDeadRun: false }
    : acquireLocalLock(config, `mmmf --failover-to ${opts.target}`);
  try {
    // Anti-flap guards against automation looping on failovers; a switchover is a deliberate, planned act.
    if (!opts.dryRun && !opts.abort && !opts.switchover) checkAntiFlap(config, new Date(), !!opts.force);
    if (!opts.dryRun && !opts.abort) startSshWarmUp(config);
    const log = openRunLog(config, !!opts.debug);
    log?.line(
      'mmmf',
      '#',
      `mmmf --failover-to ${opts.target}${opts.dryRun ? ' --dry-run' : ''} (pid ${process.pid}, config ${config.source})`,
    );
    const connector = loggingConnector(opts.connector ?? connectMysql, log);
    return await withConnections(config.hosts, config.timeouts.connect, connector, async (conns) => {
      // A run killed on this machine a moment ago still holds server locks until the servers notice its
      // connections are gone: wait a few seconds for them rather than refuse.
      if (!opts.dryRun)
        await acquireServerLocks(config, conns.open, local.tookOverFromDeadRun ? DEAD_RUN_LOCK_WAIT_S : 0);
      return failover(config, conns, opts, started, log);
    });
  } finally {
    await closeSsh(config);
    local.release();
  }
}

async function failover(
  config: ResolvedConfig,
  conns: ConnectionSet,
  opts: FailoverCommandOptions,
  started: number,
  log?: RunLog,
): Promise<number> {
  const out = process.stdout;
  const c = colorsFor(out);
  const { states, dialects } = await probeCluster(config, conns);
  const journal = new Journal(config);
  const unfinished = journal.unfinished();
  if (opts.abort) return abort(config, conns, opts, journal, unfinished, states, dialects);
  if (unfinished) return resume(config, conns, opts, started, log, journal, unfinished, dialects);
  const plan = buildFailoverPlan(config, states, {
    target: opts.target,
    ...(opts.switchover ? { switchover: config.switchover } : {}),
    ...(opts.liftDelay ? { liftDelay: true } : {}),
  });
  const unmappable = await targetMappingRefusal(plan, states, conns.open, dialects);
  if (unmappable)
    throw new UnsafeError(
      `refusing to ${opts.switchover ? 'switch over' : 'fail over'} to ${opts.target}: nothing was changed`,
      [unmappable],
    );
  if (opts.dryRun || plan.nothingToDo) {
    out.write(
      opts.json
        ? JSON.stringify({ dryRun: !!opts.dryRun, plan }, null, 2) + '\n'
        : renderPlan(plan, c, { dryRun: !!opts.dryRun }) + '\n',
    );
    return 0;
  }
  if (!opts.json) out.write(renderPlan(plan, c, { dryRun: false }) + '\n\n');
  const pre = await runHook(config, 'preFailover', hookEnv(config, plan, 'preFailover'), { plan });
  if (pre && !pre.ok) {
    throw new UnsafeError('the preFailover hook failed: refusing, nothing was changed', [
      `hook ${pre.detail}`,
      'fix the hook (or what it checks) and run again',
    ]);
  }
  log?.line('mmmf', '#', `executing ${plan.steps.length} steps, best ${plan.best}, target ${plan.target}`);
  await sshWarmedUp();
  journal.start(plan);
  const run = new PlanRun(plan, { config, conns: conns.open, dialects, journal, ...faultsOf(opts) });
  return execute(config, conns, opts, started, log, journal, run, dialects);
}

/**
 * A run died (kill -9, lost network) and left its journal: finish exactly the plan it printed, skipping
 * the steps it completed. Every step is idempotent, so the one it died in runs again.
 */
async function resume(
  config: ResolvedConfig,
  conns: ConnectionSet,
  opts: FailoverCommandOptions,
  started: number,
  log: RunLog | undefined,
  journal: Journal,
  unfinished: UnfinishedRun,
  dialects: Map<string, Dialect>,
): Promise<number> {
  const out = process.stdout;
  const c = colorsFor(out);
  const { start } = unfinished;
  const plan = start.plan;
  const done = unfinished.results.filter((r) => r.status === 'done' || r.status === 'skipped').map((r) => r.n);
  const said =
    `an unfinished failover to ${start.target} (started ${start.at} by pid ${start.pid} on ${start.host}; ` +
    `${done.length} of ${plan.steps.length} steps done${unfinished.interrupted.length ? `, died in step ${unfinished.interrupted.join(', ')}` : ''})`;
  if (opts.dryRun) {
    out.write(
      opts.json
        ? JSON.stringify({ dryRun: true, resume: true, plan, done }, null, 2) + '\n'
        : `${c.yellow(`Found ${said}.`)}\nA real run of --failover-to ${start.target} resumes it at the first step not done:\n\n${renderPlan(plan, c, { dryRun: true })}\n`,
    );
    return 0;
  }
  if (start.target !== opts.target) {
    throw new UnsafeError(`found ${said}: refusing to start another one to ${opts.target}`, [
      `finish it: mmmf --cfg ${config.source} --failover-to ${start.target}`,
      `or look at its journal first: ${journal.file}`,
    ]);
  }
  if (!opts.json) out.write(`${c.yellow(`Resuming ${said}.`)}\n\n${renderPlan(plan, c, { dryRun: false })}\n\n`);
  log?.line('mmmf', '#', `resuming ${said}`);
  const run = new PlanRun(plan, { config, conns: conns.open, dialects, journal, ...faultsOf(opts) });
  run.restore(unfinished.results, unfinished.outputs);
  await sshWarmedUp();
  return execute(config, conns, opts, started, log, journal, run, dialects);
}

/** `--abort`: put the cluster back as it was before an unfinished failover, if it is not past promotion. */
async function abort(
  config: ResolvedConfig,
  conns: ConnectionSet,
  opts: FailoverCommandOptions,
  journal: Journal,
  unfinished: UnfinishedRun | undefined,
  states: HostState[],
  dialects: Map<string, Dialect>,
): Promise<number> {
  const out = process.stdout;
  const c = colorsFor(out);
  if (!unfinished) {
    out.write(
      opts.json
        ? JSON.stringify({ aborted: false, reason: 'no unfinished failover' }) + '\n'
        : 'No unfinished failover on this cluster: nothing to abort.\n',
    );
    return 0;
  }
  const begun = new Set([...unfinished.results.map((r) => r.n), ...unfinished.interrupted]);
  const steps = buildAbortPlan(config, unfinished.start.plan, begun, states);
  const plan: Plan = { ...unfinished.start.plan, steps };
  if (!opts.json) {
    out.write(c.bold(`Aborting the unfinished failover to ${plan.target} (started ${unfinished.start.at}):\n`));
    for (const s of steps) {
      out.write(`  ${String(s.n).padStart(3)}. ${c.bold(s.host)}: ${s.title}\n`);
      for (const sql of s.sql) out.write(`         ${c.dim('>')} ${sql}\n`);
    }
  }
  if (opts.dryRun) return 0;
  const run = new PlanRun(plan, { config, conns: conns.open, dialects, ...faultsOf(opts) });
  const results = await run.runAll();
  journal.end(false);
  if (opts.json) out.write(JSON.stringify({ aborted: true, ok: !run.failed, steps, results }, null, 2) + '\n');
  else {
    for (const r of results)
      out.write(
        `  ${r.status === 'done' || r.status === 'skipped' ? c.green('✔') : c.red('✖')} ${r.n}. ${r.host}: ${r.detail}\n`,
      );
    out.write(
      run.failed
        ? c.red('✖ Abort did not complete: see above; `mmmf status` shows where every host is.\n')
        : c.green(`✔ Aborted: the cluster replicates from ${plan.oldMaster.name ?? plan.oldMaster.address} again.\n`),
    );
  }
  return run.failed ? 1 : 0;
}

async function execute(
  config: ResolvedConfig,
  conns: ConnectionSet,
  opts: FailoverCommandOptions,
  started: number,
  log: RunLog | undefined,
  journal: Journal,
  run: PlanRun,
  dialects: Map<string, Dialect>,
): Promise<number> {
  const out = process.stdout;
  const c = colorsFor(out);
  const plan = run.plan;
  const results = opts.json ? await run.runAll() : await runWithProgress(run, plan);
  for (const r of results) log?.line(r.host, '#', `step ${r.n} ${r.status}: ${r.detail}`);
  const rollback = await rollbackIfNeeded(config, conns, run, results, dialects);
  for (const r of rollback?.results ?? []) log?.line(r.host, '#', `rollback step ${r.n} ${r.status}: ${r.detail}`);
  const { states: finalStates } = await probeCluster(config, conns);
  const outcomes = rollback ? rollbackOutcomes(plan, finalStates) : hostOutcomes(plan, results, finalStates);
  const seconds = (Date.now() - started) / 1000;
  const violations = invariantViolations(plan, results, finalStates);
  const ok = !run.failed && outcomes.every((o) => o.ok) && violations.length === 0;
  const blockedMs = writesBlockedMs(plan, results, rollback);
  const promoted = results.some((r) => r.status === 'done' && plan.steps.find((s) => s.n === r.n)?.phase === 'promote');
  // Anti-flap counts failovers that moved the master; a run that promoted nobody is not one.
  if (promoted) recordFailover(config, { finished: new Date().toISOString(), target: plan.target, ok });
  journal.end(ok);
  for (const v of violations) log?.line('mmmf', '!', `invariant broken: ${v}`);
  const hookName = ok ? 'postFailover' : 'onFailure';
  const hook = await runHook(config, hookName, hookEnv(config, plan, hookName, ok ? 'done' : 'failed'), {
    plan,
    ok,
    results,
    hosts: outcomes,
  });
  if (hook) log?.line('mmmf', '#', `${hook.hook} hook ${hook.ok ? 'ok' : 'FAILED'}: ${hook.detail}`);
  if (opts.json) {
    out.write(
      JSON.stringify(
        {
          dryRun: false,
          ok,
          seconds,
          plan,
          results,
          hosts: outcomes,
          invariants: { ok: violations.length === 0, violations },
          promoted,
          ...(blockedMs !== undefined ? { writesBlockedMs: blockedMs } : {}),
          ...(rollback ? { rollback } : {}),
          ...(hook ? { hook } : {}),
        },
        null,
        2,
      ) + '\n',
    );
  } else {
    const next = promoted || rollback ? undefined : continueCommand(config, plan);
    out.write('\n' + renderResult({ plan, results, outcomes, seconds, hook, violations, promoted, next }, c) + '\n');
    if (blockedMs !== undefined)
      out.write(
        `Writes were blocked for ${blockedMs} ms (old master read-only → ${rollback ? 'rolled back' : 'new master writable'}).\n`,
      );
    if (rollback) {
      out.write(
        rollback.ok
          ? c.yellow(
              `Rolled back before promotion: ${plan.oldMaster.name} is writable again and every replica replicates from it.\n`,
            )
          : c.red('Rollback did not complete: see `mmmf status`.\n'),
      );
    }
  }
  // A failed hook after a completed failover must not look like success to cron: exit 1, said plainly.
  return ok && (!hook || hook.ok) ? 0 : 1;
}

/** Drives the run through a listr2 list: live on a terminal, plain lines when piped. */
async function runWithProgress(run: PlanRun, plan: Plan): Promise<StepResult[]> {
  const { Listr } = await import('listr2');
  // A terminal that reports no width (some CI pseudo-terminals) gets plain lines, not a wrapped mess.
  const tty = !!process.stdout.isTTY && process.env.TERM !== 'dumb' && (process.stdout.columns ?? 0) > 0;
  const title = (s: Step) => `${s.n}. ${s.host}: ${s.title}`;
  const tasks = new Listr(
    run.phases().map((p) => ({
      title: p.label,
      task: (_: unknown, phaseTask: { newListr: Function }) =>
        phaseTask.newListr(
          p.steps.map((s) => ({
            title: title(s),
            task: async (_c: unknown, t: { title: string; skip: (m: string) => void }) => {
              const r = await run.runStep(s);
              if (r.status === 'failed') throw new Error(`${title(s)}: ${r.detail}`);
              if (r.status === 'not-run') t.skip(`${title(s)}: ${r.detail}`);
              else if (r.status === 'skipped') t.title = `${title(s)} — nothing to do: ${r.detail}`;
              else t.title = `${title(s)} — ${r.detail} (${r.ms} ms)`;
            },
          })),
          { concurrent: p.parallel, exitOnError: false },
        ),
    })),
    {
      concurrent: false,
      exitOnError: false,
      renderer: tty ? 'default' : 'simple',
      fallbackRenderer: 'simple',
      rendererOptions: { collapseSubtasks: false, collapseSkips: true, showErrorMessage: true },
    } as never,
  );
  await tasks.run().catch(() => undefined);
  return plan.steps.map((s) => run.results.get(s.n)!);
}

/**
 * A switchover that failed before the target was promoted is rolled back at once: the old master takes
 * writes again and the replicas follow it, as if nothing had happened. (A failover has no master to go back to.)
 */
async function rollbackIfNeeded(
  config: ResolvedConfig,
  conns: ConnectionSet,
  run: PlanRun,
  results: StepResult[],
  dialects: Map<string, Dialect>,
) {
  const plan = run.plan;
  if (plan.kind !== 'switchover' || !run.failed) return undefined;
  const promote = plan.steps.find((s) => s.phase === 'promote');
  const promoted = results.find((r) => r.n === promote?.n);
  if (promoted && promoted.status !== 'not-run') return undefined; // past the point of no return
  const begun = new Set(results.filter((r) => r.status !== 'not-run').map((r) => r.n));
  const { states } = await probeCluster(config, conns);
  const steps = buildAbortPlan(config, plan, begun, states);
  const rb = new PlanRun({ ...plan, steps }, { config, conns: conns.open, dialects });
  const rbResults = await rb.runAll();
  return { ok: !rb.failed, steps, results: rbResults };
}

/** After a rollback every host should be back where it was: the old master writable, replicas on it. */
function rollbackOutcomes(plan: Plan, states: HostState[]): HostOutcome[] {
  return plan.hosts.map((h) => {
    const s = states.find((x) => x.name === h.name);
    if (!s?.reachable) return { name: h.name, ok: h.role === 'unreachable', state: 'unreachable' };
    if (h.role === 'old-master')
      return {
        name: h.name,
        ok: !s.readOnly && !s.replica,
        state: `master again, ${s.readOnly ? 'STILL read-only' : 'writable'}`,
      };
    if (h.role === 'replica' || h.role === 'target') {
      const r = s.replica;
      const ok =
        !!r && `${r.sourceHost}:${r.sourcePort}` === plan.oldMaster.address && r.ioRunning === 'Yes' && r.sqlRunning;
      return {
        name: h.name,
        ok,
        state: ok
          ? `replica of ${plan.oldMaster.name} again, IO Yes, SQL Yes`
          : `NOT restored: IO ${r?.ioRunning ?? '-'}, SQL ${r?.sqlRunning ? 'Yes' : 'No'}`,
      };
    }
    return { name: h.name, ok: true, state: `${h.note} (untouched)` };
  });
}

/**
 * How long applications could not write: from the old master losing the VIP or going read-only, whichever
 * came first, to the new master (or, after a rollback, the old one again) being writable and holding the VIP.
 */
function writesBlockedMs(
  plan: Plan,
  results: StepResult[],
  rollback?: { steps: Step[]; results: StepResult[] },
): number | undefined {
  const done = (steps: Step[], rs: StepResult[], kinds: string[]) =>
    rs.filter((r) => r.status === 'done' && kinds.includes(steps.find((s) => s.n === r.n)?.action.kind ?? ''));
  const starts = done(plan.steps, results, ['fence-read-only', 'vip-remove']);
  const ends = rollback
    ? done(rollback.steps, rollback.results, ['promote', 'vip-add'])
    : done(plan.steps, results, ['promote', 'vip-add']);
  // Only a master that was alive and made read-only had writes to block (a dead one had none).
  const fenced = done(plan.steps, results, ['fence-read-only']).length > 0;
  return fenced && ends.length
    ? Math.max(...ends.map((r) => r.at + r.ms)) - Math.min(...starts.map((r) => r.at))
    : undefined;
}

/**
 * With a VIP, the SSH connections the VIP steps use are opened while mmmf probes (see vip/remote.ts), so the
 * handshakes are not paid while writes are blocked. A host that does not answer delays the run by at most
 * a second here; its VIP step reports it.
 */
let sshWarm: Promise<void> | undefined;
function startSshWarmUp(config: ResolvedConfig): void {
  if (config.vip) sshWarm = import('../vip/remote.js').then((m) => m.warmUp(config.hosts, config.timeouts.connect));
}
async function sshWarmedUp(): Promise<void> {
  if (sshWarm) await Promise.race([sshWarm, new Promise((r) => setTimeout(r, 1000))]);
}
async function closeSsh(config: ResolvedConfig): Promise<void> {
  if (!sshWarm) return;
  await sshWarm;
  sshWarm = undefined;
  await (await import('../vip/remote.js')).closeShared(config.hosts);
}

const faultsOf = (opts: FailoverCommandOptions) => {
  const faults = opts.faults ?? faultsFromEnv(process.env);
  return faults ? { faults } : {};
};

/** Nothing was promoted: the command that continues from here (the best replica holds everything). */
function continueCommand(config: ResolvedConfig, plan: Plan): string {
  const other = plan.best !== plan.target ? plan.best : plan.hosts.find((h) => h.role === 'replica')?.name;
  return other
    ? `mmmf --cfg ${config.source} --failover-to ${other}   (it received the most; or fix ${plan.target} first)`
    : `fix ${plan.target}, then run mmmf --cfg ${config.source} --failover-to ${plan.target} again`;
}

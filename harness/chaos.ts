// The crash harness behind `npm run chaos`: per iteration a fresh sandbox, concurrent write load, random lag
// per replica, kill -9 of the master at a random moment, failover to a random replica, then every invariant
// a DBA cares about is checked on the servers (harness/chaos-judge.ts). Decisions come from the seed
// (iteration i of seed S = iteration 0 of seed S+i), counted in master transactions, so an iteration is
// replayed with `--seed S+i --iterations 1`. How strict an iteration is never depends on what mmmf says.
import { join } from 'node:path';
import { startCluster, type Cluster } from './cluster.js';
import { minoritySplit, vipViolations } from './chaos-net.js';
import {
  aliveAliasRefusal,
  checkInvariants,
  controlSnapshot,
  delayedHoldsMost,
  driftOutcome,
  salvageViolations,
} from './chaos-judge.js';
import { type ChaosScenario, describeScenario, drawScenario } from './chaos-scenario.js';
import { aliasConfig, lagActions, prepare, slaveStatus } from './chaos-setup.js';
import {
  readOnlyMasterBack,
  semiSyncNoTx,
  semiSyncReady,
  semiSyncViolations,
  stepFault,
  writableMasterBack,
} from './chaos-states.js';
import { allRunsEnded, killedBeforeStep, readJournals } from './journal-view.js';
import { ledgerEvidence } from './ledger.js';
import { type LoopbackSsh, sshEntry, startLoopbackSsh } from './loopback-ssh.js';
import { ownerOf } from './ports.js';
import { gtidSeq, startLoad, until } from './load.js';

export interface ChaosOptions {
  iterations: number;
  seed: number;
  replicas: number;
  basePort: number;
  log: (line: string) => void;
}

export interface IterationResult {
  seed: number;
  ok: boolean;
  line: string;
  violations: string[];
  scenario: ChaosScenario;
  /** Where mmmf was killed: step k of a plan of n steps, and that step's phase. */
  killed?: { k: number; of: number; phase: string };
  /** Where a step failed or mmmf was killed half-way (after the step's first changing statement): its phase. */
  inStep?: { action: 'kill' | 'fail'; phase: string };
  ms: number;
  /** The cluster folder, kept for inspection when an invariant broke. */
  keptAt?: string;
}

export async function runChaos(
  o: ChaosOptions,
): Promise<{ passed: number; failed: number; results: IterationResult[] }> {
  const results: IterationResult[] = [];
  for (let i = 0; i < o.iterations; i++) {
    const r = await iteration(o.seed + i, o);
    results.push(r);
    o.log(`${r.ok ? 'ok  ' : 'FAIL'} ${i + 1}/${o.iterations} ${r.line} (${(r.ms / 1000).toFixed(0)} s)`);
    if (!r.ok) {
      for (const v of r.violations) o.log(`     ✖ ${v}`);
      o.log(`     replay: npm run chaos -- --seed ${r.seed} --iterations 1 --replicas ${o.replicas}`);
      if (r.keptAt)
        o.log(
          `     cluster kept for inspection in ${r.keptAt} (stop it: bash scripts/sandbox.sh --dir ${r.keptAt} down)`,
        );
      break; // its ports stay taken by the kept cluster
    }
  }
  const passed = results.filter((r) => r.ok).length;
  return { passed, failed: results.length - passed, results };
}

interface RunOutput {
  exitCode: number;
  signal?: string;
  why: string;
  json: { results?: { n: number; host: string; status: string; detail: string }[]; plan?: { steps?: unknown[] } };
}

async function runJson(c: Cluster, cfg: string, target: string, extra: string[], env: Record<string, string> = {}) {
  const r = await c.cli(['--cfg', cfg, '--failover-to', target, '--json', ...extra], env);
  let json: RunOutput['json'] = {};
  try {
    json = JSON.parse(r.stdout) as RunOutput['json'];
  } catch {
    // killed, or refused before printing a plan: stderr says why
  }
  const failedSteps = (json.results ?? [])
    .filter((x) => x.status !== 'done' && x.status !== 'skipped')
    .map((x) => `step ${x.n} ${x.host} ${x.status}: ${x.detail}`)
    .join('; ');
  const out: RunOutput = {
    exitCode: r.exitCode,
    json,
    why: r.stderr.trim() || failedSteps || r.stdout.slice(0, 500),
  };
  if (r.signal) out.signal = r.signal;
  return out;
}

/**
 * A failover to another target may include the drifted replica (when the first run was refused before it reached
 * it): its catch-up then meets the colliding row, and it is left stopped — a partial failure, exit 1. Accepted only
 * when the server shows exactly that (its SQL thread stopped on the duplicate row) and no step failed elsewhere.
 */
async function stoppedByItsDrift(c: Cluster, drift: string, out: RunOutput): Promise<boolean> {
  const failedElsewhere = (out.json.results ?? []).some(
    (x) => x.status !== 'done' && x.status !== 'skipped' && x.host !== drift,
  );
  const [st] = await c.query<Record<string, string>>(drift, 'SHOW SLAVE STATUS');
  return !failedElsewhere && st?.Slave_SQL_Running === 'No' && String(st.Last_SQL_Errno) === '1062';
}

/** The crash: writers still writing right up to kill -9 of the master, then every replica has noticed it. */
async function crash(c: Cluster, s: ChaosScenario, seed: number, names: string[]) {
  if (s.semiSync) await semiSyncReady(c);
  const noTx = s.semiSync ? await semiSyncNoTx(c) : 0;
  const base = await gtidSeq(c, 'test1');
  const load = await startLoad(c, 'test1', s.writers, seed);
  await lagActions(c, s.lag, base, s.purge ? Math.floor(s.killAt / 2) : undefined);
  if (s.drift) {
    // The colliding row: another replica must hold it before the crash (the drifted one lags).
    await c.query('test1', 'INSERT INTO sbtest.drift VALUES (1)');
    const witness = s.lag.find((l) => l.mode === 'sync' && l.name !== s.drift && l.name !== s.delayed?.name)!.name;
    await until(async () => (await c.query(witness, 'SELECT 1 FROM sbtest.drift')).length === 1, 30_000, 'drift row');
  }
  await until(async () => (await gtidSeq(c, 'test1')) - base >= s.killAt, 120_000, `master transaction ${s.killAt}`);
  const violations: string[] = [];
  try {
    await load.stillWriting();
  } catch (err) {
    violations.push(`the kill was to come under load: ${(err as Error).message}`);
  }
  // Semi-sync's promise holds only while no commit went asynchronous: the setup must keep it so.
  if (s.semiSync && (await semiSyncNoTx(c)) !== noTx)
    violations.push('semi-sync: the master acknowledged commits asynchronously during the load (setup broken)');
  const killedAt = Date.now();
  await c.sandbox('kill', 'test1');
  // A power loss: the server dies (its replicas see the connection end), then its host goes silent (no RST).
  if (s.net?.kind === 'power-loss') await c.sandbox('netcut', 'test1');
  await load.stop();
  for (const e of load.errors.filter((x) => x.at < killedAt)) {
    violations.push(`writer ${e.writer} failed at seq ${e.seq} before the kill: ${e.message}`);
  }
  // An IO thread can take a moment to notice the crash; until then mmmf rightly refuses (the master may be
  // alive). Cron would simply run again: wait as it would. After a power loss a replica whose unread data filled
  // its window never gets the dead server's FIN (it sat queued behind that data when the host went silent): it
  // notices only after slave_net_timeout without a byte (seed 70339: still 'Yes' after 30 s).
  const [{ t } = { t: 60 }] = await c.query<{ t: number }>(names[0]!, 'SELECT @@slave_net_timeout AS t');
  await until(
    async () => (await Promise.all(names.map((n) => slaveStatus(c, n)))).every((st) => st.Slave_IO_Running !== 'Yes'),
    s.net?.kind === 'power-loss' ? (Number(t) + 30) * 1000 : 30_000,
    'replicas to notice the crash',
  );
  for (const n of s.stopAfterCrash) await c.query(n, 'STOP SLAVE');
  return { attempted: load.attempted, acked: load.acked, violations, retried: load.retried.length };
}

async function iteration(seed: number, o: ChaosOptions): Promise<IterationResult> {
  const started = Date.now();
  const s = drawScenario(seed, o.replicas);
  const names = s.lag.map((l) => l.name);
  const violations: string[] = [];
  let c: Cluster | undefined;
  let keep = false;
  let killed: IterationResult['killed'];
  let inStep: IterationResult['inStep'];
  let line = describeScenario(seed, s);
  let ssh: LoopbackSsh | undefined;
  // A loopback sshd needs root; without it the iteration runs as one whose master's host is unreachable.
  if (s.salvage && process.getuid?.() !== 0) {
    delete s.salvage;
    line += ' (salvage dropped: not root)';
  }
  // Network namespaces need root too: without it the iteration runs on loopback.
  if (s.net && process.getuid?.() !== 0) {
    delete s.net;
    line += ' (netns dropped: not root)';
  }
  try {
    c = await startCluster({
      basePort: o.basePort,
      replicas: o.replicas,
      format: s.format,
      positioning: s.positioning,
      ...(s.pair ? { topology: 'pair' as const } : {}),
      ...(s.semiSync ? { semiSync: true } : {}),
      ...(s.net ? { netns: true } : {}),
    });
    const cl = c;
    await prepare(cl, s);
    // test1 as the config names it: by another address, and reachable over SSH on its own host.
    // A --netns sandbox runs a real sshd on every host (its config names them all).
    if (s.salvage && !s.net) {
      // The port after the servers' and a gap: it must lie in the cluster's own range too.
      const sshPort = o.basePort + o.replicas + 2;
      const owned = ownerOf(o.basePort, o.replicas + 3);
      if ('error' in owned) throw new Error(`the loopback sshd's port ${sshPort}: ${owned.error}`);
      ssh = await startLoopbackSsh(cl, sshPort);
    }
    const test1 = [
      s.alias ? `host: 'localhost', port: ${cl.port('test1')}` : '...base.hosts.test1',
      ssh ? `ssh: ${sshEntry(ssh)}` : '',
    ].filter(Boolean);
    const cfg = s.alias || ssh ? aliasConfig(cl, `{ ${test1.join(', ')} }`, 'chaos.config.ts') : cl.cfg;
    if (ssh || s.net) {
      // As a cron'd check would have: mmmf saw the master alive and remembers where it keeps its binlog; on
      // namespace hosts its SSH connections to every host are what a power loss must not hang on.
      const st = await cl.cli(['--cfg', cfg, 'status']);
      if (st.exitCode !== 0) throw new Error(`mmmf status before the load: exit ${st.exitCode}: ${st.stderr}`);
    }
    // Before the load, when every replica is connected to the live master.
    if (s.aliveAliasCheck) violations.push(...(await aliveAliasRefusal(cl, names)));
    if (s.net?.kind === 'split') violations.push(...(await minoritySplit(cl, names, s.net.minority)));
    const crashed = await crash(cl, s, seed, names);
    violations.push(...crashed.violations);
    // Deadlocks between writers, each transaction run again with the same seq: counted, not hidden.
    if (crashed.retried) line += ` retried=${crashed.retried}`;
    // Read after it: the replicas that reconnect to the old master meanwhile receive the rest of its binlog.
    if (s.revive === 'read-only') violations.push(...(await readOnlyMasterBack(cl, cfg, names)));
    const ev = await ledgerEvidence(cl, names, 'test1');
    const received = (n: string) => ev.replicas[n]!.gtid;
    const maxReceived = Math.max(...names.map(received));
    // What only the dead master's binlog holds: what a salvage must bring back.
    if (s.salvage) line += ` binlog-only=${Math.max(0, ev.masterGtid - maxReceived)}`;

    let lift = !!s.delayed?.lift;
    const candidates = () => names.filter((n) => n !== s.delayed?.name || lift);
    const laggard = candidates().reduce((a, b) => (received(b) < received(a) ? b : a));
    const pick = candidates()[Math.floor(s.targetPick * candidates().length)]!;
    let target = s.drift ?? (s.mostLagging ? laggard : pick);
    line += ` → ${target}${target === laggard ? ' (most lagging)' : ''} behind=${maxReceived - received(target)}`;
    const flags = () => (lift ? ['--lift-delay'] : []);

    const t0 = Date.now();
    if (s.drift) {
      const failed = await runJson(cl, cfg, target, flags());
      violations.push(...(await driftOutcome(cl, s.drift, names, failed.exitCode)));
      // Continue to the replica that received the most (it holds everything): that must work.
      target = names
        .filter((n) => n !== s.drift && n !== s.delayed?.name)
        .reduce((a, b) => (received(b) > received(a) ? b : a));
      line += ` then → ${target}`;
    }
    // Semi-sync that waits for an acknowledgement with nobody left to give one (the drifted replica broke on its own
    // row; a delayed one by file stays stopped): the next command must be refused, changing nothing (seed 70394).
    if (s.semiSync && nobodyToAcknowledge(s, names, target, lift)) {
      violations.push(...(await refusedChangingNothing(cl, cfg, target, flags(), names)));
      line += ' (semi-sync: nobody left to acknowledge: refused, nothing changed)';
      keep = violations.length > 0;
      return {
        seed,
        ok: !keep,
        line,
        violations,
        scenario: s,
        ms: Date.now() - started,
        ...(keep ? { keptAt: cl.dir } : {}),
      };
    }
    const delayedWhy = s.delayed && !lift ? delayedHoldsMost(ev, s.delayed.name, candidates()) : undefined;
    if (delayedWhy) {
      // Only the delayed replica received the newest transactions: a failover without it must be refused, and
      // change nothing; lifting its delay (the harness's decision, from its own reading) keeps them.
      const before = await controlSnapshot(cl, names);
      const refused = await runJson(cl, cfg, target, []);
      if (refused.exitCode !== 3)
        violations.push(`delayed ${s.delayed!.name} held ${delayedWhy}: exit ${refused.exitCode}, expected 3`);
      const after = await controlSnapshot(cl, names);
      if (after !== before) violations.push(`a refused run changed the servers: ${before} → ${after}`);
      line += ` (delayed held ${delayedWhy}: refused, then lifted)`;
      lift = true;
      s.delayed!.lift = true;
    }
    if (s.killAtStep !== undefined) {
      const k = await killRun(cl, cfg, target, flags(), s.killAtStep);
      violations.push(...k.violations);
      killed = k.killed;
      line += killed ? ` (killed before step ${killed.k}/${killed.of} ${killed.phase}, resumed)` : '';
    }
    let finished = false;
    let failedRunLast = false;
    if (s.stepFault) {
      const f = await stepFault(cl, ['--cfg', cfg, '--failover-to', target, ...flags()], s.stepFault);
      violations.push(...f.violations);
      line += f.said;
      if (f.phase) inStep = { action: s.stepFault.action, phase: f.phase };
      finished = f.exitCode === 0;
      failedRunLast = !!f.failedRunLast;
      // A target that failed to catch up: the named command fails over to the replica that holds everything.
      if (f.target && f.target !== target) {
        target = f.target;
        line += ` → ${target}`;
      }
    }
    // After a failure the named commands finished: the same command again must say so and change nothing wrong.
    const out = await runJson(cl, cfg, target, flags());
    if (finished) line += ` re-run exit ${out.exitCode}`;
    line += ` failover=${((Date.now() - t0) / 1000).toFixed(2)}s`;
    const driftStopped = s.drift && out.exitCode === 1 ? await stoppedByItsDrift(cl, s.drift, out) : false;
    if (out.exitCode !== 0 && !driftStopped) violations.push(`mmmf exited ${out.exitCode}: ${out.why}`);
    // A run left partial by the drifted replica ends its journal with ok=false: ended, which is what matters here.
    // The same for a run failed inside a step whose work `rejoin` finished (seed 70024): servers judge the rest.
    const ended = allRunsEnded(readJournals(join(cl.dir, 'state')), { lastMayFail: !!driftStopped || failedRunLast });
    violations.push(...ended.map((x) => `journal: ${x}`));
    const left = new Set([s.drift, s.delayed && !lift ? s.delayed.name : undefined].filter((x) => x !== undefined));
    const judged = { names, target, ev, attempted: crashed.attempted, left, seed, positioning: s.positioning };
    violations.push(...(await checkInvariants(cl, { ...judged, delayed: s.delayed })));
    const survivors = names.filter((n) => !left.has(n));
    if (s.salvage) violations.push(...(await salvageViolations(cl, survivors, ev)));
    if (s.semiSync) violations.push(...(await semiSyncViolations(cl, survivors, target, crashed.acked)));
    if (s.net) violations.push(...(await vipViolations(cl, target, s.net.kind === 'power-loss' ? 'test1' : undefined)));
    if (s.revive === 'writable' && !violations.length)
      violations.push(...(await writableMasterBack(cl, cfg, survivors, target)));
    if (violations.length) {
      keep = true;
      violations.push(`plan: ${JSON.stringify(out.json.plan ?? null).slice(0, 4000)}`);
    }
  } catch (err) {
    violations.push(`harness error: ${(err as Error).stack ?? String(err)}`);
    keep = true;
  } finally {
    await ssh?.stop();
    if (c && !keep) await c.down();
  }
  return {
    seed,
    ok: violations.length === 0,
    line,
    violations,
    scenario: s,
    ...(killed ? { killed } : {}),
    ...(inStep ? { inStep } : {}),
    ms: Date.now() - started,
    ...(keep && c ? { keptAt: c.dir } : {}),
  };
}

/** Every replica but the target is the drifted one (left out: its SQL thread broke) or a delayed one left stopped. */
function nobodyToAcknowledge(s: ChaosScenario, names: string[], target: string, lift: boolean): boolean {
  const left = (n: string) => n === s.drift || (n === s.delayed?.name && !lift && s.positioning === 'file');
  return names.every((n) => n === target || left(n));
}

/** A run that must be refused: exit 3, and the servers as they were. */
async function refusedChangingNothing(c: Cluster, cfg: string, target: string, flags: string[], names: string[]) {
  const before = await controlSnapshot(c, names);
  const r = await runJson(c, cfg, target, flags);
  const after = await controlSnapshot(c, names);
  return [
    ...(r.exitCode === 3 ? [] : [`expected a refusal (exit 3), got exit ${r.exitCode}: ${r.why}`]),
    ...(after === before ? [] : [`a refused run changed the servers: ${before} → ${after}`]),
  ];
}

/**
 * mmmf killed (SIGKILL) right before a step drawn within the plan it prints for this very cluster, and the
 * journal read back to prove the kill came there. A run that ends any other way is a violation.
 */
async function killRun(c: Cluster, cfg: string, target: string, flags: string[], draw: number) {
  const dry = await runJson(c, cfg, target, [...flags, '--dry-run']);
  const steps = (dry.json.plan?.steps ?? []) as { n: number; phase: string }[];
  if (dry.exitCode !== 0 || !steps.length) {
    return { violations: [`the dry run before the kill: exit ${dry.exitCode}: ${dry.why}`] };
  }
  const step = steps[Math.floor(draw * steps.length)]!;
  const killed = { k: step.n, of: steps.length, phase: step.phase };
  const r = await runJson(c, cfg, target, flags, { MMMF_TEST_KILL_AT_STEP: String(step.n) });
  const violations: string[] = [];
  if (r.signal !== 'SIGKILL') {
    violations.push(
      `mmmf was to be killed before step ${step.n} of ${steps.length}, but exited ${r.exitCode}: ${r.why}`,
    );
  } else {
    violations.push(...killedBeforeStep(readJournals(join(c.dir, 'state')), step.n).map((x) => `journal: ${x}`));
  }
  return { violations, killed };
}

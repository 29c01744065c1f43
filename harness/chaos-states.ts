// The chaos states that come on top of a crash (harness/chaos-scenario.ts draws them): a semi-synchronous
// cluster, a step that fails or is killed half-way, an old master that comes back read-only or writable. Each is
// judged from the servers (and, for a kill, the journal), never from what mmmf says.
import { join } from 'node:path';
import { type Cluster } from './cluster.js';
import { controlSnapshot } from './chaos-judge.js';
import { slaveStatus } from './chaos-setup.js';
import { killedInStep, readJournals, stepStatus } from './journal-view.js';
import { LEDGER_KEYS, until } from './load.js';

type Vars = Record<string, string>;
const globals = async (c: Cluster, n: string, like: string, status = false): Promise<Vars> => {
  const rows = await c.query<{ Variable_name: string; Value: string }>(
    n,
    `SHOW GLOBAL ${status ? 'STATUS' : 'VARIABLES'} LIKE '${like}'`,
  );
  return Object.fromEntries(rows.map((r) => [r.Variable_name.toLowerCase(), r.Value]));
};

/** test1's commits that went asynchronous (no replica acknowledged them) so far. */
export const semiSyncNoTx = async (c: Cluster): Promise<number> =>
  Number((await globals(c, 'test1', 'Rpl_semi_sync_master_no_tx', true)).rpl_semi_sync_master_no_tx ?? NaN);

/**
 * Semi-sync before the load: the master's timeout raised, so an acknowledged commit always means a replica received
 * it, and the master side really on (a replica that acknowledges is connected).
 */
export async function semiSyncReady(c: Cluster): Promise<void> {
  await c.query('test1', 'SET GLOBAL rpl_semi_sync_master_timeout = 600000');
  await until(
    async () => {
      const st = await globals(c, 'test1', 'Rpl_semi_sync_master_%', true);
      return st.rpl_semi_sync_master_status === 'ON' && Number(st.rpl_semi_sync_master_clients) >= 1;
    },
    30_000,
    'the master side of semi-sync to be on with a replica connected',
  );
}

/**
 * After the failover: every commit the dead master acknowledged is on every survivor (each writer's ledger there
 * reaches its highest acknowledged seq; gaps are the ledger check's), the new master runs the master side with a
 * replica acknowledging, and every replica it repointed runs the replica side.
 */
export async function semiSyncViolations(
  c: Cluster,
  survivors: string[],
  target: string,
  acked: Set<string>,
): Promise<string[]> {
  const v: string[] = [];
  const highest = new Map<number, number>();
  for (const k of acked) {
    const [w, seq] = k.split(':').map(Number) as [number, number];
    highest.set(w, Math.max(highest.get(w) ?? 0, seq));
  }
  for (const n of survivors) {
    const keys = new Set((await c.query<{ k: string }>(n, LEDGER_KEYS)).map((r) => r.k));
    for (const [w, seq] of highest) {
      if (!keys.has(`${w}:${seq}`))
        v.push(`semi-sync: ${n} lacks writer ${w}'s commit ${seq}, acknowledged by the master`);
    }
  }
  const master = await globals(c, target, 'rpl_semi_sync_master_enabled');
  if (master.rpl_semi_sync_master_enabled !== 'ON')
    v.push(`semi-sync: the new master ${target} has its master side off`);
  const status = await globals(c, target, 'Rpl_semi_sync_master_clients', true);
  if (survivors.length > 1 && !(Number(status.rpl_semi_sync_master_clients) >= 1))
    v.push(`semi-sync: no replica acknowledges for ${target} (clients ${status.rpl_semi_sync_master_clients})`);
  for (const n of survivors.filter((x) => x !== target)) {
    const r = await globals(c, n, 'rpl_semi_sync_%_enabled');
    if (r.rpl_semi_sync_slave_enabled !== 'ON') v.push(`semi-sync: replica ${n} has its replica side off`);
    if (r.rpl_semi_sync_master_enabled === 'ON') v.push(`semi-sync: replica ${n} still has its master side on`);
  }
  return v;
}

/** A statement that changes something, as the plan's JSON holds it (the fault point counts only those). */
const CHANGES = /"(STOP|START|CHANGE|SET|RESET|FLUSH|INSTALL)\s/;

const CONDITIONAL = new Set(['salvage', 'recheck-old-master', 'fence-read-only']);

interface DryStep {
  n: number;
  host?: string;
  phase: string;
  action?: unknown;
}

/** The step whose first changing statement a fault follows: drawn among the plan's steps that send one. */
export function stepWithStatements(steps: DryStep[], at: number): DryStep | undefined {
  // Statements that may never be sent are no place for a fault: a salvage's (only when the binlog holds something
  // no replica has), and those for the dead old master (the recheck before the promotion fences it only if it
  // answers: seed 70013 drew that one).
  const eligible = steps.filter(
    (s) =>
      s.host !== 'test1' &&
      !CONDITIONAL.has((s.action as { kind?: string } | undefined)?.kind ?? '') &&
      CHANGES.test(JSON.stringify(s.action ?? {})),
  );
  return eligible[Math.floor(at * eligible.length)];
}

/** The command a failed run's summary names (`Next: mmmf ...   (why)`), as arguments; undefined when none. */
export function nextCommand(stdout: string): string[] | undefined {
  const m = /^Next: mmmf (.+?)(?:\s{2,}\(.*)?$/m.exec(stdout);
  return m ? m[1]!.trim().split(/\s+/) : undefined;
}

export interface StepFaultOutcome {
  violations: string[];
  /** What happened, for the iteration's line. */
  said: string;
  /** The step's phase (for the coverage count), when the fault fired. */
  phase?: string;
  /** The last command's exit code: it finished the failover when 0. */
  exitCode?: number;
  /** The target the named commands failed over to, when one named another (a target that failed to catch up). */
  target?: string;
  /**
   * The failed run's journal stays the last one (ended, ok=false): the commands that finished its work were not
   * failovers (`rejoin` keeps no journal).
   */
  failedRunLast?: boolean;
}

/**
 * `kill`: mmmf killed right after the step's first changing statement; the journal must show the step begun and
 * unfinished (the caller then runs the same command again). `fail`: the step fails there; the run must end
 * exit 1, and the command its summary names next runs — again while each names another (at most 3) — and the
 * last must finish (exit 0).
 */
export async function stepFault(
  c: Cluster,
  failover: string[],
  fault: { action: 'kill' | 'fail'; at: number },
): Promise<StepFaultOutcome> {
  const dry = await c.cli([...failover, '--dry-run', '--json']);
  let steps: DryStep[] = [];
  try {
    steps = (JSON.parse(dry.stdout) as { plan: { steps: DryStep[] } }).plan.steps;
  } catch {
    return {
      violations: [`the dry run before the fault: exit ${dry.exitCode}: ${dry.stderr.slice(0, 300)}`],
      said: '',
    };
  }
  const step = stepWithStatements(steps, fault.at);
  if (!step) return { violations: [], said: ' (no step sends a statement: no fault)' };
  const env = { MMMF_TEST_FAULTS: `${fault.action}@statement-sent#${step.n}.1` };
  const r = await c.cli(failover, env);
  const where = `step ${step.n}/${steps.length} ${step.phase}`;
  // A step that found nothing to do (a catch-up whose replica already holds it) sends nothing to fault after: the
  // run must then have finished, with that step skipped in its journal.
  const status = stepStatus(readJournals(join(c.dir, 'state')), step.n);
  if (r.exitCode === 0 && !r.signal && status === 'skipped') {
    return { violations: [], said: ` (${where} had nothing to do: no fault)`, exitCode: 0 };
  }
  if (fault.action === 'kill') {
    if (r.signal !== 'SIGKILL') {
      return {
        violations: [`mmmf was to be killed inside ${where}, but exited ${r.exitCode}: ${r.stderr.slice(0, 300)}`],
        said: '',
      };
    }
    const j = killedInStep(readJournals(join(c.dir, 'state')), step.n).map((x) => `journal: ${x}`);
    return { violations: j, said: ` (killed inside ${where}, resumed)`, phase: step.phase };
  }
  if (r.exitCode !== 1 || !/injected failure/.test(r.stdout)) {
    return {
      violations: [
        `a failure inside ${where}: exit ${r.exitCode}, expected 1 with the injected failure: ${r.stdout.slice(-600)}`,
      ],
      said: '',
    };
  }
  const ran: string[] = [];
  let last = r;
  let target: string | undefined;
  let failedRunLast = true;
  for (let i = 0; i < 3; i++) {
    const next = nextCommand(last.stdout);
    if (!next) break;
    ran.push(next.slice(2).join(' ') || next.join(' '));
    const to = next.indexOf('--failover-to');
    if (to >= 0 && next[to + 1]) target = next[to + 1];
    if (to >= 0) failedRunLast = false;
    last = await c.cli(next);
    if (last.exitCode === 0) break;
  }
  // A run that names no next command (a step whose way out is a statement the summary gives, such as opening
  // writes by hand) is judged by what follows: the same command again, and the servers.
  if (!ran.length) {
    return { violations: [], said: ` (failed inside ${where}, nothing named)`, phase: step.phase, failedRunLast: true };
  }
  const v =
    last.exitCode === 0
      ? []
      : [
          `after a failure inside ${where}, the named next commands [${ran.join(' → ')}] ended exit ${last.exitCode}: ${(last.stderr || last.stdout).slice(-600)}`,
        ];
  return {
    violations: v,
    said: ` (failed inside ${where}, then ${ran.join(' → ') || 'nothing named'})`,
    phase: step.phase,
    exitCode: last.exitCode,
    ...(target ? { target } : {}),
    failedRunLast,
  };
}

/** What check, the cron line and a failover must say about an old master that came back: judged, not trusted. */
async function revivedRefusals(c: Cluster, cfg: string, all: string[], failoverTo?: string): Promise<string[]> {
  const v: string[] = [];
  const before = await controlSnapshot(c, all);
  const check = await c.cli(['--cfg', cfg, 'check', '--nagios']);
  if (check.exitCode !== 2 || !/CRITICAL/.test(check.stdout))
    v.push(`check --nagios: exit ${check.exitCode}, expected 2 CRITICAL: ${check.stdout.slice(0, 300)}`);
  const cron = await c.cli(['--cfg', cfg, '--failover-to', 'auto', '--if-dead']);
  if (cron.exitCode !== 3)
    v.push(
      `--failover-to auto --if-dead: exit ${cron.exitCode}, expected 3: ${(cron.stderr || cron.stdout).slice(0, 300)}`,
    );
  if (failoverTo) {
    const f = await c.cli(['--cfg', cfg, '--failover-to', failoverTo]);
    if (f.exitCode !== 3) v.push(`a failover to ${failoverTo} with a second writer: exit ${f.exitCode}, expected 3`);
  }
  const after = await controlSnapshot(c, all);
  if (after !== before) v.push(`the servers changed: ${before} → ${after}`);
  return v;
}

/**
 * Right after the crash, before any failover: the old master comes back read-only (the cluster has no writer),
 * is judged, and is killed again; the caller waits until every replica noticed.
 */
export async function readOnlyMasterBack(c: Cluster, cfg: string, names: string[]): Promise<string[]> {
  await c.sandbox('start', 'test1');
  await c.query('test1', 'SET GLOBAL read_only = ON');
  const v = await revivedRefusals(c, cfg, ['test1', ...names]);
  await c.sandbox('kill', 'test1');
  await until(
    async () => (await Promise.all(names.map((n) => slaveStatus(c, n)))).every((st) => st.Slave_IO_Running !== 'Yes'),
    30_000,
    'replicas to notice the second crash',
  );
  return v.map((x) => `old master back read-only: ${x}`);
}

/** After the failover: the old master comes back writable and an application writes to it — a second writer. */
export async function writableMasterBack(c: Cluster, cfg: string, names: string[], target: string): Promise<string[]> {
  await c.sandbox('start', 'test1');
  await c.query('test1', 'CREATE TABLE IF NOT EXISTS sbtest.revived (id INT PRIMARY KEY)');
  await c.query('test1', 'INSERT INTO sbtest.revived VALUES (1)');
  const other = names.find((n) => n !== target);
  const v = await revivedRefusals(c, cfg, ['test1', ...names], other);
  return v.map((x) => `old master back writable: ${x}`);
}

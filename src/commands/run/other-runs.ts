import { findOldMaster } from '../../algorithm/find-old-master.js';
import { writableMasters } from '../../algorithm/writers.js';
import { EXIT } from '../../errors.js';
import { readUnfinished, type UnfinishedRun } from '../../executor/journal.js';
import type { StoreSnapshot } from '../../state/cluster-store.js';
import { describeHolder } from '../../state/file-store.js';
import type { ProbedCluster } from '../../topology/probe.js';
import { refused } from './refusal.js';
import { printReport } from './report.js';
import type { Session } from './session.js';

/**
 * What other runs (other monitor hosts, a person) did to the cluster around an `--if-dead` run: one holds the
 * lock now (exit 3, naming it), one died half-way (resume it), or one finished the failover this run would do
 * (exit 0, nothing to do). Several monitors run the same timer; only one of them acts.
 */

/**
 * The master was proven dead (go on with the failover; `master` names it, absent when an unfinished run is
 * resumed instead), or the run is over with this exit code.
 */
export type IfDeadOutcome = { dead: true; evidence: string[]; master?: string } | { dead: false; exitCode: number };

/** Another run holds the lock (refused, naming it), or left an unfinished run to resume; else undefined. */
export function pendingRun(
  s: Session,
  snapshot: StoreSnapshot | undefined,
  unfinished: UnfinishedRun | undefined = s.view?.unfinished,
): IfDeadOutcome | undefined {
  const holder = snapshot?.holder;
  if (holder) {
    throw refused("--if-dead: another mmmf run holds this cluster's lock: nothing was changed", [
      `held by ${describeHolder(holder)} (${s.view?.store.where ?? 'the cluster store'})`,
      'the next run looks again once it is done',
    ]);
  }
  if (!unfinished) return undefined;
  const u = unfinished.start;
  return {
    dead: true,
    evidence: [
      `resuming the unfinished ${u.plan.kind} to ${u.target} that pid ${u.pid} on ${u.host} started at ${u.at} ` +
        '(its own --if-dead or a person decided then)',
    ],
  };
}

/**
 * The judgment was refused (the servers disagree): read the store again. Another run that took the lock since
 * is named (exit 3); one that died half-way is resumed; one that finished a failover or published another master
 * since this run first read the store means there is nothing left to do (exit 0). Undefined: no other run
 * explains it, the refusal stands.
 */
export async function actedMeanwhile(s: Session, json: boolean): Promise<IfDeadOutcome | undefined> {
  const before = s.view?.snapshot;
  if (!s.view || !before) return undefined;
  let now: StoreSnapshot;
  try {
    now = await s.view.store.read();
  } catch {
    return undefined; // the refusal says more than "etcd did not answer now"
  }
  const pending = pendingRun(s, now, now.run ? readUnfinished(now.run.lines) : undefined);
  if (pending) return pending;
  const failedOver = now.antiFlapRevision !== before.antiFlapRevision && now.antiFlap?.ok;
  const republished = now.master && now.master.epoch !== before.master?.epoch;
  if (!failedOver && !republished) return undefined;
  const what = failedOver
    ? `another mmmf run failed over to ${now.antiFlap?.target} (finished ${now.antiFlap?.finished})`
    : `another mmmf run published ${now.master?.name} as the master (at ${now.master?.at})`;
  return nothingToDo(s, json, `${what} while this one judged the master: nothing to do`);
}

/**
 * After the lock is taken: the master this run proved dead is no longer the cluster's master — another run
 * failed over between this run's judgment and its lock, and the servers now follow a single writable master.
 * Nothing to do (exit 0); undefined when that is not so (the planner decides, and refuses what is unsafe).
 */
export function failedOverMeanwhile(
  s: Session,
  probed: ProbedCluster,
  dead: string,
  json: boolean,
): number | undefined {
  const found = findOldMaster(probed.states);
  const now = found.ok ? found.value.name : undefined;
  const masters = writableMasters(probed.states);
  if (!now || now === dead || masters.length !== 1 || masters[0]?.name !== now) return undefined;
  const last = s.view?.snapshot.antiFlap;
  const by = last?.target === now ? ` (the last failover, finished ${last.finished})` : '';
  const outcome = nothingToDo(s, json, `${dead} was already failed over to ${now}${by}: nothing to do`);
  return outcome.dead ? undefined : outcome.exitCode;
}

function nothingToDo(s: Session, json: boolean, message: string): IfDeadOutcome {
  if (json) {
    printReport({ command: 'failover', dryRun: false, ok: true, exitCode: EXIT.ok, nothingToDo: message });
  } else s.write(`${s.c.green(message)}\n`);
  return { dead: false, exitCode: EXIT.ok };
}

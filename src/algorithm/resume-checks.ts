import type { HostState } from '../domain/server-state.js';
import type { Plan } from './plan-types.js';
import { writableMasters } from './writers.js';

/**
 * Before a resumed run changes anything, the cluster is probed again and must still be the one its journal
 * describes, as far as safety goes: a master that came back while the run was dead, or any other writer, would
 * end up as a second master; a target that no longer answers cannot be finished. Pure: the refusals (none: go on).
 *
 * `done` are the steps the dead run completed, `begun` those it started (completed or not).
 */
export function resumeRefusals(
  plan: Plan,
  done: ReadonlySet<number>,
  begun: ReadonlySet<number>,
  states: HostState[],
  cfg: string,
): string[] {
  const out: string[] = [];
  const stepDone = (kind: string) => plan.steps.some((s) => s.action.kind === kind && done.has(s.n));
  const promoted = stepDone('promote');
  // A run killed inside the promotion may have opened writes on the target already: it is the master there.
  const promoting = plan.steps.some((s) => s.action.kind === 'promote' && begun.has(s.n));
  const fenced = stepDone('fence-read-only');
  const old = plan.oldMaster.name ? states.find((s) => s.name === plan.oldMaster.name) : undefined;
  if (old?.reachable && !plan.oldMaster.reachable) {
    out.push(
      `the old master ${old.name} answers again (it was down when the run started, and came back while the run was ` +
        `dead)${old.readOnly === false ? ', writable' : ''}: finishing the failover could leave two masters. ` +
        (promoted
          ? `Make ${old.name} read-only (read_only on) and run the same command again; then bring it ` +
            `back with mmmf rejoin ${old.name} --cfg ${cfg}.`
          : `Undo the unfinished run with mmmf --cfg ${cfg} --abort (nothing was promoted), then decide: ` +
            `--switchover-to for a planned change, or fence ${old.name} and fail over again.`),
    );
  }
  const allowed = new Set<string>();
  if (promoted || promoting) allowed.add(plan.target);
  // Before it is fenced, a live old master (a switchover, --fence-live-master) is still the master.
  else if (plan.oldMaster.reachable && !fenced && plan.oldMaster.name) allowed.add(plan.oldMaster.name);
  for (const m of writableMasters(states)) {
    if (allowed.has(m.name) || (m.name === old?.name && out.length)) continue;
    out.push(
      `${m.name} is a second master (${m.why}): finishing the run would leave two writable masters. See what only ` +
        `it holds (mmmf rejoin ${m.name} --cfg ${cfg} --dry-run), make it read-only, then run again.`,
    );
  }
  const target = states.find((s) => s.name === plan.target);
  if (!target?.reachable) {
    out.push(
      `the target ${plan.target} does not answer (${target?.error ?? 'not probed'}): the run cannot be finished ` +
        `now. Bring it back and run again${promoted ? '' : `, or undo the run with mmmf --cfg ${cfg} --abort`}.`,
    );
  }
  return out;
}

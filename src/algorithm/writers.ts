import { matchSource } from '../topology/identity.js';
import { findOldMaster } from './find-old-master.js';
import type { HostState } from '../domain/server-state.js';

/**
 * The masters among the servers mmmf reaches: writable (read_only off) and replicating from nobody, or the
 * active side of a master-master pair (writable, replicating from a server that replicates from it). A cluster
 * has exactly one; two means two servers may take writes (a revived old master, a split), none means no writer.
 * A writable server that replicates from another is not a master but a writable replica: many clusters run
 * that way (a warning, not a second master).
 *
 * @example writableMasters(states) → [{ name: 'test1', why: 'writable, replicates from nobody' }]
 */
export function writableMasters(states: HostState[]): { name: string; why: string }[] {
  const reachable = states.filter((s) => s.reachable);
  const out: { name: string; why: string }[] = [];
  for (const s of reachable) {
    if (s.readOnly !== false) continue;
    if (!s.replica) {
      out.push({ name: s.name, why: 'writable, replicates from nobody' });
      continue;
    }
    const source = matchSource(s.replica, states).name;
    const partner = reachable.find((x) => x.name === source);
    if (partner?.replica && matchSource(partner.replica, states).name === s.name) {
      out.push({ name: s.name, why: `writable, the active side of a master-master pair with ${partner.name}` });
    }
  }
  return out;
}

/** The one writable master, when there is exactly one (none, or two: undefined). */
export function soleWritableMaster(states: HostState[]): string | undefined {
  const masters = writableMasters(states);
  return masters.length === 1 ? masters[0]?.name : undefined;
}

/** Writable servers that replicate from another (not masters, but their writes diverge from the master's). */
export function writableReplicas(states: HostState[]): string[] {
  const masters = new Set(writableMasters(states).map((m) => m.name));
  return states
    .filter((s) => s.reachable && s.readOnly === false && s.replica && !masters.has(s.name))
    .map((s) => s.name);
}

/** Example: `{ message: '2 writable masters: test1 (...), test4 (...)', fix: '...' }` */
export interface WriterProblem {
  message: string;
  fix: string;
}

/**
 * What is wrong with the cluster's writers: two masters (split brain risk) or none (no writes possible). Used by
 * `status` (red), `check` (an error: --nagios CRITICAL), `--if-dead` (refused) and the planner. `cfg` is the
 * config's path, for the commands the fix names.
 */
export function writerProblems(states: HostState[], cfg: string): WriterProblem[] {
  if (!states.some((s) => s.reachable)) return [];
  const masters = writableMasters(states);
  if (masters.length > 1) {
    return [
      {
        message:
          `${masters.length} writable masters: ${masters.map((m) => `${m.name} (${m.why})`).join(', ')}: two ` +
          'servers may be taking writes (split brain risk)',
        fix:
          `see what only the wrong one holds (mmmf rejoin NAME --cfg ${cfg} --dry-run), make it read-only ` +
          '(read_only on, and in its my.cnf) and rejoin it',
      },
    ];
  }
  if (masters.length === 1) return [];
  const found = findOldMaster(states);
  const root = found.ok ? found.value : undefined;
  const serves = root ? `${root.direct.length} replica${root.direct.length === 1 ? '' : 's'}` : '';
  if (root?.state?.reachable) {
    return [
      {
        message: `no writable master: ${root.name ?? root.address} serves ${serves} but is read-only: the cluster takes no writes`,
        fix:
          'if it is the master, open it for writes (turn read_only off); a master restarted with read_only ' +
          'on in its my.cnf stays closed until someone does',
      },
    ];
  }
  if (root) {
    return [
      {
        message: `no writable master: the replicas' master ${root.name ?? root.address} does not answer`,
        fix: `fail over: mmmf --cfg ${cfg} --failover-to auto`,
      },
    ];
  }
  return [{ message: 'no writable master among the servers that answer', fix: 'run mmmf status to see the topology' }];
}

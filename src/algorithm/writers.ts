import { matchSource } from '../topology/identity.js';
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

/** Writable servers that replicate from another (not masters, but their writes diverge from the master's). */
export function writableReplicas(states: HostState[]): string[] {
  const masters = new Set(writableMasters(states).map((m) => m.name));
  return states
    .filter((s) => s.reachable && s.readOnly === false && s.replica && !masters.has(s.name))
    .map((s) => s.name);
}

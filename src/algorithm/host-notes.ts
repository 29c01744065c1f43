import { formatCoordinates } from '../binlog/coordinates.js';
import { gtidAhead } from '../binlog/gtid.js';
import type { PositioningMode } from '../domain/positioning.js';
import type { HostState, ReplicaHost } from '../domain/server-state.js';
import { type OldMaster, stoppedAtUntil } from './find-old-master.js';
import type { HostPlan } from './plan-types.js';
import { compareReceived, flavorOf, receivedGtid } from './replica-facts.js';

// The plan's "Hosts" table: each configured host's role in this run and a note on it.

/** Each host's role (old master, target, replica, left out, outside, unreachable) and why. */
export function describeHosts(
  states: HostState[],
  target: string,
  old: OldMaster | undefined,
  excluded: Map<string, string>,
): HostPlan[] {
  return states.map((s): HostPlan => {
    const base = { name: s.name, address: s.address };
    if (old && s.name === old.name) {
      return { ...base, role: 'old-master', note: s.reachable ? 'alive: will be fenced' : `unreachable (${s.error})` };
    }
    if (!s.reachable) return { ...base, role: 'unreachable', note: `left alone: ${s.error}` };
    const why = excluded.get(s.name);
    if (why) return { ...base, role: 'excluded', note: why };
    const orphan = old?.orphans.find((x) => x.replica.name === s.name);
    if (orphan)
      return {
        ...base,
        role: 'replica',
        note: `its intermediate master ${orphan.via} does not answer: will replicate from the new master`,
      };
    const sub = old?.sub.find((x) => x.replica.name === s.name);
    if (sub && sub.via === target && stoppedAtUntil(sub.replica))
      return {
        ...base,
        role: 'outside',
        note: `stopped under ${target} by an earlier run's catch-up: started after the promotion`,
      };
    if (sub) return { ...base, role: 'outside', note: `replicates from ${sub.via}: stays under it` };
    if (!old?.direct.some((r) => r.name === s.name)) {
      return { ...base, role: 'outside', note: 'does not replicate from the old master: left alone' };
    }
    if (s.name === target) return { ...base, role: 'target', note: 'will be promoted' };
    return { ...base, role: 'replica', note: 'will replicate from the new master' };
  });
}

/** Adds what each taking-part replica received, and how far behind the best one it is. */
export function annotate(
  hosts: HostPlan[],
  candidates: ReplicaHost[],
  delayed: ReplicaHost[],
  best: ReplicaHost | undefined,
  mode: PositioningMode,
): HostPlan[] {
  return hosts.map((h) => {
    const d = delayed.find((r) => r.name === h.name);
    if (d) {
      return {
        ...h,
        role: 'delayed',
        note: `delayed by ${d.replica.sqlDelay} s (MASTER_DELAY): not waited for; ${
          mode === 'gtid' ? 'follows the new master afterwards, delay kept' : 'left stopped, relay log kept'
        }`,
      };
    }
    const s = candidates.find((r) => r.name === h.name);
    if (!s || !best) return h;
    const rs = s.replica;
    if (mode === 'file') {
      const at = `received ${formatCoordinates(rs.received)}, executed ${formatCoordinates(rs.executed)}`;
      const rank = compareReceived(s, best, mode);
      const where = s === best ? ', the most' : rank < 0 ? `, behind ${best.name}` : `, as much as ${best.name}`;
      return { ...h, note: `${h.note}; ${at}${where}` };
    }
    const behind = gtidAhead(flavorOf(best), receivedGtid(best), receivedGtid(s));
    const at = `received ${rs.gtidReceived || s.gtidApplied || '-'} (${formatCoordinates(rs.received)})`;
    const where = s === best ? 'the most' : behind ? `${behind} behind ${best.name}` : `as much as ${best.name}`;
    return { ...h, note: `${h.note}; ${at}, ${where}` };
  });
}

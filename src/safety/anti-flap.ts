import { UnsafeError } from '../errors.js';
import type { LastFailover } from '../state/cluster-store.js';
import type { ResolvedConfig } from '../topology/config-types.js';

export type { LastFailover } from '../state/cluster-store.js';

/**
 * Anti-flap: a cluster that failed over minutes ago and "needs" it again usually has a problem a second
 * failover will not fix (a flapping network, a monitor in a loop). Refuse unless the operator says --force.
 * `last` is the cluster store's record of the last failover (files, or etcd: shared by every monitor host).
 */
export function checkAntiFlap(config: ResolvedConfig, last: LastFailover | undefined, now: Date, force: boolean): void {
  if (force || config.antiFlapMinutes <= 0 || !last) return;
  const ago = (now.getTime() - Date.parse(last.finished)) / 60_000;
  if (ago >= 0 && ago < config.antiFlapMinutes) {
    throw new UnsafeError(
      `the last failover of this cluster (to ${last.target}, ${last.ok ? 'completed' : 'did not complete'}) finished ${ago.toFixed(1)} minutes ago`,
      [
        `anti-flap: failovers closer than antiFlapMinutes = ${config.antiFlapMinutes} are refused; find out why it is needed again`,
        'to fail over anyway, add --force (or lower antiFlapMinutes in the config)',
      ],
    );
  }
}

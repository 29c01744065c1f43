import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { UnsafeError } from '../errors.js';
import type { ResolvedConfig } from '../topology/config-types.js';
import { clusterId } from './run-lock.js';
import { ensurePrivateDir, PRIVATE_FILE } from '../state/state-files.js';

/** What the last failover on a cluster did, kept in the state folder. */
export interface LastFailover {
  finished: string;
  target: string;
  ok: boolean;
}

const fileFor = (config: ResolvedConfig) => join(config.stateDir, `${clusterId(config)}.last-failover.json`);

export function readLastFailover(config: ResolvedConfig): LastFailover | undefined {
  try {
    return JSON.parse(readFileSync(fileFor(config), 'utf8')) as LastFailover;
  } catch {
    return undefined;
  }
}

export function recordFailover(config: ResolvedConfig, last: LastFailover): void {
  ensurePrivateDir(config.stateDir);
  writeFileSync(fileFor(config), JSON.stringify(last) + '\n', { mode: PRIVATE_FILE });
}

/**
 * Anti-flap: a cluster that failed over minutes ago and "needs" it again usually has a problem a second
 * failover will not fix (a flapping network, a monitor in a loop). Refuse unless the operator says --force.
 */
export function checkAntiFlap(config: ResolvedConfig, now: Date, force: boolean): void {
  if (force || config.antiFlapMinutes <= 0) return;
  const last = readLastFailover(config);
  if (!last) return;
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

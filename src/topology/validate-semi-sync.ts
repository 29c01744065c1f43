import { CONFIG_DEFAULTS } from './config-defaults.js';
import type { ResolvedSemiSync } from './config-types.js';

/** What `semiSync` means when the config leaves a key out. */
export const SEMI_SYNC_DEFAULTS: ResolvedSemiSync = {
  enabled: 'auto',
  waitForAck: CONFIG_DEFAULTS['semiSync.waitForAck'],
  installPlugins: CONFIG_DEFAULTS['semiSync.installPlugins'],
};

const KEYS = ['enabled', 'timeoutMs', 'waitPoint', 'waitForAck', 'installPlugins'];
const WAIT_POINTS = ['AFTER_SYNC', 'AFTER_COMMIT'];
/** The servers' own upper bound for the timeout (an unsigned 32-bit number of milliseconds). */
const MAX_TIMEOUT_MS = 4294967295;

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Every problem of `semiSync` (true, false, or { enabled, timeoutMs, waitPoint, waitForAck, installPlugins }). */
export function checkSemiSync(v: unknown, p: (m: string) => void): void {
  if (v === undefined || typeof v === 'boolean') return;
  if (!isObj(v)) {
    return p(`semiSync: must be true, false or { ${KEYS.join(', ')} }, got ${JSON.stringify(v)}`);
  }
  for (const k of Object.keys(v)) if (!KEYS.includes(k)) p(`semiSync.${k}: unknown key (allowed: ${KEYS.join(', ')})`);
  for (const k of ['enabled', 'waitForAck', 'installPlugins']) {
    if (v[k] !== undefined && typeof v[k] !== 'boolean')
      p(`semiSync.${k}: must be true or false, got ${JSON.stringify(v[k])}`);
  }
  const t = v.timeoutMs;
  if (t !== undefined && !(typeof t === 'number' && Number.isInteger(t) && t > 0 && t <= MAX_TIMEOUT_MS)) {
    p(
      `semiSync.timeoutMs: must be a whole number of milliseconds from 1 to ${MAX_TIMEOUT_MS}, got ${JSON.stringify(t)}`,
    );
  }
  if (v.waitPoint !== undefined && !WAIT_POINTS.includes(v.waitPoint as string)) {
    p(`semiSync.waitPoint: must be 'AFTER_SYNC' or 'AFTER_COMMIT', got ${JSON.stringify(v.waitPoint)}`);
  }
}

/** A checked `semiSync` with the defaults applied. */
export function resolveSemiSync(v: unknown): ResolvedSemiSync {
  if (typeof v === 'boolean') return { ...SEMI_SYNC_DEFAULTS, enabled: v };
  if (!isObj(v)) return { ...SEMI_SYNC_DEFAULTS };
  return {
    enabled: typeof v.enabled === 'boolean' ? v.enabled : SEMI_SYNC_DEFAULTS.enabled,
    ...(typeof v.timeoutMs === 'number' ? { timeoutMs: v.timeoutMs } : {}),
    ...(typeof v.waitPoint === 'string' ? { waitPoint: v.waitPoint as 'AFTER_SYNC' | 'AFTER_COMMIT' } : {}),
    waitForAck: typeof v.waitForAck === 'boolean' ? v.waitForAck : SEMI_SYNC_DEFAULTS.waitForAck,
    installPlugins: typeof v.installPlugins === 'boolean' ? v.installPlugins : SEMI_SYNC_DEFAULTS.installPlugins,
  };
}

import type { Outcome } from '../../domain/outcome.js';
import { UnsafeError } from '../../errors.js';

/**
 * The one place a refusal becomes an error: an UnsafeError, which bin/mmmf.ts reports with every reason and
 * exit code 3 (refused before any change). Planners return refusals as data (Outcome); commands call this.
 */
export function refused(headline: string, refusals: string[]): UnsafeError {
  return new UnsafeError(headline, refusals);
}

/** The outcome's value, or its refusal thrown (the planner's own headline when it has one, else `headline`). */
export function valueOrRefuse<T>(o: Outcome<T>, headline: string, more: string[] = []): T {
  if (o.ok) return o.value;
  throw refused(o.headline ?? headline, [...o.refusals, ...more]);
}

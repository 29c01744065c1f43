/**
 * What every planner and decision returns: the value, or every reason it must not be made. A refusal stays data
 * until the command layer turns it into one refusal for the operator (exit 3), with every reason at once.
 *
 * @example { ok: false, refusals: ['target db3 (10.0.0.3:3306) is unreachable: ECONNREFUSED. ...'] }
 */
export type Outcome<T> = { ok: true; value: T } | Refused;

export interface Refused {
  ok: false;
  refusals: string[];
  /** What was refused, when the planner can say it better than the command's own headline. */
  headline?: string;
}

export const accept = <T>(value: T): Outcome<T> => ({ ok: true, value });

export function refuse(refusals: string[], headline?: string): Refused {
  return { ok: false, refusals, ...(headline ? { headline } : {}) };
}

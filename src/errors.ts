/**
 * The three ways a run can end badly, each mapped to one exit code in {@link exitCodeFor}.
 * Messages are written for an operator under stress: what is wrong, then what to do next.
 */
export class MmmfError extends Error {
  constructor(message: string, readonly problems: string[] = []) {
    super(message);
    this.name = new.target.name;
  }
}

/** Bad command line or config: nothing was contacted. Exit 2. Example: `new ConfigError('config is invalid', ['hosts.test9: ...'])` */
export class ConfigError extends MmmfError {}

/** Refused as unsafe before the first change. Exit 3. */
export class UnsafeError extends MmmfError {}

/** Something failed while changing servers; the summary says what state each host was left in. Exit 1. */
export class ExecutionError extends MmmfError {}

export const EXIT = { ok: 0, failed: 1, usage: 2, refused: 3 } as const;

export function exitCodeFor(err: unknown): number {
  if (err instanceof ConfigError) return EXIT.usage;
  if (err instanceof UnsafeError) return EXIT.refused;
  return EXIT.failed;
}

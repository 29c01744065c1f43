/**
 * The three ways a run can end badly, each mapped to one exit code in {@link exitCodeFor}.
 * Messages are written for an operator under stress: what is wrong, then what to do next.
 */
export class MmmfError extends Error {
  constructor(
    message: string,
    readonly problems: string[] = [],
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/**
 * Bad command line or config: nothing was contacted. Exit 2.
 * Example: `new ConfigError('config is invalid', ['hosts.test9: ...'])`
 */
export class ConfigError extends MmmfError {}

/** Refused as unsafe before the first change. Exit 3. */
export class UnsafeError extends MmmfError {}

/** The coordination store (etcd) does not answer or has no quorum: nothing was changed. Exit 4. */
export class CoordinationError extends MmmfError {}

/** Something failed while changing servers; the summary says what state each host was left in. Exit 1. */
export class ExecutionError extends MmmfError {}

/** The first line of an error's message: what a step result or a summary line shows. */
export function errorText(err: unknown): string {
  const e = err as { message?: string };
  return (e?.message ?? String(err)).split('\n')[0] ?? String(err);
}

export const EXIT = { ok: 0, failed: 1, usage: 2, refused: 3, coordination: 4 } as const;

export function exitCodeFor(err: unknown): number {
  if (err instanceof ConfigError) return EXIT.usage;
  if (err instanceof UnsafeError) return EXIT.refused;
  if (err instanceof CoordinationError) return EXIT.coordination;
  return EXIT.failed;
}

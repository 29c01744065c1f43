import { quote, REDACTED } from '../dialect/dialect.js';
import type { StepRef } from '../algorithm/plan-types.js';

const VALID = { gtid: /^[\w:,-]*$/, file: /^[\w.-]+$/, pos: /^\d+$/ };

/**
 * The printed statement made executable: the redacted replication password and the run-time values named
 * `<gtid from step N>`, `'<file from step N>'`, `<pos from step N>` are filled in. Everything else is sent
 * exactly as printed. A value that does not look like what it claims to be is refused, never sent.
 */
export function materialize(sql: string, password: string, output: (ref: StepRef) => string): string {
  return sql
    .replaceAll(quote(REDACTED), quote(password))
    .replace(
      /'<(file) from step (\d+)>'|<(gtid|pos) from step (\d+)>/g,
      (_, fk: 'file' | undefined, fn: string, k: 'gtid' | 'pos', n: string) => {
        const key = fk ?? k;
        const step = Number(fk ? fn : n);
        const v = output({ step, key });
        if (!VALID[key].test(v)) throw new Error(`unexpected ${key} value from step ${step}: ${v}`);
        return key === 'file' ? quote(v) : v;
      },
    );
}

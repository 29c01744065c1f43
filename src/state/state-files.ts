import { UnsafeError } from '../errors.js';
import { chmodSync, mkdirSync, statSync } from 'node:fs';

/**
 * mmmf's state (locks, journals, the last failover, offline hosts, the compiled config cache) is private to
 * the user running it, usually root: folders 0700, files 0600. A folder that exists already is tightened when
 * it is ours; a folder someone else owns, or anyone may write to, is not trusted (see trustedDir).
 */
export const PRIVATE_FILE = 0o600;

export function ensurePrivateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const st = statSync(dir);
  const uid = process.getuid?.();
  if ((uid === undefined || st.uid === uid) && (st.mode & 0o077) !== 0) chmodSync(dir, 0o700);
}

/** The folder exists (or was made) private to this user: no other user can plant files in it. */
export function trustedDir(dir: string): boolean {
  try {
    ensurePrivateDir(dir);
    const st = statSync(dir);
    const uid = process.getuid?.();
    return (uid === undefined || st.uid === uid) && (st.mode & 0o022) === 0;
  } catch {
    return false;
  }
}

/**
 * Refuses a state folder another user owns or may write to: a journal is executed on resume (its plan's
 * statements are sent to the servers), so whoever can write it could make mmmf run their SQL.
 */
export function requireTrustedDir(dir: string): void {
  if (trustedDir(dir)) return;
  throw new UnsafeError(`the state folder ${dir} is not private to this user: refusing to read or write it`, [
    'mmmf keeps locks and journals there, and a journal is executed when a run is resumed',
    `fix: chown ${process.getuid?.() ?? 'USER'} ${dir} && chmod 700 ${dir} (or set stateDir to a private folder)`,
  ]);
}

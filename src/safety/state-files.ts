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

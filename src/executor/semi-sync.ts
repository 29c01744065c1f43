import type { SemiSyncChange } from '../algorithm/plan-types.js';
import type { SqlConnection } from '../topology/connection.js';
import { READ_MS, sendAll, WRITE_MS } from './server-reads.js';

/**
 * Sends a semi-sync change: its plugin installed first when it is not active yet (INSTALL PLUGIN fails for one
 * already installed, so a resumed run checks again), then its settings.
 */
export async function applySemiSync(conn: SqlConnection, c: SemiSyncChange): Promise<void> {
  if (c.install && !(await conn.query(c.install.check, READ_MS)).length) await conn.query(c.install.install, WRITE_MS);
  await sendAll(conn, c.set);
}

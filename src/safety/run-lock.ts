import { runLockSql } from '../dialect/dialect.js';
import { UnsafeError } from '../errors.js';
import type { SqlConnection } from '../topology/connection.js';

/**
 * The server-side guard: an advisory lock taken on every reachable server, on the connections the run uses, so
 * it vanishes when the run dies. One name for every cluster: two runs that share a server exclude each other,
 * whatever their configs call the cluster (a server belongs to one cluster at a time). The cluster store's lock
 * (files or etcd) is the first guard; this one holds even between monitors that do not share a store.
 */
export const SERVER_LOCK_NAME = 'mmmf:run';

/**
 * Takes the advisory lock on every reachable server. Refuses (naming the holder) when any server says another
 * connection holds it.
 */
export async function acquireServerLocks(conns: Map<string, SqlConnection>, waitSeconds = 0): Promise<void> {
  const name = SERVER_LOCK_NAME;
  const held: string[] = [];
  await Promise.all(
    [...conns].map(async ([host, conn]) => {
      const [row] = await conn.query(runLockSql.acquire(name, waitSeconds), 10_000 + waitSeconds * 1000);
      if (Number(row?.r) === 1) return;
      const [h] = await conn.query(runLockSql.holder(name), 10_000);
      const id = Number(h?.holder);
      const [info] = id ? await conn.query(runLockSql.connectionInfo(id), 10_000) : [];
      held.push(
        `${host}: held by connection ${id || '?'}${info ? ` (${info.user}@${info.host}, for ${info.seconds} s)` : ''}`,
      );
    }),
  );
  if (held.length) {
    throw new UnsafeError('another mmmf run is working on this cluster: refusing, nothing was changed', [
      ...held,
      'wait for it to finish (its lock is released when its connections close)',
    ]);
  }
}

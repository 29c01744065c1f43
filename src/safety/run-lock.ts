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
 * Takes the advisory lock on every reachable server, one after the other in `order` (the servers sorted by their
 * own identity, the same for every config of the cluster): of two runs starting at once, the one that loses the
 * first server stops there, instead of each winning some servers and both refusing. Refuses (naming the holder)
 * when a server says another connection holds it; the locks taken so far go with this run's connections.
 */
export async function acquireServerLocks(
  conns: Map<string, SqlConnection>,
  waitSeconds = 0,
  order: string[] = [...conns.keys()],
): Promise<void> {
  const name = SERVER_LOCK_NAME;
  for (const host of [...order, ...[...conns.keys()].filter((h) => !order.includes(h))]) {
    const conn = conns.get(host);
    if (!conn) continue;
    const [row] = await conn.query(runLockSql.acquire(name, waitSeconds), 10_000 + waitSeconds * 1000);
    if (Number(row?.r) === 1) continue;
    const [h] = await conn.query(runLockSql.holder(name), 10_000);
    const id = Number(h?.holder);
    const [info] = id ? await conn.query(runLockSql.connectionInfo(id), 10_000) : [];
    throw new UnsafeError('another mmmf run is working on this cluster: refusing, nothing was changed', [
      `${host}: held by connection ${id || '?'}${info ? ` (${info.user}@${info.host}, for ${info.seconds} s)` : ''}`,
      'wait for it to finish (its lock is released when its connections close)',
    ]);
  }
}

import { formatCoordinates } from '../../binlog/coordinates.js';
import { gtidRelation } from '../../binlog/gtid.js';
import { binlogEnd, gtidOf, READ_MS, replicaStatus, replicatesFrom, sendAll, WRITE_MS } from '../server-reads.js';
import { applySemiSync } from '../semi-sync.js';
import type { Handler } from '../types.js';
import { type Look, poll, stopIfBroken, waitForGtid, waitForPosition } from '../waits.js';

export const repoint: Handler<'repoint'> = async (step, ctx) => {
  const a = step.action;
  const conn = ctx.conn(step.host);
  if (a.at && !a.remap) {
    // By file, a second CHANGE would go back to the recorded position and apply transactions twice: a replica
    // already pointed at the new master (a resumed run) is only started.
    const s = await replicaStatus(conn, ctx.dialect(step.host));
    const src = ctx.config.hosts.find((h) => h.name === a.source);
    if (src && replicatesFrom(s, src)) {
      // The semi-sync replica side takes effect only when the IO thread connects: one already running (the passive
      // of a pair, which replicated from the new master all along) is stopped first — without a CHANGE, START goes
      // on where it stopped. Without it the side read OFF and no commit was acknowledged (found by chaos).
      await sendAll(conn, [...a.setReadOnly, ...(a.semiSync ? [a.stop] : [])]);
      if (a.semiSync) await applySemiSync(conn, a.semiSync);
      await sendAll(conn, [a.start]);
      return { detail: `was already pointed at ${a.source} (at ${formatCoordinates(s.executed)}): only started it` };
    }
  }
  await sendAll(conn, [a.stop, ctx.materialize(a.change), ...a.setReadOnly]);
  // Semi-sync: the replica side takes effect when the IO thread starts, so it goes on before START.
  if (a.semiSync) await applySemiSync(conn, a.semiSync);
  await sendAll(conn, [a.start]);
  const at = a.at ? ` from ${formatCoordinates(ctx.outputCoordinates(a.at.step))}` : '';
  return { detail: `replicating from ${a.source}${at}${a.semiSync ? ', semi-sync replica side on' : ''}` };
};

/**
 * --abort: a replica the failover only stopped replicates from the old master again; a failover: a replica an earlier
 * run left stopped under the target starts again under it.
 */
export const restartReplication: Handler<'restart-replication'> = async (step, ctx) => {
  const conn = ctx.conn(step.host);
  if (step.action.semiSync) await applySemiSync(conn, step.action.semiSync);
  await conn.query(step.action.start, WRITE_MS);
  return { detail: `replicating again${step.action.semiSync ? ', semi-sync replica side on' : ''}` };
};

/** Both threads run, then the replica has caught up with its new source (a delayed one is not waited for). */
export const verifyReplica: Handler<'verify-replica'> = async (step, ctx) => {
  const a = step.action;
  const conn = ctx.conn(step.host);
  const d = ctx.dialect(step.host);
  const seconds = ctx.config.timeouts.verify;
  // A replica that cannot connect to its new source gets the same grace as in every other wait.
  const check = stopIfBroken(`replication from ${a.source} to run`);
  await poll('IO and SQL threads running', seconds, async (): Promise<Look<true>> => {
    const s = await replicaStatus(conn, d);
    if (s && s.ioRunning === 'Yes' && s.sqlRunning) return { done: true };
    check(s);
    return { waiting: `IO ${s?.ioRunning ?? '-'}, SQL ${s?.sqlRunning ? 'Yes' : 'No'}` };
  });
  const acks = a.semiSyncStatus ? await acknowledges(ctx, step.host, a.semiSyncStatus, seconds) : '';
  if (a.delayed) return { detail: `IO and SQL threads running; it applies behind on purpose (delayed)${acks}` };
  if (a.byFile) {
    const end = await ctx.shared(`binlog end of ${a.source}`, () =>
      binlogEnd(ctx.conn(a.source), ctx.dialect(a.source)),
    );
    if (!end) throw new Error(`${a.source} has no binary log position`);
    await waitForPosition(conn, d, { at: end, seconds });
    return { detail: `IO and SQL threads running, caught up with ${a.source} at ${formatCoordinates(end)}${acks}` };
  }
  const srcGtid = await ctx.shared(`binlog GTID of ${a.source}`, () =>
    gtidOf(ctx.conn(a.source), ctx.dialect(a.source).binlogGtidSql()),
  );
  if (a.formerMaster) {
    // A former master already has the old transactions, so its gtid_slave_pos never moves past them: it is
    // caught up when its gtid_current_pos holds the new master's binlog position.
    await poll(`${a.source}'s ${srcGtid}`, seconds, async (): Promise<Look<true>> => {
      const rel = gtidRelation(d.version.flavor, await gtidOf(conn, d.currentGtidSql()), srcGtid);
      return rel === 'equal' || rel === 'ahead' ? { done: true } : { waiting: 'running but not caught up' };
    });
  } else {
    await waitForGtid(conn, d, { gtid: srcGtid, waitSql: d.waitForGtidSql(srcGtid, 1), seconds });
  }
  return { detail: `IO and SQL threads running, caught up with ${a.source} at ${srcGtid || '(empty)'}${acks}` };
};

/** Semi-sync: the replica's side reads ON (its IO thread acknowledges the source's commits). */
async function acknowledges(ctx: Parameters<Handler<'verify-replica'>>[1], host: string, sql: string, seconds: number) {
  const ss = ctx.dialect(host).semiSync;
  await poll('semi-sync replica side ON', seconds, async (): Promise<Look<true>> => {
    const v = ss.statusValue(await ctx.conn(host).query(sql, READ_MS)).toUpperCase();
    return v === 'ON' || v === '1' ? { done: true } : { waiting: `status ${v || 'absent'}` };
  });
  return '; semi-sync acknowledging';
}

import { extraTransactions } from '../../binlog/gtid.js';
import { gtidOf } from '../server-reads.js';
import type { Handler } from '../types.js';

/**
 * Rejoin: read again, now that the host is read-only, whether its binlog holds anything the master lacks.
 * The planner's check ran on a probe taken while it may still have been writable.
 */
export const confirmContained: Handler<'confirm-contained'> = async (step, ctx) => {
  const a = step.action;
  const own = await gtidOf(ctx.conn(step.host), a.ownSql);
  const master = await gtidOf(ctx.conn(a.master), a.masterSql);
  const extra = extraTransactions(ctx.dialect(step.host).version.flavor, own, master);
  if (extra.length) {
    throw new Error(
      `${step.host} holds ${extra.join(', ')}, which ${a.master} lacks (written since the check?): ` +
        'it was left read-only and not repointed; run rejoin again to see them listed',
    );
  }
  return { detail: `${a.master} holds everything ${step.host} has (${own || 'no GTIDs'})` };
};

import { compareCoordinates, formatCoordinates } from '../../binlog/coordinates.js';
import { gtidMissing, gtidRelation, gtidUnion } from '../../binlog/gtid.js';
import { binlogEnd, gtidOf, replicaStatus } from '../server-reads.js';
import type { ActionContext, ActionOutcome, Handler } from '../types.js';
import type { StepRef } from '../../algorithm/plan-types.js';

const RE_RUN = 'Nothing was repointed; replication is stopped. Re-run mmmf: it re-probes and chooses again.';

/**
 * On the drained state, the best replica must hold every transaction any compared replica has (only replicas
 * whose stop step succeeded are compared: the others were left as they were). By GTID it records its
 * position; by file, its own binlog end.
 */
export const confirmBest: Handler<'confirm-best'> = async (step, ctx) => {
  const others = step.action.candidates
    .filter((c) => c.host !== step.host && ctx.succeeded(c.stoppedBy))
    .map((c) => c.host);
  return step.action.byFile ? byFile(step.host, others, step.action, ctx) : byGtid(step.host, others, step.action, ctx);
};

async function byGtid(
  host: string,
  others: string[],
  a: { masterEnd?: StepRef },
  ctx: ActionContext,
): Promise<ActionOutcome> {
  const d = ctx.dialect(host);
  const f = d.version.flavor;
  // gtid_current_pos, not gtid_slave_pos: a former master holds its own writes only in its binlog.
  const best = gtidUnion(f, '', await gtidOf(ctx.conn(host), d.currentGtidSql()));
  const problems: string[] = [];
  for (const name of others) {
    const other = await gtidOf(ctx.conn(name), ctx.dialect(name).currentGtidSql());
    const rel = gtidRelation(f, best, other);
    if (rel === 'behind' || rel === 'diverged') {
      problems.push(`${name} has ${gtidMissing(f, other, best).join(', ')} which ${host} lacks`);
    }
  }
  if (a.masterEnd) {
    const end = ctx.output(a.masterEnd);
    const rel = gtidRelation(f, best, end);
    if (rel === 'behind' || rel === 'diverged') {
      problems.push(`the old master has ${gtidMissing(f, end, best).join(', ')} which ${host} never received`);
    }
  }
  if (problems.length) throw new Error(`${problems.join('; ')}. ${RE_RUN}`);
  return { detail: `holds everything (${best})`, output: { gtid: best } };
}

/** By file, the best replica is the one that executed furthest in the old master's binlog. */
async function byFile(
  host: string,
  others: string[],
  a: { masterEnd?: { step: number } },
  ctx: ActionContext,
): Promise<ActionOutcome> {
  const conn = ctx.conn(host);
  const d = ctx.dialect(host);
  const mine = (await replicaStatus(conn, d))?.executed;
  if (!mine?.file) throw new Error(`${host} reports no executed old-master coordinates`);
  const problems: string[] = [];
  for (const name of others) {
    const other = (await replicaStatus(ctx.conn(name), ctx.dialect(name)))?.executed;
    if (other?.file && compareCoordinates(other, mine) > 0) {
      problems.push(`${name} executed up to ${formatCoordinates(other)}, beyond ${host}'s ${formatCoordinates(mine)}`);
    }
  }
  const masterEnd = a.masterEnd ? ctx.outputCoordinates(a.masterEnd.step) : undefined;
  if (masterEnd && compareCoordinates(mine, masterEnd) < 0) {
    problems.push(
      `the old master wrote up to ${formatCoordinates(masterEnd)}, but ${host} executed only up to ` +
        formatCoordinates(mine),
    );
  }
  if (problems.length) throw new Error(`${problems.join('; ')}. ${RE_RUN}`);
  const end = await binlogEnd(conn, d);
  if (!end) throw new Error(`${host} has no binary log (log_bin OFF?)`);
  return {
    detail:
      `executed the most (old master ${formatCoordinates(mine)}); its own binlog ends at ` + formatCoordinates(end),
    output: { coordinates: end },
  };
}

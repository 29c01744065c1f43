import { formatCoordinates } from '../../binlog/coordinates.js';
import { mapByOwnLastTransaction } from '../../binlog/position-mapping.js';
import type { Handler } from '../types.js';

/** Without GTIDs, how many of the host's last transactions must occur together, once, in the source's binlog. */
const RUN = 3;

/**
 * Rejoin by file: the host's own last transaction, found in its new source's binlog (by GTID, or by a unique
 * run of signatures); it continues right after it. Never a guess: missing or ambiguous is a failed step.
 */
export const mapRejoin: Handler<'map-rejoin'> = async (step, ctx) => {
  const source = step.action.source;
  const tail = (await ctx.logs(step.host).binlogTail(RUN)).transactions;
  const last = tail.at(-1);
  const byGtid = !!last?.gtid && last.gtid !== 'anonymous';
  const found = await ctx.logs(source).findInBinlog(byGtid && last ? [last] : tail);
  const m = mapByOwnLastTransaction({
    replica: step.host,
    best: source,
    executed: last?.end ?? { file: '', position: 0 },
    ...(last ? { lastExecuted: last } : {}),
    found,
    relayWhy: `${step.host} continues from its own binlog's last transaction`,
  });
  if (!m.ok) throw new Error(`${m.refusals.join('; ')}. ${step.host} is left read-only, not repointed`);
  const { coordinates, evidence } = m.value;
  return {
    detail:
      `its last transaction ${last?.gtid || ''} ends at ${source} ${formatCoordinates(coordinates)}; ` +
      `evidence: ${evidence.join('; ')}`,
    output: { coordinates },
  };
};

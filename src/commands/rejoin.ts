import { buildRejoinPlan, partiesHoldingExtra, type RejoinParties } from '../algorithm/build-rejoin-plan.js';
import { extraTransactions } from '../binlog/gtid.js';
import { ServerLogs } from '../binlog/log-reader.js';
import { renderPlan } from '../output/render-plan.js';
import { renderRejoinSummary } from '../output/render-summaries.js';
import { invariantViolations } from './run/invariants.js';
import type { Connector } from '../topology/connection.js';
import { loadConfig } from './load-config.js';
import type { ProbedCluster } from '../topology/probe.js';
import { valueOrRefuse } from './run/refusal.js';
import { publishMaster } from './run/coordination.js';
import { runAndReport, showOnly } from './run/run-and-report.js';
import { planRun, type Session, sessionFor, withSession } from './run/session.js';

export interface RejoinOptions {
  cfg: string;
  name: string;
  dryRun?: boolean;
  json?: boolean;
  debug?: boolean;
  connector?: Connector;
}

/** How many of a former master's last binlog transactions are read to list what only it holds. */
const TAIL = 2000;
const LISTED = 10;

/**
 * `mmmf --cfg F rejoin NAME`: a former master that came back becomes a read-only replica of the master (in a
 * pair: the passive again, the circular link restored) — only when it holds nothing the master lacks.
 */
export async function rejoinCommand(opts: RejoinOptions): Promise<number> {
  const config = await loadConfig(opts.cfg, [{ flag: 'rejoin', name: opts.name }]);
  return withSession(sessionFor(config, opts, `mmmf rejoin ${opts.name}`), async (s) => {
    const probed = await s.probe();
    const published = s.view?.snapshot.master?.name;
    const outcome = buildRejoinPlan(config, probed.states, opts.name, published);
    const extra = outcome.ok ? undefined : partiesHoldingExtra(probed.states, opts.name, published);
    const listed = extra ? await listExtra(s, probed, extra) : [];
    const plan = valueOrRefuse(outcome, `refusing to rejoin ${opts.name}: nothing was changed`, listed);
    const dryRun = !!opts.dryRun;
    if (dryRun || plan.nothingToDo) {
      return showOnly(s, { command: 'rejoin', plan, dryRun, text: renderPlan(plan, s.c, { dryRun }) + '\n' });
    }
    const run = planRun(s, plan, probed.dialects);
    return runAndReport(s, run, {
      command: 'rejoin',
      shown: renderPlan(plan, s.c, { dryRun: false }) + '\n\n',
      readBack: async (results) => {
        const violations = invariantViolations(plan, results, (await s.probe({ readBack: true })).states);
        return { ok: !run.failed && violations.length === 0, violations };
      },
      // The master did not move, but it is published again: proxies see the cluster whole.
      close: async (j) => {
        if (j.ok && plan.oldMaster.name) await publishMaster(s, plan.oldMaster.name).catch(() => {});
        return undefined;
      },
      json: (j) => ({ invariants: { ok: j.violations.length === 0, violations: j.violations } }),
      summary: (end, c) => renderRejoinSummary(plan, end.judged, c),
    });
  });
}

/**
 * What only the former master holds, read from its binlog: each transaction's GTID, where it is, the tables
 * it touches and its first statement, then what the operator can do. Never merged, never thrown away.
 */
async function listExtra(s: Session, probed: ProbedCluster, parties: RejoinParties): Promise<string[]> {
  const extra = { host: parties.host.name, master: parties.master.name };
  const conn = s.conns.open.get(extra.host);
  const d = probed.dialects.get(extra.host);
  const master = probed.states.find((x) => x.name === extra.master);
  const masterState = (d?.isMariadb ? master?.gtidBinlogState : master?.gtidBinlog) ?? '';
  const out: string[] = [];
  if (conn && d) {
    try {
      const { transactions } = await new ServerLogs(conn, d).binlogTail(TAIL);
      const only = transactions.filter(
        (t) => t.gtid && t.gtid !== 'anonymous' && extraTransactions(d.version.flavor, t.gtid, masterState).length,
      );
      out.push(
        `${only.length} transaction${only.length === 1 ? '' : 's'} only ${extra.host} holds ` +
          `(of its last ${transactions.length}):`,
      );
      for (const t of only.slice(0, LISTED)) {
        const tables = t.tables.length ? ` tables ${t.tables.join(', ')}` : '';
        out.push(`  ${t.gtid} at ${t.start.file}:${t.start.position}${tables}: ${t.summary || '(row events)'}`);
      }
      if (only.length > LISTED) out.push(`  ... and ${only.length - LISTED} more`);
      const first = only[0];
      if (first) {
        out.push(
          `to see them whole: mysqlbinlog --start-position=${first.start.position} ${first.start.file} ` +
            `(on ${extra.host})`,
        );
      }
    } catch (err) {
      out.push(`(could not read ${extra.host}'s binlog to list them: ${(err as Error).message})`);
    }
  }
  out.push(
    `choose: rebuild ${extra.host} from a backup of ${extra.master} (what only it holds is then gone), or re-apply ` +
      `those transactions on ${extra.master} by hand and then rebuild ${extra.host}; ` +
      'mmmf never merges or discards them',
  );
  return out;
}

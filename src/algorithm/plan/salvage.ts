import { clientOptionFile, fixGtidSlavePosSql, replayCommandLine } from '../../dialect/salvage-dialect.js';
import type { ServerFiles } from '../../domain/server-state.js';
import { findIndexArgv, knownIndex } from '../../binlog/binlog-file/index-location.js';
import { noServerCheckArgv, readIndexArgv, readRangeArgv } from '../../binlog/binlog-file/remote-read-commands.js';
import { showRemote } from '../../vip/vip-commands.js';
import { dialectOf, hostConfig, type PlanContext } from './context.js';
import type { Confirmed } from './equalize.js';

/** What the command layer knows for a salvage: each host as last seen alive. */
export interface SalvageOptions {
  /** Each host's files as mmmf last saw them alive (its private state), by host name. */
  remembered?: Record<string, ServerFiles>;
}

/** The placeholder the printed plan shows for the MariaDB GTID position set after the apply. */
export const GTID_AFTER_SALVAGE = '<gtid_slave_pos after the salvaged transactions>';

/**
 * After the best replica is confirmed (and lagging replicas mapped into its binlog as replication left it),
 * before anything is brought up to it: apply what only the dead old master's binlog holds to the best replica.
 * Planned when the old master does not answer over SQL, is a configured host SSH is configured for, and salvage
 * is on; whether it may happen (a host that answers, no server running, a readable binlog) is decided at run
 * time, where a refusal applies nothing and the failover goes on as without it. Returns what equalization waits
 * for: the salvage step's output, or the confirmation's when there is no salvage step. (The best replica writes
 * a binlog: the analysis refuses a best replica without one, since the others catch up from it.)
 */
export function salvageDeadMaster(ctx: PlanContext, confirmed: Confirmed, opts: SalvageOptions | undefined): Confirmed {
  const { config, analysis: a, list } = ctx;
  const old = a.oldMaster;
  const salvage = config.salvage;
  if (ctx.switchover || old.state?.reachable || !old.name || !salvage) return confirmed;
  if (!salvage.hosts.includes(old.name)) return confirmed;
  const best = a.best;
  const oldCfg = hostConfig(config, old.name);
  const remembered = opts?.remembered?.[old.name];
  const bd = dialectOf(best);
  const byFile = a.positioning.mode === 'file';
  const index = knownIndex({
    ...(oldCfg.binlogDir ? { binlogDir: oldCfg.binlogDir } : {}),
    ...(remembered ? { remembered } : {}),
  });
  const datadir = remembered?.datadir;
  const fixGtid = fixGtidSlavePosSql(bd, GTID_AFTER_SALVAGE);
  const noServer = showRemote(oldCfg, noServerCheckArgv({ port: oldCfg.port, ...(datadir ? { datadir } : {}) }));
  const from = `<from ${best.name}'s executed position>`;
  const bestCfg = hostConfig(config, best.name);
  const target = { ...bestCfg, password: '<redacted>' };
  const optionFile = clientOptionFile(best.version, target).trim().split('\n').slice(1).join(' ');
  const readArgv = [...readRangeArgv('FILE', 0, 1).slice(0, 4), '<offset+1>', '<length>', '<file>'];
  const step = list.add({
    phase: 'salvage',
    host: best.name,
    title: `Apply what only ${old.name}'s binlog holds (read over SSH)`,
    action: {
      kind: 'salvage',
      oldMaster: old.name,
      before: confirmed.bestEnd,
      byFile,
      ...(index ? { index } : {}),
      ...(oldCfg.binlogDir ? { binlogDir: oldCfg.binlogDir } : {}),
      ...(datadir ? { datadir } : {}),
      maxBytes: salvage.maxBytes,
      ...(fixGtid ? { fixGtid } : {}),
    },
    sql: [
      `${bd.binlogStatusSql()} -- before the apply, journaled: a resumed run counts what was applied after it`,
      `${bd.logEventsSql('binlog', '<file>', 4, 0, 5000)} -- afterwards, from that end: the salvaged transactions`,
      ...(fixGtid ? [`${fixGtid} -- its replication continues after them`] : []),
    ],
    command: [
      ...(index ? [] : [`${showRemote(oldCfg, findIndexArgv(oldCfg.binlogDir))}   # where the binlog index is`]),
      `${noServer}   # no server for ${old.name} runs or is about to: before reading, and again before applying`,
      showRemote(oldCfg, readIndexArgv(index ?? '<the index found above>')),
      `${showRemote(oldCfg, readArgv)}   # each file ${from} on, at most ${salvage.maxBytes} bytes in all; every ` +
        "event's length, position chain and CRC32 checked",
      `${replayCommandLine(best.version)}   # here, into ${best.name} (${optionFile}), one file after the other`,
    ],
    why:
      `${old.name}'s database is down but its host may answer: transactions it acknowledged and never sent are in ` +
      `its binlog only. Applied once to ${best.name}, equalization carries them to every replica; a salvage that ` +
      'cannot happen safely (no SSH, a server running, an unreadable binlog) applies nothing and says why',
    after: [confirmed.step],
  });
  return { step, bestEnd: { step: step.n, key: byFile ? 'file' : 'gtid' } };
}

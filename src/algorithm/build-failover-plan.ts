import { compareCoordinates, formatCoordinates } from '../binlog/coordinates.js';
import { UnsafeError } from '../errors.js';
import { dialectFor, type Dialect } from '../dialect/dialect.js';
import type { ResolvedConfig } from '../topology/config-types.js';
import type { HostState } from '../topology/server-state.js';
import { showRemote } from '../vip/remote.js';
import { vipAddArgv, vipCheckArgv, vipRemoveArgv } from '../vip/vip-commands.js';
import { PAGE_ROWS } from '../binlog/log-reader.js';
import { analyzeTopology, isFormerMaster } from './analyze-topology.js';
import type { OnFailure, Phase, Plan, Step, StepAction, StepRef } from './plan-types.js';

export interface FailoverOptions {
  target: string;
  /** A planned switchover: the master must be alive and healthy, and it becomes a replica of the target. */
  switchover?: { maxLagSeconds: number; maxTransactionSeconds: number };
}

/** How a run-time value is shown in the printed plan. */
export const showRef = (ref: StepRef) => `<${ref.key} from step ${ref.step}>`;

/**
 * Pure: (config, probed state, options) -> Plan. No I/O, no clock. Throws UnsafeError listing every reason
 * when a failover would risk losing or splitting data; the operator sees all of them at once.
 */
export function buildFailoverPlan(config: ResolvedConfig, states: HostState[], opts: FailoverOptions): Plan {
  const a = analyzeTopology(config, states, opts);
  if (a.nothingToDo) {
    return {
      kind: 'failover',
      target: opts.target,
      oldMaster: { address: a.oldMaster.address, name: opts.target, reachable: true },
      best: opts.target,
      positioning: a.positioning.mode,
      positioningWhy: a.positioning.why,
      hosts: a.hosts,
      warnings: a.warnings,
      steps: [],
      nothingToDo: a.nothingToDo,
    };
  }
  if (opts.switchover) a.refusals.push(...switchoverRefusals(a.oldMaster.state, a.replicas, states, opts.switchover));
  if (a.refusals.length || !a.target || !a.best) {
    throw new UnsafeError(
      `refusing to ${opts.switchover ? 'switch over' : 'fail over'} to ${opts.target}: nothing was changed`,
      a.refusals,
    );
  }
  const target = a.target;
  const best = a.best;
  const t = config.timeouts;
  const steps: Step[] = [];
  const d = (s: HostState): Dialect => dialectFor(s.version!);
  const add = (
    phase: Phase,
    host: string,
    title: string,
    action: StepAction,
    sql: string[],
    why: string,
    onFailure: OnFailure,
  ): Step => {
    const step = { n: steps.length + 1, phase, host, title, action, sql, why, onFailure };
    steps.push(step);
    return step;
  };
  const addCmd = (
    phase: Phase,
    host: string,
    title: string,
    action: StepAction,
    command: string[],
    why: string,
    onFailure: OnFailure,
  ): Step => {
    const step = add(phase, host, title, action, [], why, onFailure);
    step.command = command;
    return step;
  };
  const hostCfg = (name: string) => config.hosts.find((h) => h.name === name)!;
  const sourceOf = (name: string, redact = true) => {
    const h = hostCfg(name);
    return {
      host: h.host,
      port: h.port,
      user: config.replication.user,
      password: redact ? '' : config.replication.password,
    };
  };

  // 1. A live old master is fenced first, so nothing new is written while we move, and its last
  //    transactions are pulled into the replicas instead of being left behind.
  let masterEnd: StepRef | undefined;
  const old = a.oldMaster.state;
  const oldCfg = a.oldMaster.name ? hostCfg(a.oldMaster.name) : undefined;
  if (!old?.reachable && config.hooks.fence && a.oldMaster.name) {
    addCmd(
      'fence',
      a.oldMaster.name,
      'Run the fence hook on the unreachable old master',
      { kind: 'fence-hook' },
      [typeof config.hooks.fence === 'string' ? config.hooks.fence : config.hooks.fence.join(' ')],
      'mmmf cannot make it read-only over SQL; the hook (e.g. a power-off) makes sure it takes no more writes',
      'warn',
    );
  }
  if (config.vip && oldCfg) {
    const argv = vipRemoveArgv(config.vip.address, oldCfg.vipInterface ?? config.vip.interface);
    addCmd(
      'fence',
      oldCfg.name,
      'Remove the writer VIP from the old master',
      { kind: 'vip-remove' },
      [showRemote(oldCfg, argv)],
      `applications must stop reaching ${oldCfg.name}${old?.reachable ? '' : ' (its database is down, but its host may still answer)'}`,
      'warn',
    );
  }
  if (old?.reachable) {
    const od = d(old);
    add(
      'fence',
      old.name,
      'Make the old master read-only',
      { kind: 'fence-read-only' },
      od.setReadOnly(true),
      'stops new writes from clients while the topology changes',
      'stop-run',
    );
    add(
      'fence',
      old.name,
      'Kill client connections on the old master',
      { kind: 'kill-clients' },
      [od.clientConnectionsSql(), `${od.killConnection(0).replace(/\d+$/, '<id>')} -- for each row`],
      `read_only does not stop privileged users${od.hasSuperReadOnly ? '' : ' (MariaDB has no super_read_only)'}, and open transactions must not commit later`,
      'stop-run',
    );
    const rec = add(
      'fence',
      old.name,
      "Record the old master's final position",
      { kind: 'record-master-end' },
      [od.binlogStatusSql(), od.binlogGtidSql()],
      'every replica must receive up to here so nothing written on it is lost',
      'stop-run',
    );
    masterEnd = { step: rec.n, key: 'gtid' };
    for (const r of a.replicas) {
      add(
        'catch-up',
        r.name,
        "Receive up to the old master's final position",
        { kind: 'catch-up', masterEnd },
        [
          d(r).startIoThread(),
          `${d(r).replicaStatusSql()} -- repeated until received = ${showRef(masterEnd)}, at most ${t.drain} s`,
        ],
        'the old master is alive, so the cheapest source of its last transactions is the old master itself',
        'continue',
      );
    }
  }

  // 2. Quiesce: stop receiving first, then let each SQL thread apply everything already received.
  //    Stopping both threads at once would throw received events away. A paused SQL thread is resumed
  //    while its IO thread still runs: with MASTER_USE_GTID, MariaDB discards the relay log when a thread
  //    starts while both are stopped, so a replica found with both stopped first switches to file
  //    positioning at its SQL thread's exact place in the relay log.
  const relayOnly = new Set<string>();
  for (const r of a.replicas) {
    const rs = r.replica!;
    if (rs.sqlRunning) continue;
    const bothStopped = !old?.reachable && rs.ioRunning === 'No';
    const unapplied = !!rs.received.file && compareCoordinates(rs.received, rs.executed) > 0;
    if (bothStopped && !unapplied) continue;
    const rd = d(r);
    if (bothStopped && unapplied && rs.gtidMode !== 'No') {
      relayOnly.add(r.name);
      add(
        'start-sql',
        r.name,
        'Apply its relay log by file position',
        { kind: 'resume-sql', relayLog: rs.relayLog },
        [rd.keepRelayLogAt(rs.relayLog), rd.startSqlThread()],
        `both threads are stopped with ${formatCoordinates(rs.executed)}..${formatCoordinates(rs.received)} received but not applied; starting a thread in GTID mode would discard that relay log`,
        'drop-host',
      );
    } else {
      add(
        'start-sql',
        r.name,
        'Resume the paused SQL thread',
        { kind: 'resume-sql' },
        [rd.startSqlThread()],
        'its relay log holds received transactions that must be applied',
        'drop-host',
      );
    }
  }
  for (const r of a.replicas) {
    add(
      'stop-io',
      r.name,
      'Stop the IO thread',
      { kind: 'stop-io-thread' },
      [d(r).stopIoThread()],
      'freezes what this replica has received',
      'drop-host',
    );
  }
  for (const r of a.replicas) {
    const trustCoordinates = !relayOnly.has(r.name);
    add(
      'drain',
      r.name,
      'Apply the relay log to its end',
      { kind: 'drain-relay-log', trustCoordinates },
      [
        `${d(r).replicaStatusSql()} -- repeated until ${trustCoordinates ? 'Exec = Read coordinates, or ' : ''}the SQL thread idles at the end of its relay log, at most ${t.drain} s`,
      ],
      'every received transaction must be applied before replicas are compared',
      'drop-host',
    );
  }
  for (const r of a.replicas) {
    add(
      'stop',
      r.name,
      'Stop replication',
      { kind: 'stop-replication' },
      [d(r).stopReplication()],
      'replication from the old master ends here',
      'drop-host',
    );
  }

  // 3. Confirm on the drained state that the planned best replica really holds everything.
  const byFile = a.positioning.mode === 'file';
  const candidates = a.replicas.map((r) => r.name);
  const confirm = byFile
    ? add(
        'confirm',
        best.name,
        `Confirm ${best.name} executed the most and record its binlog end`,
        { kind: 'confirm-best', candidates, ...(masterEnd ? { masterEnd } : {}), byFile },
        [
          `${d(best).replicaStatusSql()} -- on every replica: executed old-master coordinates`,
          d(best).binlogStatusSql(),
        ],
        `${best.name} received the most (${a.replicas.length > 1 ? 'compared by old-master coordinates' : 'only replica'}); this re-checks it after draining and records where lagging replicas must stop`,
        'stop-run',
      )
    : add(
        'confirm',
        best.name,
        `Confirm ${best.name} holds every transaction any replica has`,
        { kind: 'confirm-best', candidates, ...(masterEnd ? { masterEnd } : {}) },
        [`${d(best).currentGtidSql()} -- on every replica`],
        `${best.name} received the most (${a.replicas.length > 1 ? 'compared by old-master coordinates' : 'only replica'}); this re-checks it after draining, before anything is repointed`,
        'stop-run',
      );
  const bestEnd: StepRef = { step: confirm.n, key: byFile ? 'file' : 'gtid' };
  const coordinatesOf = (step: number) => ({
    file: showRef({ step, key: 'file' }),
    position: showRef({ step, key: 'pos' }),
  });

  // 4. Equalize: every replica behind the best one (the target first, it matters most) replicates from it
  //    up to exactly its end, then stops.
  const lagging = [target, ...a.replicas.filter((r) => r !== target)].filter((r) => r !== best);
  const bd = d(best);
  const mapped = new Map<string, number>();
  for (const r of byFile ? lagging : []) {
    const rd = d(r);
    const step = add(
      'map',
      r.name,
      `Map its position into ${best.name}'s binlog`,
      { kind: 'map-position', best: best.name, bestEnd },
      [
        `${rd.replicaStatusSql()} -- its executed old-master coordinates`,
        `${rd.binaryLogsSql()}; ${rd.logEventsSql('binlog', '<newest binlog>', 4, 0, PAGE_ROWS)} -- its own last transaction`,
        `${bd.logEventsSql('relay', '<relay log file>', 4, 0, PAGE_ROWS)} -- on ${best.name}: newest relay log first, back to that position`,
        `${bd.binaryLogsSql()}; ${bd.logEventsSql('binlog', '<binlog file>', 4, 0, PAGE_ROWS)} -- on ${best.name}: as many transactions back from its end`,
      ],
      `old-master coordinates mean nothing in ${best.name}'s binlog. ${best.name}'s relay log keeps them: count its transactions after ${r.name}'s position there, take as many from the end of its binlog, and accept the cut only if they match one by one and the one before it is ${r.name}'s own last transaction`,
      r === target ? 'stop-run' : 'drop-host',
    );
    mapped.set(r.name, step.n);
  }
  for (const r of byFile ? lagging : []) {
    const rd = d(r);
    const m = mapped.get(r.name)!;
    add(
      'equalize',
      r.name,
      `Catch up from ${best.name}`,
      { kind: 'equalize', source: best.name, until: bestEnd, from: { step: m, key: 'file' } },
      [
        rd.changeSourceFile(sourceOf(best.name), coordinatesOf(m), true),
        rd.startReplicationUntilPosition(coordinatesOf(confirm.n)),
        `${rd.waitForPositionSql(coordinatesOf(confirm.n), 1)} -- repeated until >= 0, at most ${t.equalize} s; stops early on a replication error`,
        rd.stopReplication(),
      ],
      `${r.name} must hold everything ${best.name} has before it ${r === target ? 'is promoted' : 'follows the new master'} (skipped at run time when it already does)`,
      r === target ? 'stop-run' : 'drop-host',
    );
  }
  for (const r of byFile ? [] : lagging) {
    const rd = d(r);
    add(
      'equalize',
      r.name,
      `Catch up from ${best.name}`,
      { kind: 'equalize', source: best.name, until: bestEnd },
      [
        rd.changeSourceGtid(sourceOf(best.name), true, isFormerMaster(r)),
        rd.startReplicationUntilGtid(showRef(bestEnd)),
        `${rd.waitForGtidSql(showRef(bestEnd), 1)} -- repeated until 0, at most ${t.equalize} s; stops early on a replication error`,
        rd.stopReplication(),
      ],
      `${r.name} must hold everything ${best.name} has before it ${r === target ? 'is promoted' : 'follows the new master'} (skipped at run time when it already does)`,
      r === target ? 'stop-run' : 'drop-host',
    );
  }

  // 5. Promote, then repoint and verify everyone else.
  const td = d(target);
  const promote = add(
    'promote',
    target.name,
    'Promote to master',
    byFile ? { kind: 'promote', recordEnd: true } : { kind: 'promote' },
    [
      td.stopReplication(),
      td.resetReplicationAll(),
      ...(byFile ? [`${td.binlogStatusSql()} -- recorded before writes open: replicas start here`] : []),
      ...td.setReadOnly(false),
    ],
    'it forgets the old master and accepts writes',
    'stop-run',
  );
  const newMasterEnd = coordinatesOf(promote.n);
  const repointSql = (r: HostState, formerMaster: boolean) =>
    byFile
      ? d(r).changeSourceFile(sourceOf(target.name), newMasterEnd, true)
      : d(r).changeSourceGtid(sourceOf(target.name), true, formerMaster);
  const at: StepRef | undefined = byFile ? { step: promote.n, key: 'file' } : undefined;
  if (config.vip) {
    const t2 = hostCfg(target.name);
    addCmd(
      'vip',
      target.name,
      `Add the writer VIP on ${target.name} and announce it (gratuitous ARP)`,
      { kind: 'vip-add' },
      [showRemote(t2, vipAddArgv(config.vip.address, t2.vipInterface ?? config.vip.interface))],
      'applications reach the writer through the VIP',
      'continue',
    );
  }

  const others = a.replicas.filter((r) => r !== target);
  for (const r of others) {
    const rd = d(r);
    add(
      'repoint',
      r.name,
      `Replicate from ${target.name}`,
      { kind: 'repoint', source: target.name, ...(at ? { at } : {}) },
      [rd.stopReplication(), repointSql(r, isFormerMaster(r)), ...rd.setReadOnly(true), rd.startReplication()],
      byFile
        ? `it holds exactly what ${target.name} held before writes opened, so it starts at that binlog position`
        : `continues from its GTID position, which ${target.name}'s binlog holds`,
      'drop-host',
    );
  }
  // A switchover keeps the old master: it follows the new one (from gtid_current_pos: its own writes are in
  // its binlog, not in gtid_slave_pos) and stays read-only.
  const verified = [...others];
  if (opts.switchover && old?.reachable) {
    const od = d(old);
    add(
      'demote',
      old.name,
      `Replicate from ${target.name}`,
      { kind: 'repoint', source: target.name, formerMaster: true, ...(at ? { at } : {}) },
      [od.stopReplication(), repointSql(old, true), ...od.setReadOnly(true), od.startReplication()],
      'the old master becomes a replica of the new one, continuing from everything it wrote',
      'drop-host',
    );
    verified.push(old);
  }
  for (const r of verified) {
    const rd = d(r);
    const formerMaster = r === old || isFormerMaster(r);
    // A former master already has the old transactions, so its gtid_slave_pos never moves past them:
    // it is caught up when its gtid_current_pos holds the new master's binlog position.
    const caughtUp = byFile
      ? `${rd.waitForPositionSql({ file: `<binlog file of ${target.name}>`, position: `<binlog pos of ${target.name}>` }, 1)} -- repeated until >= 0, at most ${t.verify} s`
      : formerMaster
        ? `${rd.currentGtidSql()} -- repeated until it holds <binlog GTID position of ${target.name}>, at most ${t.verify} s`
        : `${rd.waitForGtidSql(`<binlog GTID position of ${target.name}>`, 1)} -- repeated until 0, at most ${t.verify} s`;
    add(
      'verify',
      r.name,
      `Verify it replicates from ${target.name}`,
      {
        kind: 'verify-replica',
        source: target.name,
        ...(formerMaster ? { formerMaster } : {}),
        ...(byFile ? { byFile } : {}),
      },
      [`${rd.replicaStatusSql()} -- repeated until IO and SQL threads run, at most ${t.verify} s`, caughtUp],
      `a ${opts.switchover ? 'switchover' : 'failover'} is done only when every replica runs and has caught up`,
      'continue',
    );
  }

  if (config.vip) {
    addCmd(
      'verify',
      target.name,
      `Verify that only ${target.name} holds the writer VIP`,
      { kind: 'vip-verify', holder: target.name },
      config.hosts.map((h) =>
        showRemote(h, vipCheckArgv(config.vip!.address, h.vipInterface ?? config.vip!.interface)),
      ),
      'two hosts answering for the VIP would split writes',
      'continue',
    );
  }

  return {
    kind: opts.switchover ? 'switchover' : 'failover',
    target: target.name,
    oldMaster: {
      address: a.oldMaster.address,
      ...(a.oldMaster.name ? { name: a.oldMaster.name } : {}),
      reachable: !!old?.reachable,
    },
    best: best.name,
    positioning: a.positioning.mode,
    positioningWhy: a.positioning.why,
    hosts: a.hosts,
    warnings: a.warnings,
    steps,
  };
}

/** A switchover needs a healthy cluster; what is wrong is refused before anything changes. */
function switchoverRefusals(
  old: HostState | undefined,
  replicas: HostState[],
  states: HostState[],
  limits: NonNullable<FailoverOptions['switchover']>,
): string[] {
  const out: string[] = [];
  if (!old?.reachable) {
    return [`the master ${old?.name ?? ''} is not reachable: a switchover needs it alive. Use --failover-to instead.`];
  }
  const all = states.filter(
    (s) => s.reachable && s.replica && `${s.replica.sourceHost}:${s.replica.sourcePort}` === old.address,
  );
  for (const r of all) {
    const rs = r.replica!;
    if (rs.ioRunning !== 'Yes' || !rs.sqlRunning)
      out.push(
        `${r.name} is not replicating (IO ${rs.ioRunning}, SQL ${rs.sqlRunning ? 'Yes' : 'No'}): fix it first, a switchover must lose nothing and wait for nobody.`,
      );
    else if ((rs.secondsBehind ?? 0) > limits.maxLagSeconds)
      out.push(
        `${r.name} is ${rs.secondsBehind} s behind (limit ${limits.maxLagSeconds} s): writes would stay blocked while it catches up. Wait and retry.`,
      );
  }
  if (!replicas.length) out.push('no healthy replica to switch over to.');
  if ((old.oldestWriteTrxSeconds ?? 0) > limits.maxTransactionSeconds) {
    out.push(
      `a write transaction has been open on ${old.name} for ${old.oldestWriteTrxSeconds} s (limit ${limits.maxTransactionSeconds} s): it would be killed. Let it finish and retry.`,
    );
  }
  return out;
}

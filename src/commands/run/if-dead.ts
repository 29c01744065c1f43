import type { DeathSample, DeathVerdict } from '../../algorithm/judge-master-death.js';
import { findOldMaster } from '../../algorithm/find-old-master.js';
import { writableMasters, writerProblems } from '../../algorithm/writers.js';
import { EXIT, UnsafeError } from '../../errors.js';
import { confirmMasterDead } from '../../safety/confirm-master-dead.js';
import type { ResolvedConfig } from '../../topology/config-types.js';
import { connectMysql, type Connector } from '../../topology/connection.js';
import { refused, valueOrRefuse } from './refusal.js';
import { actedMeanwhile, type IfDeadOutcome, pendingRun } from './other-runs.js';
import { printReport } from './report.js';
import { type Session, withSession } from './session.js';

export interface IfDeadOptions {
  config: ResolvedConfig;
  json: boolean;
  debug: boolean;
  dryRun: boolean;
  connector?: Connector | undefined;
}

export type { IfDeadOutcome } from './other-runs.js';

/**
 * `--if-dead`: before the lock is taken or anything changes, decide whether the master is dead. A live master
 * ends the run with exit 0 ("nothing to do") without touching the lock or anti-flap, so cron can run this every
 * minute for years; signals that disagree are refused (exit 3) with each one's evidence.
 */
export async function requireDeadMaster(o: IfDeadOptions): Promise<IfDeadOutcome> {
  const { config } = o;
  // No lock and no SSH warm-up: this part must be free to run every minute.
  const session = { config, json: o.json, debug: o.debug, connector: o.connector, readState: true };
  return withSession(session, async (s) => {
    // Another monitor acting now, or a run that died half-way (its monitor host with it): the death was proven
    // when it started; the failover command resumes it (or names the holder) instead of judging again.
    const pending = pendingRun(s, s.view?.snapshot);
    if (pending) return pending;
    try {
      return await judge(o, s);
    } catch (err) {
      // Another monitor may have started (or finished) the failover while this one judged: the servers then
      // disagree with a death this run saw a moment ago. Say who acts, or that it is done, not "disagree".
      if (err instanceof UnsafeError) return (await actedMeanwhile(s, o.json)) ?? Promise.reject(err);
      throw err;
    }
  });
}

/** The judgment itself: which server is the master, and whether every signal agrees that it is dead. */
async function judge(o: IfDeadOptions, s: Session): Promise<IfDeadOutcome> {
  const { config } = o;
  const probed = await s.probe();
  const found = findOldMaster(probed.states);
  const old = valueOrRefuse(found, '--if-dead: cannot tell which server is the master: nothing was changed');
  // A second writer, or a master that is up but closed for writes, is not "alive, nothing to do" — and not a
  // death to fail over from either: a person must look (exit 3, with what the servers say).
  const writers = writerProblems(probed.states, config.source);
  const masters = writableMasters(probed.states);
  if (masters.length > 1 || (old.state?.reachable && masters.length === 0)) {
    const evidence = writers.map((w) => `${w.message}; fix: ${w.fix}`);
    throw refused('--if-dead: the cluster does not have exactly one writable master: nothing was changed', evidence);
  }
  const master = old.name ? config.hosts.find((h) => h.name === old.name) : undefined;
  if (!master) {
    throw refused(`--if-dead: the replicas' master ${old.address} is not in the config: nothing was changed`, [
      `mmmf can only prove a master dead that it can try to reach: add ${old.address} to hosts in ${config.source}`,
    ]);
  }
  const replicas = old.direct.flatMap((r) => {
    const conn = s.conns.open.get(r.name);
    const dialect = probed.dialects.get(r.name);
    return conn && dialect ? [{ name: r.name, conn, dialect }] : [];
  });
  if (!s.json && config.deadConfirmSeconds > 0 && !old.state?.reachable) {
    s.write(s.c.dim(`--if-dead: ${master.name} does not answer; confirming over ${config.deadConfirmSeconds} s...\n`));
  }
  // The master's replicas in the config: those that answer and replicate from it, and every one that does not
  // answer (it may be one, cut off with the master): "dead" takes a majority of all of them.
  const unreachable = probed.states.filter((x) => !x.reachable && x.name !== master.name).length;
  const voters = old.direct.length + unreachable;
  const verdict = await confirmMasterDead({
    config,
    master,
    replicas,
    voters,
    connector: o.connector ?? connectMysql,
    ssh: config.sshConfigured,
    onSample: (sample, v) => s.log?.line('mmmf', '#', `--if-dead sample at ${sample.at} ms: ${summary(sample, v)}`),
  });
  return settle(o, master.name, verdict, s);
}

function settle(o: IfDeadOptions, master: string, verdict: DeathVerdict, s: Session): IfDeadOutcome {
  if (verdict.kind === 'dead') return { dead: true, evidence: verdict.evidence, master };
  if (verdict.kind === 'undecided') {
    throw refused(`--if-dead: the signals disagree about whether ${master} is dead: nothing was changed`, [
      ...verdict.evidence,
      'the next run looks again (replicas notice a hung master after slave_net_timeout: see mmmf check)',
      `a master that is alive but must go (hung disk, broken storage): --failover-to NAME --fence-live-master`,
    ]);
  }
  const n = verdict.connected.length;
  const serves = `serves ${n} replica${n === 1 ? '' : 's'}`;
  const message = verdict.healthy
    ? `${master} is alive and ${serves}: nothing to do`
    : `${master} answers (${verdict.detail}) and ${serves}: it is alive, nothing to do`;
  if (o.json) {
    printReport({
      command: 'failover',
      dryRun: o.dryRun,
      ok: true,
      exitCode: EXIT.ok,
      nothingToDo: message,
      masterCheck: { verdict: 'alive', evidence: verdict.evidence },
    });
  } else s.write(`${s.c.green(message)}\n${verdict.evidence.map((e) => s.c.dim(`  ${e}`)).join('\n')}\n`);
  return { dead: false, exitCode: EXIT.ok };
}

function summary(s: DeathSample, v: DeathVerdict): string {
  const replicas = s.replicas.map((r) => `${r.name} IO ${r.read ? r.io : '?'} ${r.received}`).join(', ');
  const ssh = s.ssh ? `; ssh ${s.ssh.answered ? s.ssh.mysqld : 'no answer'}` : '';
  return `master ${s.master.answered ? 'answered' : 'no answer'} (${s.master.detail}); ${replicas}${ssh} → ${v.kind}`;
}

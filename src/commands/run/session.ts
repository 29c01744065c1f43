import type { ChalkInstance } from 'chalk';
import type { Plan } from '../../algorithm/plan-types.js';
import type { Dialect } from '../../dialect/dialect.js';
import type { Journal } from '../../executor/journal.js';
import { faultsFromEnv } from '../../executor/faults.js';
import { PlanRun } from '../../executor/run-plan.js';
import { disarmVipMove } from '../../executor/actions/vip.js';
import type { Faults } from '../../executor/types.js';
import { loggingConnector, openRunLog, redactingConnector, type RunLog } from '../../output/run-log.js';
import { colorsFor } from '../../output/style.js';
import { mark, timelineText } from '../../process/timeline.js';
import { acquireServerLocks } from '../../safety/run-lock.js';
import { type StoreLock, StoreUnavailableError } from '../../state/cluster-store.js';
import { CoordinationError, errorText } from '../../errors.js';
import { openStore, readIdentity, readStore, type StoreView, takeClusterLock } from './coordination.js';
import type { ResolvedConfig } from '../../topology/config-types.js';
import {
  type ConnectionSet,
  type Connector,
  connectMysql,
  connectWithin,
  type SqlConnection,
  withConnections,
} from '../../topology/connection.js';
import { type ProbedCluster, probeCluster } from '../../topology/probe.js';
import { rememberHosts } from '../../state/host-memory.js';
import { checkProbedExecuted } from '../../binlog/relay-position.js';

/** A run that died a moment ago holds server locks until the servers notice its connections are gone. */
const DEAD_RUN_LOCK_WAIT_S = 5;

/**
 * Everything one run of a command shares, instead of parameters threaded through every function: the config,
 * the open connections (with the run log), the output (human or --json), test fault injection, the shared
 * SSH connections, and the cluster's store: what it holds, and this run's lock when it takes one. Opened and
 * closed by withSession, however the run ends.
 */
export interface Session {
  config: ResolvedConfig;
  conns: ConnectionSet;
  log: RunLog | undefined;
  faults: Faults | undefined;
  json: boolean;
  c: ChalkInstance;
  /** When the run started (epoch ms), for the summary's duration. */
  started: number;
  /** The cluster's store as this run read it (commands that lock it, or read it: dry runs, status). */
  view: StoreView | undefined;
  /** This run's hold on the cluster's lock (a command that changes servers). */
  lock: StoreLock | undefined;
  write(text: string): void;
  /** Probes every host; `readBack`: the look after the steps (outcomes, invariants), lighter (topology/probe.ts). */
  probe(o?: { readBack?: boolean }): Promise<ProbedCluster>;
  /** Waits (at most a second) for the SSH connections opened while probing. */
  sshReady(): Promise<void>;
  /** A fresh connection to a host, with the run log and redaction, given up after the connect timeout. */
  connect(host: string): Promise<SqlConnection>;
}

export interface SessionOptions {
  config: ResolvedConfig;
  json: boolean;
  debug: boolean;
  faults?: Faults | undefined;
  connector?: Connector | undefined;
  /** Takes the cluster's lock for this command line (a dry run takes none). */
  lock?: string | undefined;
  /** Reads the cluster's store without taking its lock (a dry run, status). */
  readState?: boolean;
  /** Opens the SSH connections the VIP steps will use while mmmf probes. */
  warmSsh?: boolean;
}

export async function withSession<T>(o: SessionOptions, fn: (s: Session) => Promise<T>): Promise<T> {
  const { config } = o;
  const started = Date.now();
  let ssh: Promise<void> | undefined;
  try {
    // The handshakes are paid while probing, not while writes are blocked (see vip/remote.ts): every host for
    // the VIP, else those whose binlog a failover may salvage.
    const sshHosts = config.vip ? config.hosts : config.hosts.filter((h) => config.salvage?.hosts.includes(h.name));
    if (o.warmSsh && sshHosts.length) {
      ssh = import('../../vip/remote.js').then((m) => m.openMux(sshHosts, config.stateDir, config.timeouts.connect));
    }
    const log = openRunLog(config, o.debug);
    log?.line('mmmf', '#', `${o.lock ?? 'mmmf (dry run)'} (pid ${process.pid}, config ${config.source})`);
    const connector = loggingConnector(redactingConnector(o.connector ?? connectMysql, config), log);
    return await withConnections(config.hosts, config.timeouts.connect, connector, async (conns) => {
      mark('connect');
      const state = o.lock || o.readState ? await openState(config, conns, o.lock) : undefined;
      mark('store');
      try {
        if (o.lock) {
          const wait = state?.view.unfinished ? DEAD_RUN_LOCK_WAIT_S : 0;
          await acquireServerLocks(conns.open, wait, state?.order);
          mark('lock');
        }
        const session = newSession(o, { conns, log, connector, started, state, ssh });
        return await fn(session);
      } finally {
        await state?.lock?.release().catch(() => {});
        await state?.view.store.close().catch(() => {});
      }
    });
  } finally {
    await disarmVipMove();
    if (ssh) {
      await ssh.catch(() => {});
      await (await import('../../vip/remote.js')).closeMux();
    }
    mark('teardown');
    // Where the time went, once the run is over (its own writes, to stderr, are not in it).
    if (o.debug) process.stderr.write(`${new Date().toISOString()} mmmf # time: ${timelineText()}\n`);
  }
}

/** The session object over open connections: its probe remembers each host and reuses the first dialects. */
function newSession(
  o: SessionOptions,
  x: {
    conns: ConnectionSet;
    log: RunLog | undefined;
    connector: Connector;
    started: number;
    state: { view: StoreView; lock: StoreLock | undefined } | undefined;
    /** The SSH connections opening while mmmf probes (see withSession). */
    ssh: Promise<void> | undefined;
  },
): Session {
  const { config } = o;
  let probes = 0;
  let dialects: Map<string, Dialect> | undefined;
  return {
    config,
    conns: x.conns,
    log: x.log,
    faults: o.faults,
    json: o.json,
    c: colorsFor(process.stdout),
    started: x.started,
    view: x.state?.view,
    lock: x.state?.lock,
    write: (text) => process.stdout.write(text),
    probe: async (p) => {
      const readBack = p?.readBack && dialects ? { readBack: { dialects } } : {};
      const probed = await probeCluster(config, x.conns, readBack);
      if (!p?.readBack) await checkProbedExecuted(probed, x.conns);
      dialects ??= probed.dialects;
      rememberHosts(config.stateDir, probed.states);
      mark(probes++ ? 'probe again' : 'probe');
      return probed;
    },
    connect: (name) => {
      const h = config.hosts.find((y) => y.name === name);
      if (!h) return Promise.reject(new Error(`no host ${name} in the config`));
      return connectWithin(x.connector, h, config.timeouts.connect);
    },
    sshReady: async () => {
      if (x.ssh) await Promise.race([x.ssh, new Promise((r) => setTimeout(r, 1000).unref())]);
    },
  };
}

/** The cluster's store read, and its lock taken when `lock` names the command; etcd's failures said plainly. */
async function openState(
  config: ResolvedConfig,
  conns: ConnectionSet,
  lock: string | undefined,
): Promise<{ view: StoreView; lock: StoreLock | undefined; order: string[] }> {
  try {
    const identity = await readIdentity(config, conns.open);
    const store = await openStore(config, identity, { create: !!lock });
    const view = await readStore(store);
    try {
      return { view, lock: lock ? await takeClusterLock(view, lock) : undefined, order: identity.order };
    } catch (err) {
      await store.close().catch(() => {});
      throw err;
    }
  } catch (err) {
    if (err instanceof StoreUnavailableError) {
      throw new CoordinationError(`the coordination store does not answer: nothing was changed`, [
        errorText(err),
        'with coordination configured every run needs etcd (and its quorum): bring etcd back, then run again',
      ]);
    }
    throw err;
  }
}

/**
 * The session options of a command that changes servers: --json and --debug as given, test faults from the
 * environment, and the cluster's locks under `lock` (a dry run changes nothing, so it takes none).
 */
export function sessionFor(
  config: ResolvedConfig,
  o: {
    json?: boolean | undefined;
    debug?: boolean | undefined;
    dryRun?: boolean | undefined;
    connector?: Connector | undefined;
  },
  lock: string,
): SessionOptions {
  return {
    config,
    json: !!o.json,
    debug: !!o.debug,
    faults: faultsFromEnv(process.env),
    connector: o.connector,
    lock: o.dryRun ? undefined : lock,
    readState: true,
  };
}

/** A run of `plan` over this session's connections (journaled when a journal is given). */
export function planRun(s: Session, plan: Plan, dialects: Map<string, Dialect>, journal?: Journal): PlanRun {
  return new PlanRun(plan, {
    config: s.config,
    conns: s.conns.open,
    dialects,
    connect: (h) => s.connect(h),
    ...(journal ? { journal } : {}),
    ...(s.faults ? { faults: s.faults } : {}),
  });
}

/** This run's lock on the cluster, which a command that changes servers holds (withSession took it). */
export function heldLock(s: Session): StoreLock {
  if (!s.lock) throw new Error('internal: a run that changes servers must hold the cluster lock');
  return s.lock;
}

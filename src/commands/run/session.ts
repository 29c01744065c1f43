import type { ChalkInstance } from 'chalk';
import type { Plan } from '../../algorithm/plan-types.js';
import type { Dialect } from '../../dialect/dialect.js';
import type { Journal } from '../../executor/journal.js';
import { faultsFromEnv } from '../../executor/faults.js';
import { PlanRun } from '../../executor/run-plan.js';
import type { Faults } from '../../executor/types.js';
import { loggingConnector, openRunLog, redactingConnector, type RunLog } from '../../output/run-log.js';
import { colorsFor } from '../../output/style.js';
import { acquireLocalLock, acquireServerLocks } from '../../safety/run-lock.js';
import type { ResolvedConfig } from '../../topology/config-types.js';
import { type ConnectionSet, type Connector, connectMysql, withConnections } from '../../topology/connection.js';
import { type ProbedCluster, probeCluster } from '../../topology/probe.js';

/** A run killed on this machine a moment ago holds server locks until the servers notice its connections are gone. */
const DEAD_RUN_LOCK_WAIT_S = 5;

/**
 * Everything one run of a command shares, instead of parameters threaded through every function: the config,
 * the open connections (with the run log), the output (human or --json), test fault injection and the shared
 * SSH connections. Opened and closed by withSession, however the run ends.
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
  write(text: string): void;
  probe(): Promise<ProbedCluster>;
  /** Waits (at most a second) for the SSH connections opened while probing. */
  sshReady(): Promise<void>;
}

export interface SessionOptions {
  config: ResolvedConfig;
  json: boolean;
  debug: boolean;
  faults?: Faults | undefined;
  connector?: Connector | undefined;
  /** Takes the cluster's locks for this command line (a dry run takes none). */
  lock?: string | undefined;
  /** Opens the SSH connections the VIP steps will use while mmmf probes. */
  warmSsh?: boolean;
}

export async function withSession<T>(o: SessionOptions, fn: (s: Session) => Promise<T>): Promise<T> {
  const { config } = o;
  const started = Date.now();
  const local = o.lock ? acquireLocalLock(config, o.lock) : { release: () => {}, tookOverFromDeadRun: false };
  let ssh: Promise<void> | undefined;
  try {
    // The handshakes are paid while probing, not while writes are blocked (see vip/remote.ts).
    if (o.warmSsh && config.vip) {
      ssh = import('../../vip/remote.js').then((m) =>
        m.openMux(config.hosts, config.stateDir, config.timeouts.connect),
      );
    }
    const log = openRunLog(config, o.debug);
    log?.line('mmmf', '#', `${o.lock ?? 'mmmf (dry run)'} (pid ${process.pid}, config ${config.source})`);
    const connector = loggingConnector(redactingConnector(o.connector ?? connectMysql, config), log);
    return await withConnections(config.hosts, config.timeouts.connect, connector, async (conns) => {
      if (o.lock) {
        await acquireServerLocks(config, conns.open, local.tookOverFromDeadRun ? DEAD_RUN_LOCK_WAIT_S : 0);
      }
      const session: Session = {
        config,
        conns,
        log,
        faults: o.faults,
        json: o.json,
        c: colorsFor(process.stdout),
        started,
        write: (text) => process.stdout.write(text),
        probe: () => probeCluster(config, conns),
        sshReady: async () => {
          if (ssh) await Promise.race([ssh, new Promise((r) => setTimeout(r, 1000).unref())]);
        },
      };
      return fn(session);
    });
  } finally {
    if (ssh) {
      await ssh.catch(() => {});
      await (await import('../../vip/remote.js')).closeMux();
    }
    local.release();
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
  };
}

/** A run of `plan` over this session's connections (journaled when a journal is given). */
export function planRun(s: Session, plan: Plan, dialects: Map<string, Dialect>, journal?: Journal): PlanRun {
  return new PlanRun(plan, {
    config: s.config,
    conns: s.conns.open,
    dialects,
    ...(journal ? { journal } : {}),
    ...(s.faults ? { faults: s.faults } : {}),
  });
}

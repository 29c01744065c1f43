import {
  type DeathSample,
  type DeathVerdict,
  judgeMasterDeath,
  type MasterAttempt,
  type ReplicaView,
  type SshView,
} from '../algorithm/judge-master-death.js';
import { formatCoordinates } from '../binlog/coordinates.js';
import type { Dialect } from '../dialect/dialect.js';
import { errorText } from '../errors.js';
import type { ResolvedConfig, ResolvedHost } from '../topology/config-types.js';
import { type Connector, connectWithin, type SqlConnection } from '../topology/connection.js';

/** Between two samples: often enough to see positions move, rarely enough to cost nothing. */
const SAMPLE_EVERY_MS = 1000;
const QUERY_MS = 5000;

export interface DeathWitnesses {
  config: ResolvedConfig;
  master: ResolvedHost;
  /** The master's direct replicas mmmf reaches, with their open connections. */
  replicas: { name: string; conn: SqlConnection; dialect: Dialect }[];
  connector: Connector;
  /** Ask the master's host over SSH too (ssh or a VIP is configured). */
  ssh: boolean;
  /** Called after every sample (progress for the operator, the run log). */
  onSample?: (s: DeathSample, v: DeathVerdict) => void;
}

/**
 * Samples every signal once a second until they agree for `deadConfirmSeconds` (dead), the master answers
 * (alive), or twice the window passes without agreement (the last verdict, undecided: the caller refuses and
 * cron tries again a minute later).
 */
export async function confirmMasterDead(w: DeathWitnesses): Promise<DeathVerdict> {
  const windowMs = w.config.deadConfirmSeconds * 1000;
  const deadline = windowMs * 2 + SAMPLE_EVERY_MS;
  const t0 = Date.now();
  const samples: DeathSample[] = [];
  for (;;) {
    const started = Date.now();
    const [master, replicas, ssh] = await Promise.all([
      attemptMaster(w),
      Promise.all(w.replicas.map(readReplica)),
      w.ssh ? askHost(w.master, w.config.timeouts.connect) : undefined,
    ]);
    // Stamped when the sample was taken (its slowest signal), so a window is never shorter than it says.
    const sample: DeathSample = { at: Date.now() - t0, master, replicas, ...(ssh ? { ssh } : {}) };
    samples.push(sample);
    const verdict = judgeMasterDeath(samples, w.master.name, windowMs);
    w.onSample?.(sample, verdict);
    if (verdict.kind !== 'undecided' || sample.at >= deadline) return verdict;
    await new Promise((r) => setTimeout(r, Math.max(0, SAMPLE_EVERY_MS - (Date.now() - started))));
  }
}

/**
 * A fresh connection every time (an old one proves nothing about now). Errors only a running server sends
 * (too many connections, access denied, shutting down, TLS required) mean it is alive: they carry a SQL state
 * or a server error code, network failures do not.
 */
async function attemptMaster(w: DeathWitnesses): Promise<MasterAttempt> {
  let conn: SqlConnection | undefined;
  try {
    conn = await connectWithin(w.connector, w.master, w.config.timeouts.connect);
    await conn.query('SELECT 1', QUERY_MS);
    return { answered: true, healthy: true, detail: 'logged in and answered SELECT 1' };
  } catch (err) {
    const e = err as { code?: unknown; sqlState?: unknown };
    const code = typeof e.code === 'string' ? e.code : '';
    const spoke = typeof e.sqlState === 'string' || code.startsWith('ER_') || code.startsWith('HANDSHAKE_');
    const text = errorText(err);
    return { answered: spoke, healthy: false, detail: code && !text.includes(code) ? `${code}: ${text}` : text };
  } finally {
    await conn?.close();
  }
}

async function readReplica(r: DeathWitnesses['replicas'][number]): Promise<ReplicaView> {
  try {
    const [row] = await r.conn.query(r.dialect.replicaStatusSql(), QUERY_MS);
    if (!row) return { name: r.name, read: true, io: 'No', ioError: 'it no longer replicates', received: '' };
    const s = r.dialect.parseReplicaStatus(row);
    const received = formatCoordinates(s.received) + (s.gtidReceived ? ` ${s.gtidReceived}` : '');
    return { name: r.name, read: true, io: s.ioRunning, ioError: s.lastIoError, received };
  } catch (err) {
    return { name: r.name, read: false, io: '', ioError: errorText(err), received: '' };
  }
}

/**
 * Asks the master's host which process listens on the master's port and whether it is stopped (`ss` sees
 * only the host's own sockets, also in a container or network namespace; `ps` where there is no `ss`).
 * No shared SSH connection: a multiplexed one opened before a network cut would hang instead of failing.
 */
const HOST_CHECK = [
  'port=$1',
  'if command -v ss >/dev/null 2>&1; then',
  '  echo "listening $(ss -Hltn "sport = :$port" | wc -l)"',
  '  pids=$(ss -Hltnp "sport = :$port" | grep -o "pid=[0-9]*" | cut -d= -f2 | sort -u)',
  'else',
  '  pids=$(ps -C mariadbd,mysqld -o pid= 2>/dev/null)',
  '  echo "listening unknown"',
  'fi',
  'for p in $pids; do echo "process $p $(ps -o stat= -o comm= -p $p)"; done',
].join('\n');

async function askHost(host: ResolvedHost, connectTimeoutSec: number): Promise<SshView> {
  const { runRemote } = await import('../vip/remote.js');
  const r = await runRemote(host, ['sh', '-c', HOST_CHECK, 'mmmf-check', String(host.port)], connectTimeoutSec, {
    shared: false,
    timeoutSec: connectTimeoutSec + 5,
  });
  // 255: ssh itself failed (no route, refused, timed out): the host does not answer.
  if (!r.ok && (r.code === 255 || r.code === undefined)) {
    return { answered: false, mysqld: 'unknown', detail: r.out.split('\n').at(-1) || 'ssh failed' };
  }
  return { answered: true, ...readHostCheck(r.out, host.port) };
}

/** Parses HOST_CHECK's output: "listening N", then "process PID STAT COMM" lines. */
export function readHostCheck(out: string, port: number): Pick<SshView, 'mysqld' | 'detail'> {
  const listening = /^listening (\S+)/m.exec(out)?.[1];
  const procs = [...out.matchAll(/^process (\d+) (\S+) (\S+)/gm)].map((m) => ({ pid: m[1], stat: m[2]!, comm: m[3] }));
  const live = procs.filter((p) => !p.stat.startsWith('T') && !p.stat.startsWith('Z'));
  const list = procs.map((p) => `${p.comm} pid ${p.pid} state ${p.stat}`).join(', ');
  if (live.length) return { mysqld: 'running', detail: `${list} listens on port ${port}` };
  if (procs.length) return { mysqld: 'stopped', detail: `only a stopped server: ${list}` };
  if (listening === '0') return { mysqld: 'none', detail: `nothing listens on port ${port}` };
  if (listening && listening !== 'unknown') {
    return {
      mysqld: 'running',
      detail: `something listens on port ${port} (its process is not visible to the SSH user)`,
    };
  }
  return { mysqld: 'none', detail: 'no mariadbd or mysqld process' };
}

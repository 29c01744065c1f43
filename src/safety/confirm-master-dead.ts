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
  /** How many replicas the master has in the config, reachable or not: "dead" takes a majority of them. */
  voters: number;
  /** The master's datadir when mmmf last saw it alive: its server process is found by it over SSH. */
  datadir?: string | undefined;
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
      w.ssh ? askHost(w.master, w.config.timeouts.connect, w.datadir) : undefined,
    ]);
    // Stamped when the sample was taken (its slowest signal), so a window is never shorter than it says.
    const sample: DeathSample = { at: Date.now() - t0, master, replicas, ...(ssh ? { ssh } : {}) };
    samples.push(sample);
    const verdict = judgeMasterDeath(samples, w.master.name, windowMs, w.voters);
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
 * Asks the master's host for every mysqld/mariadbd process that may be the master's, listening or not (InnoDB
 * recovery after a crash takes minutes before the port opens; systemd restarts a crashed server in seconds),
 * stopped or not (a SIGSTOPped server resumes with its data). A process is the master's unless it runs in
 * another network namespace (a container: another host), or it listens only on other ports, or its working
 * directory — a server's datadir — is known to be another one. Plus whether anything listens on the port.
 * No shared SSH connection: a multiplexed one opened before a network cut would hang instead of failing.
 */
const HOST_CHECK = [
  'port=$1; datadir=$2; me=$(readlink /proc/self/ns/net 2>/dev/null)',
  'if command -v ss >/dev/null 2>&1; then echo "listening $(ss -Hltn "sport = :$port" | wc -l)"; else echo "listening unknown"; fi',
  'for p in $(ps -C mariadbd,mysqld -o pid= 2>/dev/null); do',
  '  ns=$(readlink /proc/$p/ns/net 2>/dev/null || echo unknown)',
  '  [ "$ns" = unknown ] || [ "$ns" = "$me" ] || continue',
  '  cwd=$(readlink /proc/$p/cwd 2>/dev/null || echo unknown)',
  '  ports=$(ss -Hltnp 2>/dev/null | grep "pid=$p," | awk \'{print $4}\' | sed "s/.*://" | sort -u | tr "\\n" ,)',
  '  echo "process $p $(ps -o stat= -p $p | tr -d " ") $(ps -o comm= -p $p) cwd=$cwd ports=${ports:-none}"',
  'done',
].join('\n');

async function askHost(host: ResolvedHost, connectTimeoutSec: number, datadir: string | undefined): Promise<SshView> {
  const { runRemote } = await import('../vip/remote.js');
  const argv = ['sh', '-c', HOST_CHECK, 'mmmf-check', String(host.port), datadir ?? ''];
  const r = await runRemote(host, argv, connectTimeoutSec, { shared: false, timeoutSec: connectTimeoutSec + 5 });
  // 255: ssh itself failed (no route, refused, timed out): the host does not answer.
  if (!r.ok && (r.code === 255 || r.code === undefined)) {
    return { answered: false, mysqld: 'unknown', detail: r.out.split('\n').at(-1) || 'ssh failed' };
  }
  return { answered: true, ...readHostCheck(r.out, host.port, datadir) };
}

/** Parses HOST_CHECK's output: "listening N", then "process PID STAT COMM cwd=DIR ports=P,Q," lines. */
export function readHostCheck(out: string, port: number, datadir?: string): Pick<SshView, 'mysqld' | 'detail'> {
  const listening = /^listening (\S+)/m.exec(out)?.[1];
  const procs = [...out.matchAll(/^process (\d+) (\S+) (\S+) cwd=(.*?) ports=(\S*)$/gm)].map((m) => ({
    pid: m[1],
    stat: m[2]!,
    comm: m[3],
    cwd: m[4]!,
    ports: m[5] === 'none' ? [] : m[5]!.split(',').filter(Boolean),
  }));
  const norm = (d: string) => d.replace(/\/+$/, '');
  const ours = procs.filter((p) => {
    if (p.stat.startsWith('Z')) return false;
    if (p.ports.includes(String(port))) return true;
    if (datadir && p.cwd !== 'unknown') return norm(p.cwd) === norm(datadir);
    return p.ports.length === 0; // not listening (yet): it may be the master starting up
  });
  const list = ours.map((p) => `${p.comm} pid ${p.pid} state ${p.stat}${p.ports.length ? '' : ' (not listening)'}`);
  const stopped = ours.filter((p) => p.stat.startsWith('T'));
  if (ours.length > stopped.length) return { mysqld: 'running', detail: `its server runs: ${list.join(', ')}` };
  if (ours.length)
    return { mysqld: 'stopped', detail: `its server is stopped, not gone (it may be resumed): ${list.join(', ')}` };
  if (listening && listening !== '0' && listening !== 'unknown') {
    return {
      mysqld: 'running',
      detail: `something listens on port ${port} (its process is not visible to the SSH user)`,
    };
  }
  return {
    mysqld: 'none',
    detail: listening === '0' ? `no server process, nothing listens on port ${port}` : 'no server process',
  };
}

// A real MariaDB sandbox cluster per test file, started by scripts/sandbox.sh in its own temp dir and ports,
// and always torn down (its pid files only), pass or fail.
import { execa } from 'execa';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mysql from 'mysql2/promise';
import { repoRoot, SHIPPED_BIN } from './paths.js';
import { netnsSubnet, ownerOf } from './ports.js';

export const ROOT = repoRoot();
const SANDBOX = join(ROOT, 'scripts/sandbox.sh');
/**
 * The mmmf build every test and the chaos harness run: the shipped bin, as `npm pack` ships it (the tests prove
 * what users run), or another build named by MMMF_CLI (the mutation check points it at a deliberately broken
 * copy).
 */
export const CLI = process.env.MMMF_CLI || SHIPPED_BIN;

export interface Cluster {
  dir: string;
  cfg: string;
  basePort: number;
  names: string[];
  port(name: string): number;
  /** Hosts in network namespaces (sandbox --netns): mmmf runs on the client host, every server listens on 3306. */
  netns: boolean;
  /** How a replica names this server as its source: `host:port` (its own address on the sandbox network). */
  source(name: string): string;
  /** Runs the built CLI where an operator of this sandbox would: here, or on the --netns client host. */
  cli(args: string[], env?: Record<string, string>): Promise<CliResult>;
  sandbox(...args: string[]): Promise<string>;
  connect(name: string, user?: string, password?: string): Promise<mysql.Connection>;
  query<T = Record<string, unknown>>(name: string, sql: string): Promise<T[]>;
  down(): Promise<void>;
}

export async function startCluster(opts: {
  basePort: number;
  replicas?: number;
  format?: string;
  netns?: boolean;
  positioning?: 'gtid' | 'file';
  topology?: 'flat' | 'pair' | 'tree';
  tls?: boolean;
  /** Semi-synchronous replication (sandbox --semi-sync). */
  semiSync?: boolean;
  /** mmmf's config reaches the servers over their Unix sockets (only for a test about sockets). */
  socket?: boolean;
}): Promise<Cluster> {
  const replicas = opts.replicas ?? 3;
  const owned = ownerOf(opts.basePort, replicas + 1);
  if ('error' in owned) throw new Error(`startCluster: ${owned.error}; give the suite a range in harness/ports.ts`);
  const dir = mkdtempSync(join(tmpdir(), 'mmmf-test-'));
  const base = [
    '--dir',
    dir,
    '--base-port',
    String(opts.basePort),
    '--replicas',
    String(replicas),
    '--binlog-format',
    opts.format ?? 'ROW',
    ...(opts.netns ? ['--netns'] : []),
    ...(opts.positioning ? ['--positioning', opts.positioning] : []),
    ...(opts.topology ? ['--topology', opts.topology] : []),
    ...(opts.tls ? ['--tls'] : []),
    ...(opts.semiSync ? ['--semi-sync'] : []),
    ...(opts.socket ? ['--socket'] : []),
  ];
  const sandbox = async (...args: string[]) => (await execa('bash', [SANDBOX, ...base, ...args])).stdout;
  const names = Array.from({ length: replicas + 1 }, (_, i) => `test${i + 1}`);
  const port = (name: string) => opts.basePort + Number(name.replace('test', '')) - 1;
  const subnet = netnsSubnet(opts.basePort);
  const source = (name: string) =>
    opts.netns ? `${subnet}.${10 + Number(name.replace('test', ''))}:3306` : `127.0.0.1:${port(name)}`;
  const cluster: Cluster = {
    dir,
    cfg: join(dir, 'mmmf.config.ts'),
    basePort: opts.basePort,
    names,
    port,
    netns: !!opts.netns,
    source,
    cli: (args, env = {}) => (opts.netns ? mmmfOnClient(cluster, args, env) : mmmf(args, env)),
    sandbox,
    // The harness's own observations: root over the node's socket (works whether the node listens on loopback
    // or in a network namespace). Other accounts over TCP on loopback, as an application would. mmmf itself
    // reaches the servers as its config says: over TCP unless the sandbox was made with --socket.
    connect: (name, user = 'root', password = '') =>
      mysql.createConnection({
        // In --netns mode no server listens on this host's loopback: every account over the node's socket.
        ...(user === 'root' || opts.netns
          ? { socketPath: join(dir, name, 'mariadbd.sock') }
          : { host: '127.0.0.1', port: port(name) }),
        user,
        password,
        connectTimeout: 3000,
        supportBigNumbers: true,
        bigNumberStrings: true,
      }),
    async query<T>(name: string, sql: string) {
      const c = await cluster.connect(name);
      try {
        const [rows] = await c.query(sql);
        return rows as T[];
      } finally {
        await c.end();
      }
    },
    async down() {
      await sandbox('down').catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    await sandbox('up');
  } catch (err) {
    await cluster.down();
    throw err;
  }
  return cluster;
}

export interface CliResult {
  /** -1 when the process was killed by a signal (see `signal`). */
  exitCode: number;
  signal?: string;
  stdout: string;
  stderr: string;
}

/** Runs the built CLI exactly as an operator would (no TTY, so plain output). */
export async function mmmf(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  const r = await execa('node', [CLI, ...args], { reject: false, env: { NO_COLOR: '1', ...env }, timeout: 600_000 });
  return {
    exitCode: r.exitCode ?? -1,
    ...(r.signal ? { signal: r.signal } : {}),
    stdout: String(r.stdout),
    stderr: String(r.stderr),
  };
}

/** Runs the built CLI on a --netns sandbox's client host (its own network namespace), as an operator there would. */
export async function mmmfOnClient(c: Cluster, args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  const vars = Object.entries(env).map(([k, v]) => `${k}=${v}`);
  // A deadline like mmmf()'s. GNU timeout signals its whole process group: the node inside the client's
  // namespace too, which an execa timeout (killing only bash) would leave running, holding the pipes.
  const r = await execa(
    'timeout',
    [
      '--kill-after=10',
      '600',
      'bash',
      SANDBOX,
      '--dir',
      c.dir,
      'client',
      'env',
      'NO_COLOR=1',
      ...vars,
      'node',
      CLI,
      ...args,
    ],
    { reject: false },
  );
  return {
    exitCode: r.exitCode ?? -1,
    ...(r.signal ? { signal: r.signal } : {}),
    stdout: String(r.stdout),
    stderr: String(r.stderr),
  };
}

/** Everything that says where a server is in replication: equal before/after means nothing was changed. */
export async function replicationSnapshot(c: Cluster, names: string[]): Promise<Record<string, unknown>> {
  const snap: Record<string, unknown> = {};
  for (const n of names) await settled(c, n);
  for (const n of names) {
    const [v] = await c.query(n, 'SELECT @@read_only AS ro, @@gtid_slave_pos AS slave, @@gtid_binlog_pos AS binlog');
    const [s] = await c.query(n, 'SHOW SLAVE STATUS');
    snap[n] = {
      ...v,
      source: s ? `${s.Master_Host}:${s.Master_Port}` : null,
      // An IO thread that stopped on an error of its own (a master back from a crash that cut a row event in
      // half: error 1595, seed 70380) was not stopped by anyone: only a clean stop counts as 'No'.
      io: s ? (s.Slave_IO_Running === 'No' && !Number(s.Last_IO_Errno) ? 'No' : 'Yes/Connecting/failed') : null,
      sql: s?.Slave_SQL_Running ?? null,
      read: s ? `${s.Master_Log_File}:${s.Read_Master_Log_Pos}` : null,
      exec: s ? `${s.Relay_Master_Log_File}:${s.Exec_Master_Log_Pos}` : null,
      useGtid: s?.Using_Gtid ?? null,
    };
  }
  return snap;
}

/**
 * A replica whose SQL thread is still applying what it read (right after a load, or after START SLAVE by GTID,
 * when the executed position reads file:4 until the first event) is waited for, at most 5 s: that is replication
 * moving, not a change anyone made, and two snapshots around a refused run must not differ by it. A delayed
 * replica, or one whose relay log ends in half a transaction, is taken as it is after the wait.
 */
async function settled(c: Cluster, name: string): Promise<void> {
  const end = Date.now() + 5000;
  while (Date.now() < end) {
    const [s] = await c.query<Record<string, string>>(name, 'SHOW SLAVE STATUS');
    const applying =
      !!s &&
      s.Slave_SQL_Running === 'Yes' &&
      Number(s.SQL_Delay ?? 0) === 0 &&
      `${s.Relay_Master_Log_File}:${s.Exec_Master_Log_Pos}` !== `${s.Master_Log_File}:${s.Read_Master_Log_Pos}`;
    if (!applying) return;
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** CHECKSUM of every user table plus row counts, to prove servers hold identical data. */
export async function dataFingerprint(c: Cluster, name: string): Promise<string> {
  const tables = await c.query<{ t: string }>(
    name,
    "SELECT CONCAT(TABLE_SCHEMA, '.', TABLE_NAME) AS t FROM information_schema.TABLES WHERE TABLE_SCHEMA NOT IN ('mysql', 'sys', 'performance_schema', 'information_schema') ORDER BY 1",
  );
  const parts: string[] = [];
  for (const { t } of tables) {
    const [row] = await c.query<{ Checksum: string }>(name, `CHECKSUM TABLE ${t} EXTENDED`);
    const [cnt] = await c.query<{ n: string }>(name, `SELECT COUNT(*) AS n FROM ${t}`);
    parts.push(`${t}=${row?.Checksum}/${cnt?.n}`);
  }
  return parts.join(' ');
}

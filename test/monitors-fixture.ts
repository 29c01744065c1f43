// Several monitor hosts on one machine: each monitor is its own config (its own state folder) naming the same
// cluster and the same etcd, and runs the built CLI as its systemd timer would. Also a ledger writer that
// follows the writable server and can be paused, so a test knows every write acknowledged before a kill.
import { execa } from 'execa';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CLI, type Cluster } from '../harness/cluster.js';
import type { EtcdCluster } from '../harness/etcd.js';
import { decodeJournal } from '../src/state/etcd-keys.js';
import { readUnfinished, type UnfinishedRun } from '../src/executor/journal.js';

export interface MonitorRun {
  monitor: string;
  pid: number;
  exitCode: number;
  /** SIGKILL and friends, when a fault killed it. */
  signal: string | undefined;
  stdout: string;
  stderr: string;
}

/** Writes `<dir>/<name>.config.ts`: the sandbox's config, a state folder of its own, the cluster in etcd. */
export function monitorConfig(
  c: Cluster,
  name: string,
  cluster: string,
  etcd: Record<string, unknown>,
  extra: Record<string, unknown> = {},
): string {
  const path = join(c.dir, `${name}.config.ts`);
  const settings = {
    cluster,
    stateDir: `state-${name}`,
    deadConfirmSeconds: 0,
    antiFlapMinutes: 0,
    coordination: { etcd },
    ...extra,
  };
  writeFileSync(
    path,
    `import base from './mmmf.config.ts';\nexport default { ...base, ...${JSON.stringify(settings)} };\n`,
  );
  return path;
}

/** One run of a monitor, as its timer starts it (no TTY, plain output). */
export async function runMonitor(
  monitor: string,
  cfg: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<MonitorRun> {
  const child = execa('node', [CLI, '--cfg', cfg, ...args], {
    reject: false,
    env: { NO_COLOR: '1', ...env },
    timeout: 120_000,
  });
  const r = await child;
  return {
    monitor,
    pid: child.pid ?? 0,
    exitCode: r.exitCode ?? -1,
    signal: r.signal ?? undefined,
    stdout: String(r.stdout),
    stderr: String(r.stderr),
  };
}

/** What an operator reads with `etcdctl get --print-value-only KEY` ('' when absent). */
export async function etcdValue(etcd: EtcdCluster, key: string): Promise<string> {
  return (await etcd.etcdctl('get', '--print-value-only', key)).trim();
}

/** The unfinished run recorded in etcd for `cluster` (prefix /mmmf), if any. */
export async function etcdUnfinished(etcd: EtcdCluster, cluster: string): Promise<UnfinishedRun | undefined> {
  const raw = await etcdValue(etcd, `/mmmf/clusters/${cluster}/run`);
  return raw ? readUnfinished(decodeJournal(Buffer.from(raw))) : undefined;
}

/** The published master's name in etcd, and what orchestrator's layout holds beside it. */
export async function published(etcd: EtcdCluster, cluster: string) {
  const master = JSON.parse((await etcdValue(etcd, `/mmmf/clusters/${cluster}/master`)) || '{}') as {
    name?: string;
    host?: string;
    port?: number;
  };
  return { ...master, orchestrator: await etcdValue(etcd, `mysql/master/${cluster}`) };
}

/**
 * One ledger row per transaction, to whichever server takes it (the app account: read_only servers refuse),
 * so it follows the master through failovers. `pause()` resolves once no write is in flight: every write
 * acknowledged so far is in `acked`, and none is made until `resume()`.
 */
export function ledgerWriter(c: Cluster, writer = 7) {
  const acked = new Set<string>();
  let running = true;
  let paused = false;
  let idle = true;
  const done = (async () => {
    let seq = 0;
    while (running) {
      for (const n of c.names) {
        if (!running) break;
        if (paused) {
          idle = true;
          await new Promise((r) => setTimeout(r, 20));
          continue;
        }
        let conn;
        try {
          conn = await c.connect(n, 'app', 'app-secret');
          conn.on('error', () => {});
          while (running && !paused) {
            idle = false;
            seq++;
            await conn.query('INSERT INTO sbtest.ledger (writer, seq) VALUES (?, ?)', [writer, seq]);
            acked.add(`${writer}:${seq}`);
          }
        } catch {
          // read-only, killed or down: the next server
        } finally {
          conn?.destroy();
          idle = true;
        }
      }
    }
  })();
  return {
    acked,
    async pause() {
      paused = true;
      while (!idle) await new Promise((r) => setTimeout(r, 10));
    },
    resume() {
      paused = false;
    },
    async stop() {
      running = false;
      await done;
    },
  };
}

/** The sequence number of the newest domain-0 transaction in a GTID position ('0-2-345' → 345). */
export const seqOf = (gtid: string | undefined) => Number(/(?:^|,)0-\d+-(\d+)/.exec(gtid ?? '')?.[1] ?? 0);

/** Every replica of `master` has received (not necessarily applied) everything it wrote. */
export async function everythingReceived(c: Cluster, master: string): Promise<boolean> {
  const [m] = await c.query<{ g: string }>(master, 'SELECT @@gtid_binlog_pos AS g');
  const want = seqOf(m?.g);
  for (const n of c.names.filter((x) => x !== master)) {
    const [s] = await c.query<{ Gtid_IO_Pos: string }>(n, 'SHOW SLAVE STATUS');
    if (seqOf(s?.Gtid_IO_Pos) < want) return false;
  }
  return true;
}

/** The one server that is writable (the master), or undefined when none or several are. */
export async function writableServer(c: Cluster, among = c.names): Promise<string | undefined> {
  const writable: string[] = [];
  for (const n of among) {
    try {
      const [r] = await c.query<{ ro: number }>(n, 'SELECT @@read_only AS ro');
      if (Number(r?.ro) === 0) writable.push(n);
    } catch {
      // down
    }
  }
  return writable.length === 1 ? writable[0] : undefined;
}

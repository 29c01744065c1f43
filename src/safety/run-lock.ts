import { createHash } from 'node:crypto';
import { readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { ensurePrivateDir, PRIVATE_FILE } from '../state/state-files.js';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { runLockSql } from '../dialect/dialect.js';
import { UnsafeError } from '../errors.js';
import type { ResolvedConfig } from '../topology/config-types.js';
import type { SqlConnection } from '../topology/connection.js';

/** A cluster is named by its sorted host:port list, so every config describing it shares one lock. */
export function clusterId(config: ResolvedConfig): string {
  const key = config.hosts
    .map((h) => `${h.host}:${h.port}`)
    .sort()
    .join(',');
  return createHash('sha256').update(key).digest('hex').slice(0, 16);
}

export const runLockName = (config: ResolvedConfig) => `mmmf:${clusterId(config)}`;

interface LocalHolder {
  pid: number;
  host: string;
  started: string;
  command: string;
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Takes the local lock file (O_EXCL). A lock left by a dead process on this machine is taken over; one held
 * by a live process (or by another machine, which we cannot check) makes the run refuse, naming the holder.
 * Returns the release function.
 */
export function acquireLocalLock(
  config: ResolvedConfig,
  command: string,
): { release: () => void; tookOverFromDeadRun: boolean } {
  ensurePrivateDir(config.stateDir);
  const file = join(config.stateDir, `${clusterId(config)}.lock`);
  const me: LocalHolder = { pid: process.pid, host: hostname(), started: new Date().toISOString(), command };
  let tookOverFromDeadRun = false;
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(file, JSON.stringify(me) + '\n', { flag: 'wx', mode: PRIVATE_FILE });
      const release = () => {
        try {
          unlinkSync(file);
        } catch {
          // already gone: nothing to release
        }
      };
      return { release, tookOverFromDeadRun };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      let holder: LocalHolder | undefined;
      // A run starting this very moment has created the file but maybe not written it yet: look again shortly.
      for (let look = 0; look < 5 && !holder; look++) {
        try {
          holder = JSON.parse(readFileSync(file, 'utf8')) as LocalHolder;
        } catch {
          holder = undefined;
          Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
        }
      }
      const stale = holder && holder.host === hostname() && !pidAlive(holder.pid);
      if (!stale) {
        throw new UnsafeError("another mmmf run holds this cluster's lock: refusing, nothing was changed", [
          holder
            ? `held by pid ${holder.pid} on ${holder.host} since ${holder.started}: ${holder.command}`
            : `lock file ${file} (unreadable)`,
          `wait for it to finish; if that process is gone, remove ${file}`,
        ]);
      }
      unlinkSync(file);
      tookOverFromDeadRun = true;
    }
  }
  throw new UnsafeError(`could not take the lock file ${file}`, [
    'another mmmf run is starting at the same moment; try again',
  ]);
}

/**
 * Takes the advisory lock on every reachable server, on the connections the run uses, so a run on another
 * machine sees it too and it vanishes if this process dies. Refuses (naming the holder) when any server says
 * another connection holds it.
 */
export async function acquireServerLocks(
  config: ResolvedConfig,
  conns: Map<string, SqlConnection>,
  waitSeconds = 0,
): Promise<void> {
  const name = runLockName(config);
  const held: string[] = [];
  await Promise.all(
    [...conns].map(async ([host, conn]) => {
      const [row] = await conn.query(runLockSql.acquire(name, waitSeconds), 10_000 + waitSeconds * 1000);
      if (Number(row?.r) === 1) return;
      const [h] = await conn.query(runLockSql.holder(name), 10_000);
      const id = Number(h?.holder);
      const [info] = id ? await conn.query(runLockSql.connectionInfo(id), 10_000) : [];
      held.push(
        `${host}: held by connection ${id || '?'}${info ? ` (${info.user}@${info.host}, for ${info.seconds} s)` : ''}`,
      );
    }),
  );
  if (held.length) {
    throw new UnsafeError('another mmmf run is working on this cluster: refusing, nothing was changed', [
      ...held,
      'wait for it to finish (its lock is released when its connections close)',
    ]);
  }
}

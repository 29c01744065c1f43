import { join } from 'node:path';
import type { SalvageSlice } from '../binlog/binlog-file/salvage-types.js';
import { decodeSlice, applySqlFile, salvageWorkDir, writeOptionFile } from './salvage-apply.js';
import { WRITE_MS } from './server-reads.js';
import type { ActionContext, Handler, SalvageStart } from './types.js';

type SalvageStep = Parameters<Handler<'salvage'>>[0];

/**
 * The apply itself, in the order that makes it safe: every slice decoded (a decoder that fails applies nothing)
 * while the old master's host is proved once more to run no server, the start journaled, then each file
 * applied in a session of its own, in order.
 */
export async function applySalvage(
  step: SalvageStep,
  ctx: ActionContext,
  o: {
    slices: SalvageSlice[];
    prove: () => Promise<string>;
    /** The start to journal (absent when resuming: it is journaled already). */
    journal?: SalvageStart;
    /** Marks where the time went (decode, prove, apply). */
    lap?: (name: string, detail?: string) => void;
    /** MySQL with super_read_only on: lifted around the apply, set again afterwards. */
    superReadOnly?: { off: string; on: string };
  },
): Promise<void> {
  const conn = ctx.conn(step.host);
  const d = ctx.dialect(step.host);
  const best = ctx.config.hosts.find((h) => h.name === step.host);
  if (!best) throw new Error(`no host ${step.host} in the config`);
  const seconds = ctx.config.timeouts.equalize;
  const work = salvageWorkDir(ctx.config.stateDir);
  try {
    // Each side's own time, in the step's laps: the slower of the two is what to make faster.
    const took = { decode: 0, prove: 0, batch: 0 };
    const timed = async <T>(side: 'decode' | 'prove', fn: () => Promise<T>): Promise<T> => {
      const t = performance.now();
      try {
        return await fn();
      } finally {
        took[side] = Math.round(performance.now() - t);
      }
    };
    const decodeAll = async () => {
      const files: string[] = [];
      for (const [i, slice] of o.slices.entries()) {
        const file = join(work.dir, `${i + 1}.sql`);
        took.batch += (await decodeSlice(d.version, slice, file, seconds)).batchMs;
        files.push(file);
      }
      return files;
    };
    // The host is proved again while the files decode (neither changes anything; both must pass before the apply).
    const proveAgain = async () => {
      await ctx.fault('salvage:read');
      await o.prove();
    };
    const [decoded, proved] = await Promise.allSettled([timed('decode', decodeAll), timed('prove', proveAgain)]);
    // The proof's failure first: a server running again stops the failover, a decoder failure only the salvage.
    if (proved.status === 'rejected') throw proved.reason;
    if (decoded.status === 'rejected') throw decoded.reason;
    const files = decoded.value;
    const optionFile = join(work.dir, 'client.cnf');
    writeOptionFile(d.version, best, optionFile);
    const batch = Math.round(took.batch);
    o.lap?.(
      'decode and no server again',
      `decode ${took.decode} ms, batching ${batch} ms of it; no server ${took.prove} ms`,
    );
    if (o.journal) await ctx.checkpoint({ salvageStart: o.journal });
    if (o.superReadOnly) await conn.query(o.superReadOnly.off, WRITE_MS);
    try {
      for (const sqlFile of files) {
        await applySqlFile(d.version, {
          optionFile,
          sqlFile,
          timeoutSec: seconds,
          started: () => ctx.fault('salvage:applying'),
        });
        await ctx.fault('salvage:file-applied');
      }
      o.lap?.('apply');
    } finally {
      if (o.superReadOnly) await conn.query(o.superReadOnly.on, WRITE_MS);
    }
  } finally {
    work.remove();
  }
}

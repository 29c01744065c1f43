/**
 * Where a cluster's coordination state lives in etcd, and how each value is written. Values are JSON (the journal
 * JSON Lines, as the local journal file holds it), so an operator can read them with `etcdctl get`.
 *
 * ```
 * <prefix>/clusters/<cluster>/lock              leased; {"runId","host","pid","command","started","step"}
 * <prefix>/clusters/<cluster>/run               the unfinished run's journal (JSON Lines)
 * <prefix>/clusters/<cluster>/antiflap          {"finished","target","ok"}
 * <prefix>/clusters/<cluster>/offline           ["db3", ...]
 * <prefix>/clusters/<cluster>/master            {"name","host","port","epoch","at"}
 * <prefix>/clusters/<cluster>/history/<epoch>   a finished run's journal
 * mysql/master/<cluster>[/hostname|/port]       orchestrator's layout, only with publishOrchestratorKeys
 * ```
 */
import type { JournalLine, RunHolder } from './cluster-store.js';

export interface ClusterKeys {
  /** Every key of the cluster starts with this (ends with '/'). */
  base: string;
  lock: string;
  run: string;
  antiFlap: string;
  offline: string;
  master: string;
  history(epoch: string): string;
  /** orchestrator's `mysql/master/<cluster>` (host:port), with `/hostname` and `/port` beside it. */
  orchestrator: string;
}

export function clusterKeys(prefix: string, cluster: string): ClusterKeys {
  const base = `${prefix.replace(/\/+$/, '')}/clusters/${cluster}/`;
  return {
    base,
    lock: `${base}lock`,
    run: `${base}run`,
    antiFlap: `${base}antiflap`,
    offline: `${base}offline`,
    master: `${base}master`,
    history: (epoch) => `${base}history/${epoch}`,
    orchestrator: `mysql/master/${cluster}`,
  };
}

/** The lock key's value: who holds it, and which step it is at (for another monitor's refusal message). */
export type LockValue = RunHolder & { step?: number };

export function encodeLock(value: LockValue): Buffer {
  return Buffer.from(JSON.stringify(value));
}

/** A lock value that does not parse (written by hand?) still names a holder: the lock is held all the same. */
export function decodeLock(raw: Buffer): LockValue {
  try {
    const v = JSON.parse(raw.toString('utf8')) as Partial<LockValue>;
    return {
      runId: String(v.runId ?? 'unknown'),
      host: String(v.host ?? 'unknown'),
      pid: Number(v.pid ?? 0),
      command: String(v.command ?? ''),
      started: String(v.started ?? ''),
      ...(typeof v.step === 'number' ? { step: v.step } : {}),
    };
  } catch {
    return { runId: 'unknown', host: 'unknown', pid: 0, command: '(unreadable lock value)', started: '' };
  }
}

export function encodeJournal(lines: readonly JournalLine[]): Buffer {
  return Buffer.from(lines.map((l) => JSON.stringify(l) + '\n').join(''));
}

/** JSON Lines back to records; a line that does not parse is skipped (as the local journal reader does). */
export function decodeJournal(raw: Buffer): JournalLine[] {
  const lines: JournalLine[] = [];
  for (const text of raw.toString('utf8').split('\n')) {
    if (!text.trim()) continue;
    try {
      const v = JSON.parse(text) as unknown;
      if (v && typeof v === 'object' && typeof (v as JournalLine).type === 'string') lines.push(v as JournalLine);
    } catch {
      // not a record: skipped
    }
  }
  return lines;
}

export function encodeJson(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value));
}

/** A JSON value, or undefined when absent or unreadable (the caller treats both as "no record"). */
export function decodeJson<T>(raw: Buffer | undefined): T | undefined {
  if (!raw) return undefined;
  try {
    return JSON.parse(raw.toString('utf8')) as T;
  } catch {
    return undefined;
  }
}

import type { ChalkInstance } from 'chalk';

/** What `status` and `check` say about the cluster's store. Example: `{ store: 'files in /root/.local/state/mmmf/clusters/name-orders', holder: undefined, ... }` */
export interface CoordinationView {
  store: string;
  /** Who holds the lock now, and at which step. */
  holder?: string;
  /** An unfinished run: what it was doing, and how to finish or undo it. */
  unfinished?: { text: string; fix: string; minutes: number };
  lastFailover?: string;
  published?: { name: string; host: string; port: number; at: string; epoch: string };
  /** Hosts set offline (out of reader roles). */
  offline?: string[];
  /** The store could not be read (etcd down): said, never hidden. */
  error?: string;
  /** `check`: the store refused a write a run would make (etcd permissions, a full database, a folder). */
  writeError?: string;
}

/** The cluster's store in `status`: who acts, an unfinished run (yellow, red when old), the last failover, the published master. */
export function renderCoordination(v: CoordinationView, c: ChalkInstance): string {
  const L = [c.bold('Coordination') + c.dim(`  ${v.store}`)];
  if (v.error) return [...L, c.red(`  ✖ the store cannot be read: ${v.error}`)].join('\n');
  L.push(`  lock             ${v.holder ? c.yellow(`held by ${v.holder}`) : c.dim('free')}`);
  if (v.unfinished) {
    const old = v.unfinished.minutes >= 60;
    const paint = old ? c.red : c.yellow;
    L.push(paint(`  unfinished run   ${v.unfinished.text}, last written ${v.unfinished.minutes.toFixed(0)} min ago`));
    L.push(c.dim(`                   ${v.unfinished.fix}`));
  }
  L.push(`  last failover    ${v.lastFailover ?? c.dim('none recorded')}`);
  const p = v.published;
  L.push(`  published master ${p ? `${p.name} (${p.host}:${p.port}) at ${p.at}` : c.dim('none')}`);
  if (v.offline?.length) L.push(`  offline          ${v.offline.join(', ')}`);
  return L.join('\n');
}

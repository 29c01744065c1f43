import type { ChalkInstance } from 'chalk';
import type { HostState } from '../domain/server-state.js';

/**
 * `status`'s line about a server's semi-synchronous replication, when either side is on (or it still waits as a
 * master): what is configured and what the counters say is really happening.
 *
 * @example 'semi-sync master ON, status ON, 2 clients, timeout 3000 ms, AFTER_SYNC'
 */
export function semiSyncLine(s: HostState, c: ChalkInstance): string | undefined {
  const m = s.semiSync?.master;
  const r = s.semiSync?.replica;
  const parts: string[] = [];
  if (m?.enabled || m?.status) {
    const settings = [
      m.timeoutMs !== undefined ? `timeout ${m.timeoutMs} ms` : '',
      m.waitPoint ?? '',
      m.waitForCount !== undefined && m.waitForCount > 1 ? `${m.waitForCount} acks` : '',
      m.waitNoReplica === false ? c.yellow('no wait without replicas') : '',
    ].filter(Boolean);
    const status = m.status ? c.green('status ON') : c.yellow('status OFF (asynchronous now)');
    const clients = `${m.clients} client${m.clients === 1 ? '' : 's'}`;
    parts.push(`semi-sync ${m.names} ON, ${status}, ${clients}${settings.length ? `, ${settings.join(', ')}` : ''}`);
  }
  if (r?.enabled) {
    const acking = r.status ? c.green('acknowledging') : c.yellow('not acknowledging');
    parts.push(`semi-sync ${r.names} ON, ${acking}`);
  }
  return parts.length ? parts.join('  ') : undefined;
}

import type { ChalkInstance } from 'chalk';
import { formatCoordinates } from '../binlog/coordinates.js';
import { matchSource } from '../topology/identity.js';
import type { HostState } from '../domain/server-state.js';
import { semiSyncLine } from './semi-sync-text.js';

interface Node {
  label: string;
  state?: HostState;
  children: Node[];
  /** Its side of a master-master pair, and the other side. */
  pair?: { side: 'active' | 'passive'; partner: string };
}

/**
 * Arranges probed hosts as master → replicas trees. A replica hangs under the configured host it replicates
 * from, matched by identity (server_id while connected, else address); a source that is no reachable
 * configured host becomes a placeholder root.
 */
export function topologyForest(states: HostState[]): Node[] {
  const nodes = new Map(states.map((s) => [s.name, { label: s.name, state: s, children: [] as Node[] }]));
  const roots: Node[] = [];
  const placeholders = new Map<string, Node>();
  // The writable side of a master-master pair last: its partner then hangs under it, and it becomes the root.
  const order = [...states].sort((a, b) => Number(a.readOnly === false) - Number(b.readOnly === false));
  for (const s of order) {
    const node = nodes.get(s.name)!;
    if (!s.reachable) continue;
    const m = s.replica ? matchSource(s.replica, states) : undefined;
    const parent = m?.name ? states.find((x) => x.name === m.name && x.reachable) : undefined;
    if (m && parent && parent !== s && !isAncestor(nodes, s, parent)) nodes.get(parent.name)!.children.push(node);
    else if (m && !parent) {
      let ph = placeholders.get(m.key);
      if (!ph) {
        const known = m.name ? states.find((x) => x.name === m.name) : undefined;
        ph = { label: known ? known.name : m.address, ...(known ? { state: known } : {}), children: [] };
        placeholders.set(m.key, ph);
        roots.push(ph);
      }
      ph.children.push(node);
    } else roots.push(node);
  }
  markPairs(roots);
  return roots;
}

/** A root that replicates from one of its own children is the active side of a pair; that child the passive. */
function markPairs(roots: Node[]): void {
  for (const root of roots) {
    const s = root.state;
    if (!s?.replica) continue;
    const partner = root.children.find((ch) => ch.state?.replica && ch.state.name === sourceName(s, root));
    if (!partner?.state) continue;
    root.pair = { side: 'active', partner: partner.state.name };
    partner.pair = { side: 'passive', partner: s.name };
  }
}

function sourceName(s: HostState, root: Node): string | undefined {
  const all = [root.state!, ...root.children.map((ch) => ch.state).filter((x): x is HostState => !!x)];
  return s.replica ? matchSource(s.replica, all).name : undefined;
}

// Master-master pairs point at each other; the tree hangs the passive side under the active one only once.
function isAncestor(nodes: Map<string, Node>, s: HostState, candidate: HostState): boolean {
  const walk = (n: Node): boolean => n.children.some((c) => c.state === candidate || walk(c));
  return walk(nodes.get(s.name)!);
}

/** `mmmf status` as a tree: master → replicas, with threads, lag, positions and errors. */
export function renderStatus(states: HostState[], c: ChalkInstance, source: string): string {
  const lines: string[] = [c.bold(`Cluster ${source}`), ''];
  const forest = topologyForest(states);
  const draw = (n: Node, prefix: string, last: boolean, root: boolean) => {
    const branch = root ? '' : last ? '└─ ' : '├─ ';
    const cont = root ? '' : last ? '   ' : '│  ';
    const [head, ...rest] = describe(n, c);
    lines.push(prefix + branch + head);
    for (const r of rest) lines.push(prefix + cont + (n.children.length ? '│  ' : '   ') + r);
    n.children.forEach((ch, i) => draw(ch, prefix + cont, i === n.children.length - 1, false));
  };
  for (const r of forest) {
    draw(r, '', true, true);
    lines.push('');
  }
  const down = states.filter((s) => !s.reachable && !forest.some((r) => r.state === s));
  if (down.length) {
    lines.push(c.bold('Unreachable'));
    for (const s of down) lines.push(`  ${c.red('✖')} ${s.name} ${c.dim(s.address)}  ${s.error}`);
  }
  return lines.join('\n').trimEnd();
}

function describe(n: Node, c: ChalkInstance): string[] {
  const s = n.state;
  if (!s) return [`${c.red('✖')} ${n.label} ${c.dim('(not in the config)')} — unreachable old master?`];
  if (!s.reachable) return [`${c.red('✖')} ${c.bold(s.name)} ${c.dim(s.address)} ${c.red('unreachable')}: ${s.error}`];
  const v = s.version
    ? `${s.version.flavor === 'mariadb' ? 'MariaDB' : 'MySQL'} ${s.version.major}.${s.version.minor}.${s.version.patch}`
    : '';
  const role = n.pair ? `${n.pair.side} master ${c.cyan('⇄')} ${n.pair.partner}` : s.replica ? 'replica' : 'master';
  const rw = s.readOnly ? c.dim(s.superReadOnly ? 'super_read_only' : 'read_only') : c.yellow('writable');
  const head = [`${c.green('●')} ${c.bold(s.name)}`, c.dim(s.address), v, role, rw];
  const out: string[] = [];
  if (s.replica) {
    const r = s.replica;
    const io = r.ioRunning === 'Yes' ? c.green('IO Yes') : c.red(`IO ${r.ioRunning}`);
    const sql = r.sqlRunning ? c.green('SQL Yes') : c.red('SQL No');
    const lag =
      r.secondsBehind === null ? c.dim('lag -') : r.secondsBehind > 0 ? c.yellow(`lag ${r.secondsBehind}s`) : 'lag 0s';
    head.push(io, sql, lag);
    if (r.sqlDelay > 0) head.push(c.yellow(`delayed ${r.sqlDelay}s (MASTER_DELAY)`));
    out.push(head.join('  '));
    out.push(
      c.dim(
        `received ${formatCoordinates(r.received)}  executed ${formatCoordinates(r.executed)}  ` +
          `gtid ${s.gtidApplied || '-'}  using_gtid ${r.gtidMode}`,
      ),
    );
    if (r.lastIoError) out.push(c.red(`IO error: ${r.lastIoError}`));
    if (r.lastSqlError) out.push(c.red(`SQL error: ${r.lastSqlError}`));
  } else {
    out.push(head.join('  '));
  }
  const gtidLabel =
    s.version?.flavor === 'mysql' ? (s.gtidEnabled ? 'gtid_executed' : 'gtid_mode OFF') : 'gtid_binlog_pos';
  const bl = s.logBin
    ? `binlog ${formatCoordinates(s.binlog)}  ${gtidLabel} ` +
      `${s.gtidEnabled === false ? '' : s.gtidBinlog || '-'}  ${s.binlogFormat}`
    : 'binlog OFF';
  out.push(c.dim(`${bl}  server_id ${s.serverId}  ${s.clientConnections ?? 0} client conn`));
  const semi = semiSyncLine(s, c);
  if (semi) out.push(semi);
  return out;
}

/** What `status` shows about VIPs: who holds each, who could not be asked, and why a host holds no reader VIP. */
export interface VipView {
  writer: string;
  readers: string[];
  holders: { byVip: Map<string, string[]>; unknown: string[] };
  offline: string[];
  why: Map<string, string>;
}

export function renderVips(v: VipView, c: ChalkInstance): string {
  const L = [c.bold('VIPs')];
  const who = (vip: string) => {
    const hs = v.holders.byVip.get(vip) ?? [];
    if (hs.length === 1) return hs[0]!;
    return hs.length ? c.red(`${hs.join(', ')} (more than one holder!)`) : c.yellow('on no host');
  };
  L.push(`  writer  ${v.writer.padEnd(18)} ${who(v.writer)}`);
  for (const r of v.readers) L.push(`  reader  ${r.padEnd(18)} ${who(r)}`);
  const holding = new Set(v.readers.flatMap((r) => v.holders.byVip.get(r) ?? []));
  for (const [name, why] of v.why) {
    if (v.readers.length && !holding.has(name)) L.push(c.dim(`  ${name} holds no reader VIP: ${why}`));
  }
  if (v.offline.length) L.push(c.dim(`  offline (mmmf online NAME): ${v.offline.join(', ')}`));
  if (v.holders.unknown.length)
    L.push(c.yellow(`  not reachable over SSH, not checked: ${v.holders.unknown.join(', ')}`));
  return L.join('\n');
}

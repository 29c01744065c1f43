// Every port range a live suite, the chaos harness or the bench uses, in one place: two runs on one machine
// (two test files at a time, or a suite beside the bench) must never start servers on each other's ports.
// A range is held by its owner for its whole life; test/unit/port-ranges.test.ts checks that no two ranges
// overlap and that no port number is written anywhere else in test/ or harness/. A cluster takes its base
// port and the ports after it (test1 = base, test2 = base + 1, ...); startCluster refuses one that does not
// fit in a range of its own. In --netns mode the base port also names the sandbox's namespaces and subnet.

import { readFileSync, writeFileSync } from 'node:fs';

export interface PortRange {
  first: number;
  last: number;
  /** The sandbox runs its hosts in network namespaces: its subnet derives from `first`. */
  netns?: boolean;
}

const range = (first: number, size = 10, netns = false): PortRange => ({
  first,
  last: first + size - 1,
  ...(netns ? { netns: true } : {}),
});

export const PORTS = {
  /** scripts/sandbox.sh's default (scripts/demo.sh, a sandbox by hand). */
  'sandbox-default': range(33001),
  'demo-pair': range(33011),
  'failover-crash': range(33101),
  /** Its last port is where nothing listens (a replica pointed at a server outside the config). */
  refusals: range(33111),
  'live-master': range(33121),
  'paused-replicas': range(33131),
  'partial-failure': range(33141),
  'chaos-short': range(33151),
  'run-lock': range(33161),
  check: range(33171),
  'hooks-and-log': range(33181),
  'kill-and-resume-gtid': range(33191, 4),
  abort: range(33195, 6),
  switchover: range(33211),
  'vip-netns': range(33221, 10, true),
  'file-positioning-row': range(33241),
  'file-positioning-statement': range(33251),
  'file-positioning-mixed': range(33261),
  'kill-and-resume-file': range(33271),
  /** `npm run chaos` (any --base-port inside it; the mutation check runs chaos here too). */
  chaos: range(33301, 99),
  'replica-states-gtid': range(33401),
  'replica-states-file': range(33411),
  'if-dead': range(33431),
  'pair-gtid': range(33451),
  'tree-gtid': range(33461),
  'tree-file': range(33471),
  'reader-vips': range(33481, 10, true),
  'pair-file': range(33491),
  'session-settings': range(33501),
  tls: range(33511),
  'silent-master': range(33521, 10, true),
  'power-loss': range(33541, 10, true),
  'semi-sync': range(33561),
  'salvage-file': range(33571, 10, true),
  /** `npm run bench`'s salvage figures (a dead master's binlog read over SSH). */
  'bench-salvage': range(33581, 10, true),
  /** `npm run bench`: up to 20 replicas (21 servers). */
  bench: range(33601, 30),
  'salvage-gtid': range(33641, 10, true),
  'split-netns': range(33681, 10, true),
  'writers-back': range(33691),
  writers: range(33701),
  'writers-read-only': range(33711),
  'resume-old-back': range(33721),
  'resume-stale': range(33731),
  /** Three monitor hosts over one etcd (issue 20): the 20 rounds, etcd stopped and frozen. */
  monitors: range(33741),
  /** Monitors over a 3-member etcd, and check's etcd permissions. */
  'monitors-quorum': range(33751),
  /** `npm run bench`'s monitors row: the acting monitor killed mid-failover. */
  'bench-monitors': range(33761),
  /** A step failed half-way (the statement-sent fault point): the named next command finishes the failover. */
  'half-done-steps': range(33771),
  /** The salvage's statement batches answered whole by a real server (test/integration/salvage-batch). */
  'salvage-batch': range(33781),
  /** Unit tests of the remote binlog commands: local listeners, no server. */
  'binlog-remote-unit': range(33990),
  /** etcd members of the coordination-state tests (not MariaDB). */
  etcd: range(34001, 99),
} as const satisfies Record<string, PortRange>;

export type PortOwner = keyof typeof PORTS;

/** Where each etcd suite's members start inside the etcd range (member i: +2i clients, +2i+1 peers). */
export const ETCD_PORTS = {
  store: PORTS.etcd.first,
  failures: PORTS.etcd.first + 10,
  /** The failures suite's port where nothing listens. */
  nobody: PORTS.etcd.first + 12,
  failuresCluster: PORTS.etcd.first + 20,
  failuresTls: PORTS.etcd.first + 30,
  failuresAuth: PORTS.etcd.first + 34,
  /** test/integration/monitors.test.ts: one member. */
  monitors: PORTS.etcd.first + 40,
  /** test/integration/monitors-quorum.test.ts: three members (+50..+55), and one with users and roles. */
  monitorsQuorum: PORTS.etcd.first + 50,
  monitorsAuth: PORTS.etcd.first + 60,
  /** `npm run bench`'s monitors row. */
  benchMonitors: PORTS.etcd.first + 70,
  /** test/integration/monitors-quorum.test.ts: one member over TLS (client certificates). */
  monitorsTls: PORTS.etcd.first + 80,
  /** The README's three-member etcd to try *Several monitor hosts* by hand (+91..+96). */
  readme: PORTS.etcd.first + 91,
} as const;

/** The first port of an owner's range: its cluster's base port. */
/**
 * A --netns sandbox's subnet, as scripts/lib/netns.sh derives it from the base port: testN's host is
 * `${subnet}.(10+N)`, the client `${subnet}.2`, and every server listens on 3306 there.
 */
export const netnsSubnet = (basePort: number): string => `10.233.${((basePort - 33000) % 250) + 1}`;

export const basePortOf = (owner: PortOwner): number => PORTS[owner].first;

/** The range that holds `count` ports from `first`, or why there is none. */
export function ownerOf(first: number, count: number): { owner: PortOwner } | { error: string } {
  const last = first + count - 1;
  for (const [owner, r] of Object.entries(PORTS) as [PortOwner, PortRange][]) {
    if (first >= r.first && last <= r.last) return { owner };
    if (first <= r.last && last >= r.first) {
      return { error: `ports ${first}..${last} run past ${owner}'s range ${r.first}..${r.last}` };
    }
  }
  return { error: `ports ${first}..${last} are in no range of harness/ports.ts` };
}

/**
 * Keeps the kernel from handing out a range's ports as the local port of a client connection (they lie in Linux's
 * ephemeral range, 32768-60999): otherwise a busy suite's connection can hold one when a server starts on it later,
 * and the server fails with "Address already in use". scripts/sandbox.sh does this for 33001-33999 when it brings
 * a sandbox up; the etcd harness calls this for its own range. Root only (else a no-op); only ever adds.
 */
export function reserveEphemeral(r: PortRange): void {
  const f = '/proc/sys/net/ipv4/ip_local_reserved_ports';
  if (process.getuid?.() !== 0) return;
  try {
    const cur = readFileSync(f, 'utf8').trim();
    const covered = cur
      .split(',')
      .filter(Boolean)
      .some((part) => {
        const [a, b = a] = part.split('-').map(Number);
        return a! <= r.first && r.last <= b!;
      });
    if (!covered) writeFileSync(f, cur ? `${cur},${r.first}-${r.last}` : `${r.first}-${r.last}`);
  } catch {
    // not writable here (a container without /proc/sys): the ports stay as they were
  }
}

/**
 * Is the master dead? Decided from several signals sampled over a confirmation window (`--if-dead`), because
 * each signal alone lies: mmmf's own connection fails when only mmmf is cut off; a replica's IO thread stays
 * "connected" to a hung master until its slave_net_timeout; a host whose mysqld hangs still answers SSH.
 * Pure: the samples are taken by safety/confirm-master-dead.ts.
 */

/** One connection attempt from mmmf to the master. */
export interface MasterAttempt {
  /** The server spoke: it logged mmmf in, or refused with an error only a live server sends. */
  answered: boolean;
  /** It logged mmmf in and answered a query (a healthy master). */
  healthy: boolean;
  /** What happened, e.g. 'ECONNREFUSED' or 'ER_CON_COUNT_ERROR: Too many connections'. */
  detail: string;
}

/** What one replica of the master said in one sample. */
export interface ReplicaView {
  name: string;
  /** False when mmmf could not read its status this time (it then neither agrees nor disagrees). */
  read: boolean;
  /** Slave_IO_Running: 'Yes' (connected), 'Connecting', 'No'. */
  io: string;
  /** The IO thread's last error ('' when none): with io 'No', tells a broken link from one an operator stopped. */
  ioError: string;
  /** Everything it has received from the master (file:pos and GTIDs), to see whether it still moves. */
  received: string;
}

/** What the master's host said over SSH, when SSH is configured. */
export interface SshView {
  /** The host ran the check (it is up and reachable over SSH). */
  answered: boolean;
  /**
   * 'running': a mysqld listens on the master's port and is not stopped; 'stopped': only a stopped (SIGSTOP)
   * one; 'none'.
   */
  mysqld: 'running' | 'stopped' | 'none' | 'unknown';
  detail: string;
}

export interface DeathSample {
  /** Milliseconds since the confirmation started. */
  at: number;
  master: MasterAttempt;
  replicas: ReplicaView[];
  ssh?: SshView;
}

export type DeathVerdict =
  /** `connected`: the replicas connected to it; `detail`: how it answered. */
  | { kind: 'alive'; healthy: boolean; connected: string[]; detail: string; evidence: string[] }
  | { kind: 'dead'; evidence: string[] }
  /** Not (yet) agreed: the evidence that disagrees. The sampler goes on until its deadline, then refuses. */
  | { kind: 'undecided'; evidence: string[] };

/** A replica that is trying to reach the master and cannot: the one replica signal that says "dead". */
const failing = (r: ReplicaView) => r.read && (r.io === 'Connecting' || (r.io === 'No' && r.ioError !== ''));
/** Stopped by someone (a backup, an operator): it has no opinion. */
const abstains = (r: ReplicaView) => !r.read || (r.io === 'No' && r.ioError === '');

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/**
 * Why one sample does not say "dead" (empty when it does); `held` is each replica's received position to compare
 * with.
 */
function disagreements(s: DeathSample, master: string, held: Map<string, string>): string[] {
  const out: string[] = [];
  if (s.master.answered) out.push(`mmmf: ${master} answered (${s.master.detail})`);
  for (const r of s.replicas) {
    if (r.read && r.io === 'Yes')
      out.push(`${r.name}: its IO thread is still connected to ${master} (Slave_IO_Running Yes)`);
    const was = held.get(r.name);
    if (r.read && was !== undefined && was !== r.received) {
      out.push(`${r.name}: still receiving from ${master} (its received position moved: ${was} / ${r.received})`);
    }
  }
  if (!s.replicas.some(failing) && !s.replicas.some((r) => r.read && r.io === 'Yes')) {
    out.push(
      s.replicas.length
        ? `no replica of ${master} reports a failing connection to it ` +
            `(${s.replicas.map(describeReplica).join('; ')}): ` +
            'mmmf alone cannot tell a dead master from a network that cuts only mmmf off'
        : `${master} has no reachable replica to confirm it is dead`,
    );
  }
  if (s.ssh?.answered && s.ssh.mysqld !== 'none' && s.ssh.mysqld !== 'stopped') {
    out.push(`ssh ${master}: the host answers and ${s.ssh.detail}`);
  }
  return out;
}

function describeReplica(r: ReplicaView): string {
  if (!r.read) return `${r.name} unreadable`;
  return `${r.name} IO ${r.io}${r.ioError ? ` (${r.ioError})` : ''}`;
}

/**
 * The verdict on the samples so far. Alive as soon as the master answers. Dead once every sample of the last
 * `windowMs` agrees: mmmf could not reach the master, at least one replica's connection to it fails and none
 * is connected, no replica's received position moved, and (with SSH) the host is down or runs no live mysqld.
 */
export function judgeMasterDeath(samples: DeathSample[], master: string, windowMs: number): DeathVerdict {
  const last = samples.at(-1);
  if (!last) return { kind: 'undecided', evidence: ['no sample taken yet'] };
  const answered = samples.find((s) => s.master.answered);
  if (answered) return aliveVerdict(answered, last, master);
  // The longest run of agreeing samples that ends with the last one; `held` is each replica's received
  // position throughout that run (it must not move).
  const run: DeathSample[] = [];
  const held = new Map<string, string>();
  for (const s of [...samples].reverse()) {
    if (disagreements(s, master, held).length) break;
    for (const r of s.replicas) if (r.read && !held.has(r.name)) held.set(r.name, r.received);
    run.unshift(s);
  }
  const [first] = run;
  if (!first) {
    const firstSample = samples[0] ?? last;
    const before = new Map(firstSample.replicas.filter((r) => r.read).map((r) => [r.name, r.received]));
    return { kind: 'undecided', evidence: disagreements(last, master, before) };
  }
  const span = last.at - first.at;
  if (span < windowMs) {
    const prior = samples[samples.length - run.length - 1];
    const before = prior ? disagreements(prior, master, held) : [];
    return {
      kind: 'undecided',
      evidence: [
        `every signal says ${master} is dead, but only for ${seconds(span)} of the ${seconds(windowMs)} window`,
        ...before.map((e) => `until then: ${e}`),
      ],
    };
  }
  return { kind: 'dead', evidence: deadEvidence(run, last, master, span) };
}

function aliveVerdict(answered: DeathSample, last: DeathSample, master: string): DeathVerdict {
  const healthy = answered.master.healthy;
  const connected = answered.replicas.filter((r) => r.read && r.io === 'Yes').map((r) => r.name);
  const evidence = [
    healthy ? `mmmf: ${master} answers` : `mmmf: ${master} answered (${answered.master.detail})`,
    `${connected.length} of ${answered.replicas.length} replicas connected to it` +
      (connected.length ? `: ${connected.join(', ')}` : ''),
  ];
  // A master that only answers with an error (too many connections, access denied) while its replicas all
  // lost it is not "healthy, nothing to do": the signals disagree.
  if (!healthy && !connected.length && answered.replicas.some(failing)) {
    return { kind: 'undecided', evidence: [...evidence, ...disagreements(last, master, new Map())] };
  }
  return { kind: 'alive', healthy, connected, detail: answered.master.detail, evidence };
}

function deadEvidence(run: DeathSample[], last: DeathSample, master: string, span: number): string[] {
  const out = [
    `mmmf: ${master} did not answer on ${run.length} of ${run.length} attempts over ${seconds(span)} ` +
      `(${last.master.detail})`,
  ];
  for (const r of last.replicas) {
    if (failing(r))
      out.push(
        `${r.name}: IO thread ${r.io}, received nothing new (${r.received})${r.ioError ? `: ${r.ioError}` : ''}`,
      );
    else if (abstains(r))
      out.push(`${r.name}: ${r.read ? 'replication stopped by someone: no opinion' : 'not readable: no opinion'}`);
  }
  if (last.ssh) out.push(`ssh ${master}: ${last.ssh.answered ? last.ssh.detail : `no answer (${last.ssh.detail})`}`);
  return out;
}

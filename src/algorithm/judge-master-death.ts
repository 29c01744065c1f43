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
   * 'running': a mysqld/mariadbd for the master runs (listening or not yet: InnoDB recovery); 'stopped': only a
   * stopped (SIGSTOP) one — alive too, it may be resumed; 'none': no such process and nothing on the port.
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

/**
 * A replica that is trying to reach the master and cannot: the one replica signal that says "dead". Connecting
 * means it keeps trying; an IO thread that stopped with an error counts only when this run saw it running
 * earlier (an error left days ago by something else says nothing about the master now).
 */
const failing = (r: ReplicaView, sawRunning: ReadonlySet<string>) =>
  r.read && (r.io === 'Connecting' || (r.io === 'No' && r.ioError !== '' && sawRunning.has(r.name)));
/** Stopped by someone (a backup, an operator), or unreadable: it has no opinion. */
const abstains = (r: ReplicaView, sawRunning: ReadonlySet<string>) =>
  !r.read || (r.io === 'No' && !failing(r, sawRunning));

/** More than half of the master's replicas: a minority cut off with mmmf must never decide. */
export const majorityOf = (voters: number) => Math.floor(voters / 2) + 1;

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/** What judging a sample needs besides the sample: the master, the quorum and the history before it. */
interface Judging {
  master: string;
  /** How many replicas the master has in the config (reachable or not): the quorum is a majority of them. */
  voters: number;
  /** Each replica's received position to compare with (it must not move). */
  held: Map<string, string>;
  /** Replicas seen with a running IO thread in an earlier sample of this confirmation. */
  sawRunning: ReadonlySet<string>;
}

/** Why one sample does not say "dead" (empty when it does). */
function disagreements(s: DeathSample, j: Judging): string[] {
  const { master, held } = j;
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
  const lost = s.replicas.filter((r) => failing(r, j.sawRunning));
  const need = majorityOf(j.voters);
  if (lost.length < need && !s.replicas.some((r) => r.read && r.io === 'Yes')) {
    out.push(
      j.voters
        ? `only ${lost.length} of ${master}'s ${j.voters} replicas report a failing connection to it, and it takes ` +
            `a majority (${need}): a replica mmmf cannot read, or one stopped by someone, is no vote for "dead" ` +
            `(${s.replicas.map((r) => describeReplica(r)).join('; ') || 'none readable'}); mmmf and a minority ` +
            'cannot tell a dead master from a network split'
        : `${master} has no replica in the config to confirm it is dead`,
    );
  }
  if (s.ssh?.answered && s.ssh.mysqld !== 'none') out.push(`ssh ${master}: the host answers and ${s.ssh.detail}`);
  return out;
}

function describeReplica(r: ReplicaView): string {
  if (!r.read) return `${r.name} unreadable`;
  return `${r.name} IO ${r.io}${r.ioError ? ` (${r.ioError})` : ''}`;
}

/**
 * The verdict on the samples so far. Alive as soon as the master answers. Dead once every sample of the last
 * `windowMs` agrees: mmmf could not reach the master, a majority of its `voters` configured replicas were read and
 * their connection to it fails and none is connected, no replica's received position moved, and (with SSH) the
 * host is down or runs no mysqld for it at all (a stopped one may be resumed: it is not dead).
 */
export function judgeMasterDeath(
  samples: DeathSample[],
  master: string,
  windowMs: number,
  voters: number,
): DeathVerdict {
  const last = samples.at(-1);
  if (!last) return { kind: 'undecided', evidence: ['no sample taken yet'] };
  const answered = samples.find((s) => s.master.answered);
  const sawRunning = (upTo: number) =>
    new Set(
      samples.slice(0, upTo).flatMap((s) => s.replicas.filter((r) => r.read && r.io !== 'No').map((r) => r.name)),
    );
  if (answered)
    return aliveVerdict(answered, { master, voters, held: new Map(), sawRunning: sawRunning(samples.length) });
  // The longest run of agreeing samples that ends with the last one; `held` is each replica's received
  // position throughout that run (it must not move).
  const run: DeathSample[] = [];
  const held = new Map<string, string>();
  for (let i = samples.length - 1; i >= 0; i--) {
    const s = samples[i];
    if (!s || disagreements(s, { master, voters, held, sawRunning: sawRunning(i) }).length) break;
    for (const r of s.replicas) if (r.read && !held.has(r.name)) held.set(r.name, r.received);
    run.unshift(s);
  }
  const [first] = run;
  const seen = sawRunning(samples.length - 1);
  if (!first) {
    const firstSample = samples[0] ?? last;
    const before = new Map(firstSample.replicas.filter((r) => r.read).map((r) => [r.name, r.received]));
    return { kind: 'undecided', evidence: disagreements(last, { master, voters, held: before, sawRunning: seen }) };
  }
  const span = last.at - first.at;
  if (span < windowMs) {
    const priorAt = samples.length - run.length - 1;
    const prior = samples[priorAt];
    const before = prior ? disagreements(prior, { master, voters, held, sawRunning: sawRunning(priorAt) }) : [];
    return {
      kind: 'undecided',
      evidence: [
        `every signal says ${master} is dead, but only for ${seconds(span)} of the ${seconds(windowMs)} window`,
        ...before.map((e) => `until then: ${e}`),
      ],
    };
  }
  return { kind: 'dead', evidence: deadEvidence(run, last, { master, voters, held, sawRunning: seen }, span) };
}

function aliveVerdict(answered: DeathSample, j: Judging): DeathVerdict {
  const { master } = j;
  const healthy = answered.master.healthy;
  const connected = answered.replicas.filter((r) => r.read && r.io === 'Yes').map((r) => r.name);
  const evidence = [
    healthy ? `mmmf: ${master} answers` : `mmmf: ${master} answered (${answered.master.detail})`,
    `${connected.length} of ${answered.replicas.length} replicas connected to it` +
      (connected.length ? `: ${connected.join(', ')}` : ''),
  ];
  // A master that only answers with an error (too many connections, access denied) while its replicas all
  // lost it is not "healthy, nothing to do": the signals disagree.
  if (!healthy && !connected.length && answered.replicas.some((r) => failing(r, j.sawRunning))) {
    return { kind: 'undecided', evidence: [...evidence, ...disagreements(answered, j)] };
  }
  return { kind: 'alive', healthy, connected, detail: answered.master.detail, evidence };
}

function deadEvidence(run: DeathSample[], last: DeathSample, j: Judging, span: number): string[] {
  const lost = last.replicas.filter((r) => failing(r, j.sawRunning)).length;
  const out = [
    `mmmf: ${j.master} did not answer on ${run.length} of ${run.length} attempts over ${seconds(span)} ` +
      `(${last.master.detail})`,
    `quorum: ${lost} of ${j.master}'s ${j.voters} replicas lost it (a majority is ${majorityOf(j.voters)})`,
  ];
  for (const r of last.replicas) {
    if (failing(r, j.sawRunning))
      out.push(
        `${r.name}: IO thread ${r.io}, received nothing new (${r.received})${r.ioError ? `: ${r.ioError}` : ''}`,
      );
    else if (abstains(r, j.sawRunning))
      out.push(`${r.name}: ${r.read ? 'replication stopped by someone: no opinion' : 'not readable: no opinion'}`);
  }
  if (last.ssh) {
    out.push(`ssh ${j.master}: ${last.ssh.answered ? last.ssh.detail : `no answer (${last.ssh.detail})`}`);
  }
  return out;
}

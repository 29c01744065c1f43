import { createHash, randomUUID } from 'node:crypto';
import {
  appendFileSync,
  existsSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import { type ClusterIdentity, folderFor, sameCluster } from './cluster-identity.js';
import {
  type ClusterStore,
  type JournalLine,
  type LastFailover,
  LockLostError,
  type PublishedMaster,
  type RegisterOutcome,
  type RunHolder,
  type StoreLock,
  type StoreSnapshot,
  StoreUnavailableError,
} from './cluster-store.js';
import { ensurePrivateDir, PRIVATE_FILE, requireTrustedDir } from './state-files.js';

/**
 * The default backend: one monitor host, the records in the private state folder, a folder per cluster:
 *
 *   <stateDir>/clusters/<name-NAME | auto-HASH>/
 *     identity.json   the cluster's name or the servers seen in it (an unnamed cluster is found by them)
 *     lock            the holder of the run lock (created exclusively; a dead holder's is taken over)
 *     run.jsonl       the journal of the run in progress (JSON Lines, appended before and after every step)
 *     history/        finished runs' journals, by epoch
 *     antiflap.json, offline.json, master.json
 *
 * Writes are synchronous and whole (written aside, then renamed), so a run killed at any moment leaves either
 * the old record or the new one.
 */
export class FileStore implements ClusterStore {
  readonly kind = 'files' as const;
  readonly where: string;
  private readonly dir: string;

  private constructor(dir: string) {
    this.dir = dir;
    this.where = dir;
  }

  /**
   * The store of the cluster `id`: its folder when one describes it (an unnamed cluster: the folder whose
   * servers overlap `id`'s, with an unfinished run first, else the most recently used), else a new one.
   */
  static open(stateDir: string, id: ClusterIdentity, o: { create?: boolean } = {}): FileStore {
    const root = join(stateDir, 'clusters');
    // Only reading (status, a dry run, a cron run that finds the master alive): nothing is created or changed.
    if (o.create === false) {
      if (!existsSync(stateDir)) return new FileStore(join(root, folderFor(id)));
      requireTrustedDir(stateDir);
      return new FileStore((existsSync(root) && findFolder(root, id)) || join(root, folderFor(id)));
    }
    requireTrustedDir(stateDir);
    ensurePrivateDir(root);
    // Two runs of a cluster never seen before must not each make a folder of its own (their configs may list
    // different hosts, so different names): finding or making the folder is done under a short lock.
    const dir = underLock(join(root, '.open'), () => {
      const found = findFolder(root, id) ?? join(root, folderFor(id));
      ensurePrivateDir(found);
      return found;
    });
    ensurePrivateDir(join(dir, 'history'));
    // Remember every server seen, so the folder keeps matching as servers come and go.
    const known = readJson<ClusterIdentity>(join(dir, 'identity.json'));
    const members = [...new Set([...(known?.members ?? []), ...id.members])].sort();
    writeWhole(join(dir, 'identity.json'), { ...(id.name ? { name: id.name } : {}), members });
    return new FileStore(dir);
  }

  read(): Promise<StoreSnapshot> {
    return Promise.resolve(this.readSync());
  }

  private readSync(): StoreSnapshot {
    const holder = this.liveHolder();
    const lines = readLines(join(this.dir, 'run.jsonl'));
    const unfinished = lines.length > 0 && lines.at(-1)?.type !== 'end';
    const antiFlap = readJson<LastFailover>(join(this.dir, 'antiflap.json'));
    const master = readJson<PublishedMaster>(join(this.dir, 'master.json'));
    const runRevision = revisionOf(join(this.dir, 'run.jsonl'));
    return {
      ...(holder ? { holder } : {}),
      ...(unfinished ? { run: { lines, revision: runRevision } } : {}),
      runRevision,
      ...(antiFlap ? { antiFlap } : {}),
      antiFlapRevision: revisionOf(join(this.dir, 'antiflap.json')),
      ...(master ? { master } : {}),
    };
  }

  /** The lock's holder, unless it is a process of this machine that is gone (killed): then nobody holds it. */
  private liveHolder(): StoreSnapshot['holder'] {
    const h = readJson<RunHolder & { epoch: string; step?: number }>(join(this.dir, 'lock'));
    if (!h) return undefined;
    if (h.host === hostname() && !pidAlive(h.pid)) return undefined;
    const begun = readLines(join(this.dir, 'run.jsonl'))
      .filter((l) => l.type === 'begin')
      .at(-1);
    return typeof begun?.n === 'number' ? { ...h, step: begun.n } : h;
  }

  register(holder: RunHolder, seen: StoreSnapshot): Promise<RegisterOutcome> {
    const file = join(this.dir, 'lock');
    const current = this.liveHolder();
    if (current) return Promise.resolve({ ok: false, holder: current, why: `held by ${describeHolder(current)}` });
    // A dead holder's lock file is taken over; creating it exclusively decides between two runs doing so now.
    if (existsSync(file)) unlinkSync(file);
    const epoch = `${Date.now()}-${randomUUID().slice(0, 8)}`;
    try {
      writeFileSync(file, JSON.stringify({ ...holder, epoch }) + '\n', { flag: 'wx', mode: PRIVATE_FILE });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const other = this.liveHolder();
      return Promise.resolve({ ok: false, ...(other ? { holder: other } : {}), why: 'another run took the lock now' });
    }
    const now = this.readSync();
    if (now.runRevision !== seen.runRevision || now.antiFlapRevision !== seen.antiFlapRevision) {
      unlinkSync(file);
      return Promise.resolve({ ok: false, why: 'another run changed the journal or the anti-flap record meanwhile' });
    }
    return Promise.resolve({ ok: true, lock: new FileLock(this.dir, epoch) });
  }

  readOffline(): Promise<string[]> {
    const names = readJson<unknown>(join(this.dir, 'offline.json'));
    return Promise.resolve(Array.isArray(names) ? names.filter((n): n is string => typeof n === 'string') : []);
  }

  /**
   * A file written whole and removed in the cluster's folder: the folder takes writes. A read-only look does
   * not create that folder, so until a run made it the probe writes where a run would create it (the nearest
   * folder that exists).
   */
  probeWrite(): Promise<void> {
    let dir = this.dir;
    while (!existsSync(dir) && dirname(dir) !== dir) dir = dirname(dir);
    const file = join(dir, `.probe-${process.pid}`);
    try {
      writeWhole(file, { probe: new Date().toISOString() });
      unlinkSync(file);
    } catch (err) {
      for (const f of [file, `${file}.tmp`]) {
        try {
          rmSync(f, { force: true });
        } catch {
          // the folder itself is what is wrong: said below
        }
      }
      return Promise.reject(new StoreUnavailableError(`cannot write in ${this.dir}: ${String(err)}`));
    }
    return Promise.resolve();
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

/** The lock of one run over the files: every write first checks that the lock file is still this run's. */
class FileLock implements StoreLock {
  constructor(
    private readonly dir: string,
    readonly epoch: string,
  ) {}

  /** The lock file as it was when last read and found this run's: unchanged since, it is still this run's. */
  private seen: string | undefined;

  private own(): void {
    // Every journal write checks the lock, two or three times per step: a stat when the file has not changed
    // since it was found this run's (a takeover writes a new file: another inode, time and size), else a read.
    const file = join(this.dir, 'lock');
    const st = statSafe(file);
    const key = st ? `${st.ino}:${st.mtimeMs}:${st.ctimeMs}:${st.size}` : undefined;
    if (key && key === this.seen) return;
    const h = readJson<{ epoch?: string }>(file);
    if (h?.epoch !== this.epoch) throw new LockLostError(`the lock in ${this.dir} is no longer this run's`);
    this.seen = key;
  }

  async check(): Promise<void> {
    this.own();
  }

  async append(line: JournalLine): Promise<void> {
    this.own();
    appendFileSync(join(this.dir, 'run.jsonl'), JSON.stringify(line) + '\n', { mode: PRIVATE_FILE });
  }

  async finish(line: JournalLine): Promise<void> {
    this.own();
    const run = join(this.dir, 'run.jsonl');
    appendFileSync(run, JSON.stringify(line) + '\n', { mode: PRIVATE_FILE });
    renameSync(run, join(this.dir, 'history', `${this.epoch}.jsonl`));
  }

  /**
   * Nothing to write: the step a run is at is its journal's last `begin` (liveHolder reads it there). Rewriting
   * the lock file before every step cost a write and a rename each — with 20 replicas, most of the journal's time.
   */
  async setStep(): Promise<void> {
    this.own();
  }

  async recordFailover(last: LastFailover): Promise<void> {
    this.own();
    writeWhole(join(this.dir, 'antiflap.json'), last);
  }

  async publishMaster(master: PublishedMaster): Promise<void> {
    this.own();
    writeWhole(join(this.dir, 'master.json'), master);
  }

  async writeOffline(names: string[]): Promise<void> {
    this.own();
    writeWhole(join(this.dir, 'offline.json'), [...new Set(names)].sort());
  }

  async release(): Promise<void> {
    const h = readJson<{ epoch?: string }>(join(this.dir, 'lock'));
    if (h?.epoch === this.epoch) unlinkSync(join(this.dir, 'lock'));
  }
}

/** Example: `pid 4711 on mon1 since 2026-12-02T04:00:00.000Z (mmmf --failover-to auto), at step 12` */
export function describeHolder(h: RunHolder & { step?: number }): string {
  const at = h.step !== undefined ? `, at step ${h.step}` : '';
  return `pid ${h.pid} on ${h.host} since ${h.started} (${h.command})${at}`;
}

/** Runs `fn` holding an exclusively created lock file (a stale one, older than 10 s, is taken over). */
function underLock<T>(file: string, fn: () => T): T {
  for (let i = 0; ; i++) {
    try {
      writeFileSync(file, String(process.pid), { flag: 'wx', mode: PRIVATE_FILE });
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const age = Date.now() - (statSafe(file)?.mtimeMs ?? Date.now());
      if (age > 10_000 || i > 200) rmSync(file, { force: true });
      else Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
    }
  }
  try {
    return fn();
  } finally {
    rmSync(file, { force: true });
  }
}

function statSafe(file: string) {
  try {
    return statSync(file);
  } catch {
    return undefined;
  }
}

function findFolder(root: string, id: ClusterIdentity): string | undefined {
  const matches = readdirSync(root)
    .filter((f) => !f.startsWith('.'))
    .map((f) => join(root, f))
    .filter((d) => {
      const known = readJson<ClusterIdentity>(join(d, 'identity.json'));
      return known && sameCluster(known, id);
    });
  const score = (d: string) => {
    const unfinished = existsSync(join(d, 'run.jsonl')) ? 1 : 0;
    return [unfinished, statSync(join(d, 'identity.json')).mtimeMs] as const;
  };
  matches.sort((a, b) => {
    const [ua, ta] = score(a);
    const [ub, tb] = score(b);
    return ub - ua || tb - ta;
  });
  return matches[0];
}

function readJson<T>(file: string): T | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

/** The journal's lines; a torn last line (the process died while writing it) is ignored. */
function readLines(file: string): JournalLine[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  const out: JournalLine[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try {
      out.push(JSON.parse(line) as JournalLine);
    } catch {
      // the process died while writing this line
    }
  }
  return out;
}

/** A file's revision: a hash of its content ('0' when absent). */
function revisionOf(file: string): string {
  try {
    return createHash('sha256').update(readFileSync(file)).digest('hex').slice(0, 16);
  } catch {
    return '0';
  }
}

/** Written aside, then renamed over: never half a file. */
function writeWhole(file: string, value: unknown): void {
  writeFileSync(`${file}.tmp`, JSON.stringify(value) + '\n', { mode: PRIVATE_FILE });
  renameSync(`${file}.tmp`, file);
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

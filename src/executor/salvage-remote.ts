import { findIndexArgv, pickIndex } from '../binlog/binlog-file/index-location.js';
import { noServerCheckArgv, parseNoServerCheck } from '../binlog/binlog-file/remote-read-commands.js';
import { remoteBinlogSource, type RemoteRunner } from '../binlog/binlog-file/remote-binlog-source.js';
import type { BinlogSource } from '../binlog/binlog-file/binlog-source.js';
import type { SalvageLocation } from '../binlog/binlog-file/salvage-types.js';
import type { ActionOf } from '../algorithm/plan-types.js';
import type { ResolvedHost } from '../topology/config-types.js';
import { runRemote, runRemoteBytes } from '../vip/remote.js';

// The dead old master's host, over SSH: where its binlog is, proof that no server runs for it, and a reader of
// its binlog files. Plain tools only (sh, cat, tail, head, my_print_defaults): no agent on database hosts.

/**
 * A salvage that may not happen: nothing is applied, the failover goes on as without it, and the report says
 * why (SSH does not answer, no binlog index, an encrypted binlog, ...).
 */
export class SalvageRefused extends Error {
  constructor(
    message: string,
    /** What was found before the refusal, for the report (torn tail, bytes read). */
    readonly location?: SalvageLocation,
  ) {
    super(message);
  }
}

/** The old master's own server runs again: it is not dead, and the failover must not go on. */
export class OldMasterAlive extends Error {}

/** ssh's own exit code when it cannot connect or authenticate. */
const SSH_FAILED = 255;
/** Bytes one remote read may return at most (locateSalvage asks 16 MiB at a time). */
const READ_CAP = 16 * 1024 * 1024;

/** The old master's host as a salvage uses it. */
export interface OldMasterHost {
  host: ResolvedHost;
  index: string;
  /** Its server's datadir when known: the no-server check looks for a server working there. */
  datadir?: string;
  source: BinlogSource;
}

/**
 * Finds the binlog index (as planned, or asked over SSH) and opens a reader over it. Refused (SalvageRefused)
 * when the host does not answer over SSH or has no index mmmf can choose.
 */
export async function reachOldMaster(
  host: ResolvedHost,
  a: ActionOf<'salvage'>,
  connectTimeoutSec: number,
): Promise<OldMasterHost> {
  let index = a.index;
  let datadir = a.datadir;
  if (!index) {
    const r = await runRemote(host, findIndexArgv(a.binlogDir), connectTimeoutSec);
    if (!r.ok) throw new SalvageRefused(sshProblem(host, r.code, r.out));
    const found = pickIndex(r.out, a.binlogDir);
    if ('refusal' in found) {
      throw new SalvageRefused(
        `${found.refusal} on ${host.name}: set hosts.${host.name}.binlogDir to its binlog folder`,
      );
    }
    index = found.index;
    datadir ??= found.datadir;
  }
  const run: RemoteRunner = (argv) => runRemoteBytes(host, argv, connectTimeoutSec, { maxBytes: READ_CAP });
  return { host, index, ...(datadir ? { datadir } : {}), source: remoteBinlogSource(run, index) };
}

const sshProblem = (host: ResolvedHost, code: number | undefined, out: string) =>
  code === SSH_FAILED || code === undefined
    ? `${host.name}'s host does not answer over SSH as ${host.ssh.user}@${host.ssh.host} (${out || `exit ${code}`})`
    : `asking ${host.name}'s host where its binlogs are failed (exit ${code}): ${out || 'no message'}`;

/**
 * Proves over SSH that no server runs for the old master, and none is about to start. Its own server running
 * again (working in its datadir, or anything listening on its port) is no dead master: an error, the failover
 * stops before anything is promoted. Anything else that cannot be ruled out (a supervisor, a unit restarting,
 * a server whose working directory cannot be read, a host that hides processes or does not answer) refuses the
 * salvage only.
 */
export async function proveNoServer(h: OldMasterHost, port: number, connectTimeoutSec: number): Promise<string> {
  const argv = noServerCheckArgv({ port, ...(h.datadir ? { datadir: h.datadir } : {}) });
  // Through this run's SSH connection when one stands (a login each cost about 280 ms): what runs on the host
  // is listed there and then either way, and a connection that went silent ends at its deadline.
  const r = await runRemote(h.host, argv, connectTimeoutSec);
  if (r.code === SSH_FAILED || r.code === undefined) throw new SalvageRefused(sshProblem(h.host, r.code, r.out));
  const check = parseNoServerCheck(r.code, r.out);
  if (check.running === false) return `no server runs for ${h.host.name} (port ${port}${dataNote(h)})`;
  if (check.running === 'unknown') {
    throw new SalvageRefused(`cannot prove that no server runs on ${h.host.name}'s host: ${check.detail}`);
  }
  const own = check.evidence.filter(
    (e) => e.startsWith('listening ') || (!!h.datadir && /^server .* cwd=(?!unreadable$)/.test(e)),
  );
  if (own.length) {
    throw new OldMasterAlive(
      `${h.host.name}'s server runs again (${own.join('; ')}): it is not dead (restarted by systemd or ` +
        'mysqld_safe?). Nothing of its binlog was applied and nothing is promoted; replication stays stopped. ' +
        `If it is to stay the master: mmmf --abort; to fail over anyway, stop it for good and run mmmf again`,
    );
  }
  throw new SalvageRefused(`a server may run or start on ${h.host.name}'s host: ${check.evidence.join('; ')}`);
}

const dataNote = (h: OldMasterHost) => (h.datadir ? `, datadir ${h.datadir}` : '');

import { findOldMaster } from '../algorithm/find-old-master.js';
import { errorText, type MmmfError } from '../errors.js';
import { preflight, type Finding, type SshFacts } from '../algorithm/preflight.js';
import type { ResolvedConfig } from '../topology/config-types.js';
import { colorsFor } from '../output/style.js';
import { connectMysql, withConnections, type Connector } from '../topology/connection.js';
import { loadConfig } from './load-config.js';
import { probeAccounts, type AccountFacts } from '../topology/probe-accounts.js';
import { probeCluster } from '../topology/probe.js';
import { type HostState, isReplica } from '../domain/server-state.js';
import { soleWritableMaster } from '../algorithm/writers.js';
import type { CoordinationView } from '../output/render-coordination.js';
import { coordinationView } from './run/coordination.js';
import { rememberHosts } from '../state/host-memory.js';
import { salvageFindings } from '../algorithm/salvage-preflight.js';
import { probeSalvageFacts } from './salvage-facts.js';
import { CONFIG_DEFAULTS } from '../topology/config-defaults.js';

export interface CheckOptions {
  cfg: string;
  target?: string;
  json?: boolean;
  /** One status line and the monitoring plugin exit codes (0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN). */
  nagios?: boolean;
  connector?: Connector;
}

/** `mmmf check`: the preflight. Exit 0 when a failover to every candidate would work now, else 3. Changes nothing. */
export async function checkCommand(opts: CheckOptions): Promise<number> {
  if (opts.nagios) return nagiosCheck(opts);
  const { findings, candidates } = await runPreflight(opts);
  const errors = findings.filter((x) => x.level === 'error').length;
  if (opts.json) {
    process.stdout.write(JSON.stringify({ ok: errors === 0, candidates, findings }, null, 2) + '\n');
  } else {
    process.stdout.write(renderFindings(findings, candidates, errors) + '\n');
  }
  return errors ? 3 : 0;
}

/** Nagios / Icinga / Zabbix plugin convention: one line, exit 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN. */
const NAGIOS = { OK: 0, WARNING: 1, CRITICAL: 2, UNKNOWN: 3 } as const;

/**
 * `mmmf check --nagios`: the same preflight as one status line for a monitoring system. Anything that keeps
 * mmmf from judging (a bad config, a crash) is UNKNOWN, never a silent OK.
 */
async function nagiosCheck(opts: CheckOptions): Promise<number> {
  let status: keyof typeof NAGIOS;
  let text: string;
  try {
    const { findings, master, replicas } = await runPreflight(opts);
    const errors = findings.filter((x) => x.level === 'error');
    const warnings = findings.filter((x) => x.level === 'warning');
    status = errors.length ? 'CRITICAL' : warnings.length ? 'WARNING' : 'OK';
    const n = (k: number, what: string) => `${k} ${what}${k === 1 ? '' : 's'}`;
    const first = [...errors, ...warnings]
      .slice(0, 3)
      .map((x) => `${x.host ? `${x.host}: ` : ''}${x.message}`)
      .join('; ');
    text =
      `master ${master ?? 'unknown'}, ${n(replicas, 'replica')}: ` +
      `${n(errors.length, 'error')}, ${n(warnings.length, 'warning')}` +
      (first ? `: ${first}` : '');
  } catch (err) {
    status = 'UNKNOWN';
    const e = err as MmmfError;
    text = `${errorText(err)}${e.problems?.length ? `: ${e.problems.join('; ')}` : ''}`;
  }
  process.stdout.write(`MMMF ${status} - ${text.replace(/\s*\n\s*/g, ' ')}\n`);
  return NAGIOS[status];
}

async function runPreflight(opts: CheckOptions) {
  const config = await loadConfig(opts.cfg, opts.target ? [{ flag: 'check --failover-to', name: opts.target }] : []);
  return withConnections(config.hosts, config.timeouts.connect, opts.connector ?? connectMysql, async (conns) => {
    const { states, dialects } = await probeCluster(config, conns);
    rememberHosts(config.stateDir, states);
    const accounts = new Map<string, AccountFacts>();
    await Promise.all(
      [...conns.open].map(async ([name, conn]) => {
        const d = dialects.get(name);
        if (d) accounts.set(name, await probeAccounts(conn, d, config.replication.user));
      }),
    );
    const ssh = config.vip ? await probeSsh(config) : undefined;
    const result = preflight({
      config,
      states,
      accounts,
      ...(ssh ? { ssh } : {}),
      ...(opts.target ? { target: opts.target } : {}),
    });
    const salvage = await probeSalvageFacts(config, states);
    const old = findOldMaster(states);
    const master = old.ok ? (old.value.name ?? old.value.address) : undefined;
    const view = await coordinationView(config, conns.open, { probeWrite: true });
    const coordination = coordinationFindings(config, view, states);
    const salvaging = salvage ? salvageFindings(config, states, accounts, salvage) : [];
    const findings = [...coordination, ...result.findings, ...salvaging];
    return { ...result, findings, master, replicas: states.filter(isReplica).length };
  });
}

/**
 * The cluster's store: readable (with etcd: reachable, with a quorum), no unfinished run left behind, and the
 * published master — what proxies follow — the master the servers say.
 */
function coordinationFindings(config: ResolvedConfig, v: CoordinationView, states: HostState[]): Finding[] {
  const cfg = config.source;
  if (v.error) {
    return [
      {
        level: 'error',
        message: `the coordination store (${v.store}) cannot be read: ${v.error}`,
        fix: 'every run needs it: bring etcd back (and its quorum), check the endpoints, TLS files and credentials',
      },
    ];
  }
  const out: Finding[] = [];
  if (v.writeError) {
    out.push({
      level: 'error',
      message: `the coordination store (${v.store}) refuses the writes a run makes: ${v.writeError}`,
      fix: config.coordination
        ? `give this monitor's etcd user (or certificate's user) readwrite on the prefix ` +
          `${config.coordination.etcd.prefix ?? CONFIG_DEFAULTS['coordination.etcd.prefix']}/clusters/${config.cluster}/`
        : `make ${v.store} writable by the user mmmf runs as`,
    });
  }
  if (v.unfinished) out.push({ level: 'error', message: v.unfinished.text, fix: v.unfinished.fix });
  if (v.holder)
    out.push({ level: 'warning', message: `a run holds the cluster's lock: ${v.holder}`, fix: 'wait for it' });
  const actual = soleWritableMaster(states);
  // With etcd, proxies may follow the published master: a cluster that never published one leaves them nothing.
  if (!v.published && actual && config.coordination) {
    out.push({
      level: 'warning',
      message: `no master is published in etcd yet: proxies that follow ${v.store} have nothing to follow`,
      fix: `mmmf --cfg ${cfg} --failover-to ${actual} publishes the master in place (it changes nothing else)`,
    });
  }
  if (v.published && actual && v.published.name !== actual) {
    out.push({
      level: 'error',
      message:
        `the published master is ${v.published.name} (${v.published.host}:${v.published.port}, since ` +
        `${v.published.at}), but the servers say ${actual} is: proxies that follow it send writes to the wrong server`,
      fix: `mmmf --cfg ${cfg} --failover-to ${actual} publishes the master in place (it changes nothing else)`,
    });
  }
  return out;
}

/** With a VIP configured, every host must answer over SSH and have `ip` and `arping`. */
async function probeSsh(config: ResolvedConfig): Promise<Map<string, SshFacts>> {
  const { runRemote } = await import('../vip/remote.js');
  const argv = [
    'sh',
    '-c',
    'for c in ip arping; do command -v "$c" >/dev/null || { echo "missing $c"; exit 3; }; done; echo ok',
  ];
  const out = new Map<string, SshFacts>();
  await Promise.all(
    config.hosts.map(async (h) => {
      const r = await runRemote(h, argv, config.timeouts.connect);
      out.set(
        h.name,
        r.ok
          ? { ok: true, detail: 'ok' }
          : {
              ok: false,
              detail: r.code === 3 ? r.out : `ssh ${h.ssh.user}@${h.ssh.host} failed: ${r.out || `exit ${r.code}`}`,
            },
      );
    }),
  );
  return out;
}

function renderFindings(findings: Finding[], candidates: string[], errors: number): string {
  const c = colorsFor(process.stdout);
  const L = [c.bold(`Preflight for a failover to ${candidates.join(', ') || '(no candidate)'}`)];
  if (!findings.length) L.push(c.green('✔ no findings: a failover to each candidate would work right now'));
  for (const x of findings) {
    L.push(`${x.level === 'error' ? c.red('✖') : c.yellow('!')} ${x.host ? c.bold(x.host) + ': ' : ''}${x.message}`);
    if (x.fix) L.push(`    ${c.dim(`fix: ${x.fix}`)}`);
  }
  const warnings = findings.length - errors;
  L.push(
    '',
    errors
      ? c.red(
          `${errors} error${errors === 1 ? '' : 's'}, ${warnings} warning${warnings === 1 ? '' : 's'}: ` +
            'a failover would not work as things stand (exit 3)',
        )
      : c.green(`0 errors, ${warnings} warning${warnings === 1 ? '' : 's'}`),
  );
  return L.join('\n');
}

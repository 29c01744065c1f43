// The chaos states only a network shows (hosts in network namespaces, mmmf on a client host of its own): a split
// that leaves mmmf and one replica without the master while the others keep it, and a master's host that loses
// power right after a `status` spoke to it over SSH. Judged from the servers and the hosts' addresses, never from
// what mmmf says.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Cluster } from './cluster.js';
import { controlSnapshot } from './chaos-judge.js';
import { slaveStatus } from './chaos-setup.js';
import { until } from './load.js';

const io = async (c: Cluster, n: string) => (await slaveStatus(c, n)).Slave_IO_Running;

/** The sandbox config as a cron line on a monitor host runs it: a short death confirmation, 1 s connects. */
function cronConfig(c: Cluster): string {
  const path = join(c.dir, 'cron.config.ts');
  writeFileSync(
    path,
    `import base from './mmmf.config.ts';\n` +
      `export default { ...base, deadConfirmSeconds: 2, timeouts: { connect: 1 } };\n`,
  );
  return path;
}

/**
 * Before the load: the master and every replica but `minority` stop answering mmmf's client host and `minority`
 * (which notices within seconds: slave_net_timeout 4). `--failover-to auto --if-dead` from the client must refuse
 * (exit 3) and change nothing — the master still serves the others. Then the network heals and `minority`
 * reconnects, so the iteration goes on from a healthy cluster.
 */
export async function minoritySplit(c: Cluster, names: string[], minority: string): Promise<string[]> {
  const v: string[] = [];
  const all = ['test1', ...names];
  await c.query(minority, 'STOP SLAVE');
  await c.query(minority, 'SET GLOBAL slave_net_timeout = 4');
  await c.query(minority, 'CHANGE MASTER TO MASTER_HEARTBEAT_PERIOD = 1');
  await c.query(minority, 'START SLAVE');
  await until(async () => (await io(c, minority)) === 'Yes', 30_000, `${minority} connected`);
  const majority = all.filter((n) => n !== minority);
  try {
    for (const n of majority) await c.sandbox('netcut-from', n, 'client', minority);
    await until(async () => (await io(c, minority)) === 'Connecting', 30_000, `${minority} to lose the master`);
    const before = await controlSnapshot(c, all);
    const r = await c.cli(['--cfg', cronConfig(c), '--failover-to', 'auto', '--if-dead']);
    if (r.exitCode !== 3) {
      v.push(`--failover-to auto --if-dead: exit ${r.exitCode}, expected 3: ${(r.stderr || r.stdout).slice(0, 400)}`);
    }
    const after = await controlSnapshot(c, all);
    if (after !== before) v.push(`the servers changed: ${before} → ${after}`);
    const others = names.filter((n) => n !== minority);
    const kept = await Promise.all(others.map((n) => io(c, n)));
    if (kept.some((x) => x !== 'Yes')) v.push(`the master's side lost it too: IO threads ${kept.join(', ')}`);
  } finally {
    for (const n of majority) await c.sandbox('netrestore', n);
  }
  // Reconnects now, not after MASTER_CONNECT_RETRY (60 s).
  await c.query(minority, 'STOP SLAVE');
  await c.query(minority, 'START SLAVE');
  await until(
    async () => (await Promise.all(names.map((n) => io(c, n)))).every((x) => x === 'Yes'),
    30_000,
    'every replica connected after the split healed',
  );
  return v.map((x) => `split (client+${minority} | master+others): ${x}`);
}

/**
 * After a failover: the writer VIP is on the new master and on no other host mmmf could reach. A host without
 * power (`unreachable`) keeps it configured, unreachable to anyone.
 */
export async function vipViolations(c: Cluster, target: string, unreachable?: string): Promise<string[]> {
  const holders = (await c.sandbox('vip-holders')).split('\n').filter(Boolean);
  const seen = holders.filter((h) => h !== unreachable);
  return seen.join() === target ? [] : [`writer VIP on [${holders.join(', ')}], expected on ${target} only`];
}

import { findOldMaster } from '../algorithm/find-old-master.js';
import { readerQualification } from '../algorithm/reader-vips.js';
import { writerProblems } from '../algorithm/writers.js';
import { colorsFor } from '../output/style.js';
import { renderStatus, renderVips, type VipView } from '../output/render-status.js';
import { renderCoordination } from '../output/render-coordination.js';
import { coordinationView } from './run/coordination.js';
import { connectMysql, withConnections, type Connector } from '../topology/connection.js';
import { loadConfig } from './load-config.js';
import { probeCluster } from '../topology/probe.js';
import { rememberHosts } from '../state/host-memory.js';

export interface StatusOptions {
  cfg: string;
  json?: boolean;
  connector?: Connector;
}

/** `mmmf status`: probe every host (read-only) and draw the topology, with who holds which VIP. Exit code 0. */
export async function statusCommand(opts: StatusOptions): Promise<number> {
  const config = await loadConfig(opts.cfg);
  const { states, coordination } = await withConnections(
    config.hosts,
    config.timeouts.connect,
    opts.connector ?? connectMysql,
    async (conns) => {
      const probed = await probeCluster(config, conns);
      rememberHosts(config.stateDir, probed.states);
      return { ...probed, coordination: await coordinationView(config, conns.open) };
    },
  );
  let vips: VipView | undefined;
  if (config.vip) {
    const { probeVipHolders } = await import('../vip/holders.js');
    const holders = await probeVipHolders(config);
    const offline = coordination.offline ?? [];
    const found = findOldMaster(states);
    const master = found.ok ? found.value.name : undefined;
    const { why } = readerQualification(config, states, master, new Set(offline));
    vips = { writer: config.vip.address, readers: config.vip.readers, holders, offline, why };
  }
  const writers = writerProblems(states, config.source);
  if (opts.json) {
    const json = {
      config: config.source,
      problems: writers,
      coordination,
      hosts: states,
      ...(vips
        ? {
            vips: {
              holders: Object.fromEntries(vips.holders.byVip),
              unknown: vips.holders.unknown,
              offline: vips.offline,
            },
          }
        : {}),
    };
    process.stdout.write(JSON.stringify(json, null, 2) + '\n');
  } else {
    const c = colorsFor(process.stdout);
    const alarms = writers.map((w) => `${c.red(`✖ ${w.message}`)}\n  ${c.dim(`fix: ${w.fix}`)}\n`).join('');
    const body =
      renderStatus(states, c, config.source) +
      (vips ? '\n\n' + renderVips(vips, c) : '') +
      '\n\n' +
      renderCoordination(coordination, c);
    process.stdout.write(alarms + (alarms ? '\n' : '') + body + '\n');
  }
  return 0;
}

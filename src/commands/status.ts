import { loadConfig } from '../topology/load-config.js';
import { connectMysql, withConnections, type Connector } from '../topology/connection.js';
import { probeCluster } from '../topology/probe.js';
import { colorsFor } from '../output/style.js';
import { renderStatus } from '../output/render-status.js';

export interface StatusOptions {
  cfg: string;
  json?: boolean;
  connector?: Connector;
}

/** `mmmf status`: probe every host (read-only) and draw the topology. Returns the exit code. */
export async function statusCommand(opts: StatusOptions): Promise<number> {
  const config = await loadConfig(opts.cfg);
  const { states } = await withConnections(
    config.hosts,
    config.timeouts.connect,
    opts.connector ?? connectMysql,
    (conns) => probeCluster(config, conns),
  );
  if (opts.json) process.stdout.write(JSON.stringify({ config: config.source, hosts: states }, null, 2) + '\n');
  else process.stdout.write(renderStatus(states, colorsFor(process.stdout), config.source) + '\n');
  return 0;
}

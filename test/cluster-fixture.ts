// One real sandbox cluster per test file: started (and prepared) before its tests, always torn down after,
// pass or fail. Use: `const cluster = useCluster({ basePort: basePortOf('my-suite') }); it('...', async () => {
// const c = cluster(); ... })`, with the suite's own range added to harness/ports.ts.
import { afterAll, beforeAll } from 'vitest';
import { startCluster, type Cluster } from '../harness/cluster.js';

export function useCluster(
  opts: Parameters<typeof startCluster>[0],
  prepare?: (c: Cluster) => Promise<void>,
): () => Cluster {
  let c: Cluster | undefined;
  beforeAll(async () => {
    c = await startCluster(opts);
    await prepare?.(c);
  });
  afterAll(async () => {
    await c?.down();
  });
  return () => {
    if (!c) throw new Error('the cluster did not start (see beforeAll)');
    return c;
  };
}

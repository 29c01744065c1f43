// The outcome every failover test ends on: the survivors hold identical data.
import { expect } from 'vitest';
import { dataFingerprint, type Cluster } from '../harness/cluster.js';

/** Every named server holds the same data (checksum and row count of every table); a failure lists each one's. */
export async function expectIdenticalData(c: Cluster, names: string[]): Promise<void> {
  const prints = await Promise.all(names.map((n) => dataFingerprint(c, n)));
  expect(new Set(prints).size, names.map((n, i) => `${n}: ${prints[i]}`).join('\n')).toBe(1);
}

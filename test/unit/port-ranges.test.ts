// Two live suites (or a suite beside the chaos harness or the bench) must never start servers on each other's
// ports: every range in harness/ports.ts is disjoint from every other, inside the ports the sandbox reserves,
// netns sandboxes get subnets of their own, and no port number is written anywhere else in test/ or harness/
// (a literal there would bypass the registry).
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../../harness/cluster.js';
import { ownerOf, PORTS, type PortRange } from '../../harness/ports.js';

const ranges: [string, PortRange][] = Object.entries(PORTS);
const sandbox = readFileSync(join(ROOT, 'scripts/sandbox.sh'), 'utf8');
const netns = readFileSync(join(ROOT, 'scripts/lib/netns.sh'), 'utf8');

/** Every TypeScript file under a folder of the repository. */
const sources = (dir: string): string[] =>
  readdirSync(join(ROOT, dir), { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts'))
    .map((e) => join(e.parentPath, e.name));

describe('port ranges', () => {
  it('no two ranges overlap', () => {
    const overlaps: string[] = [];
    for (const [i, [a, ra]] of ranges.entries()) {
      for (const [b, rb] of ranges.slice(i + 1)) {
        if (ra.first <= rb.last && rb.first <= ra.last) {
          overlaps.push(`${a} ${ra.first}..${ra.last} overlaps ${b} ${rb.first}..${rb.last}`);
        }
      }
    }
    expect(overlaps).toEqual([]);
  });

  it('MariaDB clusters stay inside the ports scripts/sandbox.sh reserves from the kernel, etcd inside its own', () => {
    const [, lo, hi] = /range=(\d+)-(\d+)/.exec(sandbox)!.map(Number);
    const outside = ranges
      .filter(([name]) => name !== 'etcd')
      .filter(([, r]) => r.first < lo! || r.last > hi!)
      .map(([name]) => name);
    expect(outside).toEqual([]);
    expect(PORTS.etcd.first > hi! || PORTS.etcd.last < lo!).toBe(true);
    const [, dflt] = /MMMF_SANDBOX_PORT:-(\d+)/.exec(sandbox)!;
    expect(ownerOf(Number(dflt), 4)).toEqual({ owner: 'sandbox-default' });
  });

  it('every --netns sandbox gets a subnet and namespace names of its own', () => {
    // subnet() in scripts/lib/netns.sh: 10.233.((BASE_PORT - A) % M + 1)
    const [, a, m] = /\$\(\(\(BASE_PORT - (\d+)\) % (\d+) \+ 1\)\)/.exec(netns)!.map(Number);
    const subnets = ranges.filter(([, r]) => r.netns).map(([name, r]) => [name, ((r.first - a!) % m!) + 1] as const);
    expect(subnets.length).toBeGreaterThanOrEqual(3);
    expect(new Set(subnets.map(([, s]) => s)).size, JSON.stringify(subnets)).toBe(subnets.length);
  });

  it('no port number is written in test/ or harness/ outside harness/ports.ts', () => {
    const literals: string[] = [];
    for (const file of [...sources('test'), ...sources('harness'), ...sources('bench')]) {
      if (file.endsWith('harness/ports.ts')) continue;
      for (const [i, line] of readFileSync(file, 'utf8').split('\n').entries()) {
        if (/\b3[34]\d{3}\b/.test(line)) literals.push(`${relative(ROOT, file)}:${i + 1}: ${line.trim()}`);
      }
    }
    expect(literals).toEqual([]);
  });

  it('a cluster that does not fit a range of its own is refused', () => {
    expect(ownerOf(PORTS['failover-crash'].first, 4)).toEqual({ owner: 'failover-crash' });
    expect(ownerOf(PORTS.bench.first, 21)).toEqual({ owner: 'bench' }); // the bench's 20 replicas
    expect(ownerOf(PORTS.abort.first, 7)).toMatchObject({ error: expect.stringMatching(/run past abort's range/) });
    expect(ownerOf(PORTS.bench.last + 1, 4)).toMatchObject({ error: expect.stringMatching(/in no range/) });
  });
});

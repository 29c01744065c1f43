// Exactly one writable master: a second one (a revived old master) or none (a master back with read_only=ON) is
// what status, check, --if-dead and the planner must all see.
import { describe, expect, it } from 'vitest';
import { writableMasters, writableReplicas, writerProblems } from '../../src/algorithm/writers.js';
import type { HostState } from '../../src/domain/server-state.js';

const version = { flavor: 'mariadb' as const, major: 10, minor: 11, patch: 19, text: '10.11.19-MariaDB' };
const server = (i: number, readOnly: boolean, source?: number): HostState => ({
  name: `db${i}`,
  address: `10.0.0.${i}:3306`,
  reachable: true,
  version,
  serverId: i,
  readOnly,
  ...(source
    ? {
        replica: {
          sourceHost: `10.0.0.${source}`,
          sourcePort: 3306,
          sourceAddress: `10.0.0.${source}:3306`,
          sourceServerId: source,
          sourceUuid: '',
          sqlDelay: 0,
          untilCondition: 'None',
          ioRunning: 'Yes',
          sqlRunning: true,
          ioState: '',
          sqlState: '',
          received: { file: 'b.1', position: 4 },
          executed: { file: 'b.1', position: 4 },
          relayLog: { file: 'r.1', position: 4 },
          secondsBehind: 0,
          gtidMode: 'Slave_Pos',
          gtidReceived: '',
          lastIoError: '',
          lastSqlError: '',
          filters: [],
        },
      }
    : {}),
});
const dead = (i: number): HostState => ({ name: `db${i}`, address: `10.0.0.${i}:3306`, reachable: false, error: 'x' });

describe('writers', () => {
  it('one master: no problem; a writable replica is not a master', () => {
    const states = [server(1, false), server(2, false, 1), server(3, true, 1)];
    expect(writableMasters(states).map((m) => m.name)).toEqual(['db1']);
    expect(writableReplicas(states)).toEqual(['db2']);
    expect(writerProblems(states, 'c.ts')).toEqual([]);
  });

  it('a revived old master: two writable masters, named, with the way out', () => {
    const [p] = writerProblems([server(1, false), server(2, true, 1), server(3, false)], 'c.ts');
    expect(p?.message).toMatch(/^2 writable masters: db1 .*, db3 \(writable, replicates from nobody\)/);
    expect(p?.fix).toMatch(/mmmf rejoin NAME --cfg c\.ts --dry-run/);
  });

  it('a master back with read_only=ON: no writable master', () => {
    const [p] = writerProblems([server(1, true), server(2, true, 1), server(3, true, 1)], 'c.ts');
    expect(p?.message).toMatch(/no writable master: db1 serves 2 replicas but is read-only/);
  });

  it('a dead master: no writable master, fail over', () => {
    const [p] = writerProblems([dead(1), server(2, true, 1)], 'c.ts');
    expect(p?.message).toMatch(/the replicas' master db1 does not answer/);
    expect(p?.fix).toMatch(/--failover-to auto/);
  });

  it('a master-master pair: the active side is the one master', () => {
    const states = [server(1, false, 2), server(2, true, 1), server(3, true, 1)];
    expect(writableMasters(states).map((m) => m.name)).toEqual(['db1']);
    expect(writerProblems(states, 'c.ts')).toEqual([]);
  });
});

// What the wire tests share: fake servers, dead masters' ports held for the test's life (dead-port.ts), and mmmf
// run against a JSON config that names them — all of a test's set torn down after it.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';
import { type CliResult, mmmf } from '../../harness/cluster.js';
import { type DeadPort, holdDeadPort } from './dead-port.js';
import { FakeCluster } from './fake-server.js';

/** A server_uuid per server id, as MySQL writes them. */
export const uuid = (n: number) => `${n}${n}${n}${n}${n}${n}${n}${n}-0000-11ef-8000-00000000000${n}`;

export interface WireRun {
  /** A fresh set of fake servers for this test (stopped after it). */
  fakes(): FakeCluster;
  /** A dead master's port: refused, and held (bound, not listening) until the test ends. */
  deadPort(): Promise<number>;
  /** The test's own folder (removed after it). */
  dir(): string;
  /** Writes the config naming `ports` (plus `extra` keys) and returns its path. */
  config(ports: Record<string, number>, extra?: object): string;
  /** mmmf with that config. */
  run(ports: Record<string, number>, args: string[], extra?: object, env?: Record<string, string>): Promise<CliResult>;
}

/** Call once per test file, at its top level: registers the teardown. */
export function useWireRun(): WireRun {
  let fakes: FakeCluster | undefined;
  let dir: string | undefined;
  const held: DeadPort[] = [];
  afterEach(async () => {
    await fakes?.stop();
    await Promise.all(held.splice(0).map((d) => d.release()));
    if (dir) rmSync(dir, { recursive: true, force: true });
    fakes = dir = undefined;
  });
  const w: WireRun = {
    fakes: () => (fakes = new FakeCluster()),
    async deadPort() {
      const d = await holdDeadPort();
      held.push(d);
      return d.port;
    },
    dir: () => (dir ??= mkdtempSync(join(tmpdir(), 'mmmf-wire-'))),
    config(ports, extra = {}) {
      const cfg = join(w.dir(), 'mmmf.config.json');
      writeFileSync(
        cfg,
        JSON.stringify({
          replication: { user: 'repl', password: 'repl-pw' },
          defaults: { user: 'admin', password: 'admin-pw' },
          stateDir: 'state',
          antiFlapMinutes: 0,
          timeouts: { connect: 2, drain: 10, equalize: 10, verify: 10 },
          hosts: Object.fromEntries(Object.entries(ports).map(([n, port]) => [n, { host: '127.0.0.1', port }])),
          ...extra,
        }),
      );
      return cfg;
    },
    run: (ports, args, extra, env) => mmmf(['--cfg', w.config(ports, extra), ...args], env),
  };
  return w;
}

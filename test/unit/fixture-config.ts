// The resolved config the pure tests plan against: hosts db1..dbN at 10.0.0.1..N, port 3306.
import type { ResolvedConfig } from '../../src/topology/config-types.js';

export function unitConfig(hosts: number, o: Partial<ResolvedConfig> = {}): ResolvedConfig {
  return {
    replication: { user: 'repl', password: 'TopSecret!' },
    hosts: Array.from({ length: hosts }, (_, k) => k + 1).map((i) => ({
      name: `db${i}`,
      host: `10.0.0.${i}`,
      port: 3306,
      user: 'root',
      password: 'AdminPw',
      ssh: { host: `10.0.0.${i}`, user: 'root', port: 22, options: [] },
    })),
    timeouts: { connect: 3, drain: 300, equalize: 600, verify: 60, hook: 60 },
    positioning: 'gtid',
    stateDir: '/nonexistent',
    antiFlapMinutes: 60,
    journalMaxAgeMinutes: 60,
    deadConfirmSeconds: 10,
    sshConfigured: false,
    hooks: {},
    switchover: { maxLagSeconds: 10, maxTransactionSeconds: 5 },
    candidates: [],
    neverPromote: [],
    source: 'fixture',
    ...o,
  };
}

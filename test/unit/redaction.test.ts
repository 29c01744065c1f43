// A server error that quotes the statement near a password must not carry the password anywhere.
import { describe, expect, it } from 'vitest';
import { redactingConnector } from '../../src/output/run-log.js';
import { unitConfig } from './fixture-config.js';

describe('redactingConnector', () => {
  it('cuts the quoted statement from an error about a statement that held a secret, and redacts passwords', async () => {
    const cfg = { ...unitConfig(2), replication: { user: 'repl', password: "a'b\\c" } };
    const err = Object.assign(
      new Error(
        "You have an error in your SQL syntax; check the manual that corresponds to your MariaDB server version for the right syntax to use near 'b\\\\c', MASTER_USE_GTID = slave_pos' at line 1",
      ),
      { code: 'ER_PARSE_ERROR', errno: 1064 },
    );
    const connector = redactingConnector(
      async () => ({
        name: 'x',
        async query() {
          throw err;
        },
        async close() {},
      }),
      cfg,
    );
    const conn = await connector(cfg.hosts[0]!, 1);
    const thrown = await conn
      .query("CHANGE MASTER TO MASTER_PASSWORD = 'a\\'b\\\\c', MASTER_USE_GTID = slave_pos")
      .catch((e: Error) => e);
    expect(thrown).toBeInstanceOf(Error);
    const msg = (thrown as Error).message;
    expect(msg).toMatch(/near <the statement, not shown: it holds a secret> at line 1/);
    expect(msg).not.toContain('b\\');
    expect((thrown as { errno?: number }).errno).toBe(1064); // still mapped like any server error
  });
});

// The config's defaults live in one table (CONFIG_DEFAULTS), which the validator fills in; the README's config
// table must state the same values, so neither can drift from the other.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CONFIG_DEFAULTS } from '../../src/topology/config-defaults.js';
import { validateConfig } from '../../src/topology/validate-config.js';

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
const table = readme.slice(readme.indexOf('| key | meaning | default |'));
/** Each row of the README's config table: the settings it names and the values its default column states. */
const rows = table
  .slice(0, table.indexOf('\n\n'))
  .split('\n')
  .slice(2)
  .map((line) => line.split(' | '))
  .map(([keys = '', , defaults = '']) => ({
    keys: [...keys.matchAll(/`([\w.]+)`/g)].map((m) => m[1]!),
    values: [...defaults.matchAll(/`[^`]+`|\b\d+\b/g)].map((m) => m[0]),
  }));
/** How the README writes a default: numbers bare, strings and lists as code. */
const shown = (v: unknown) =>
  typeof v === 'number' ? String(v) : typeof v === 'string' ? `\`'${v}'\`` : `\`${JSON.stringify(v)}\``;
/** Rows whose default is another setting, the environment or the SSH setup, not a value of its own. */
const DERIVED = ['stateDir', 'hosts.NAME.port', 'hosts.NAME.user', 'salvage'];

describe('config defaults', () => {
  it('the README states every default of CONFIG_DEFAULTS, in the order its rows name the settings', () => {
    for (const [key, value] of Object.entries(CONFIG_DEFAULTS)) {
      const row = rows.find((r) => r.keys.includes(key));
      expect(row, `README config table row for ${key}`).toBeDefined();
      const withDefaults = row!.keys.filter((k) => k in CONFIG_DEFAULTS);
      expect(row!.values[withDefaults.indexOf(key)], key).toBe(shown(value));
    }
  });

  it('no README row states a default the code does not have', () => {
    const stray = rows.filter(
      (r) => r.values.length && !r.keys.some((k) => k in CONFIG_DEFAULTS || DERIVED.includes(k)),
    );
    expect(stray.map((r) => r.keys.join(', '))).toEqual([]);
  });

  it('the validator fills in exactly these values', () => {
    const { config } = validateConfig(
      {
        replication: { user: 'repl', password: 'x' },
        defaults: { user: 'root' },
        hosts: { a: { host: '10.0.0.1' }, b: { host: '10.0.0.2' } },
        vip: { address: '10.0.0.100/24', interface: 'eth0' },
      },
      '/etc/mmmf/mmmf.config.json',
    );
    const d = CONFIG_DEFAULTS;
    expect(config).toMatchObject({
      timeouts: {
        connect: d['timeouts.connect'],
        drain: d['timeouts.drain'],
        equalize: d['timeouts.equalize'],
        verify: d['timeouts.verify'],
        hook: d['timeouts.hook'],
      },
      positioning: d.positioning,
      antiFlapMinutes: d.antiFlapMinutes,
      deadConfirmSeconds: d.deadConfirmSeconds,
      switchover: {
        maxLagSeconds: d['switchover.maxLagSeconds'],
        maxTransactionSeconds: d['switchover.maxTransactionSeconds'],
      },
      vip: { readers: d['vip.readers'], readerMaxLagSeconds: d['vip.readerMaxLagSeconds'] },
    });
    expect(config?.hosts[0]).toMatchObject({
      port: d['defaults.port'],
      ssh: { user: d['ssh.user'], port: d['ssh.port'] },
    });
  });
});

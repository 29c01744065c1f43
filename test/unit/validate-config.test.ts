import { describe, expect, it } from 'vitest';
import { validateConfig } from '../../src/topology/validate-config.js';

const good = {
  replication: { user: 'repl', password: 'pw' },
  defaults: { user: 'root', password: '' },
  hosts: { a: { host: '10.0.0.1' }, b: { host: '10.0.0.2', port: 3307, password: 'hunter2' } },
};

describe('config validation', () => {
  it('resolves defaults into every host', () => {
    const { config, problems } = validateConfig(good, 'x.ts');
    expect(problems).toEqual([]);
    expect(config!.hosts).toEqual([
      { name: 'a', host: '10.0.0.1', port: 3306, user: 'root', password: '' },
      { name: 'b', host: '10.0.0.2', port: 3307, user: 'root', password: 'hunter2' },
    ]);
    expect(config!.timeouts.equalize).toBe(600);
  });

  it('lists every problem at once and never quotes a password', () => {
    const { config, problems } = validateConfig({
      replication: { user: 'repl', password: 12345 },
      hosts: {
        a: { host: '10.0.0.1', port: 70000, user: 'root', colour: 'red' },
        b: { host: '10.0.0.1', port: 3306, user: 'root' },
        c: { host: '10.0.0.1', user: 'root' },
        'bad name': { host: 'x', user: 'root' },
        d: { port: 3306 },
      },
      timeouts: { drain: -1 },
      extra: true,
    }, 'x.ts');
    expect(config).toBeUndefined();
    const text = problems.join('\n');
    for (const needle of [
      'extra: unknown key', 'replication.password: must be a string, got number', 'hosts.a.port: must be an integer',
      'hosts.a.colour: unknown key', 'hosts.c: same address 10.0.0.1:3306 as hosts.b', 'hosts.bad name: a host name',
      'hosts.d.host: missing', 'hosts.d.user: missing', 'timeouts.drain: must be a positive number',
    ]) expect(text).toContain(needle);
    expect(text).not.toContain('12345');
  });

  it('rejects a non-object and a missing hosts/replication', () => {
    expect(validateConfig(42, 'x').problems[0]).toMatch(/must be an object/);
    const { problems } = validateConfig({}, 'x');
    expect(problems.some((p) => p.startsWith('replication: missing'))).toBe(true);
    expect(problems.some((p) => p.startsWith('hosts: missing'))).toBe(true);
  });
});

// The wire tests' dead master port: refused like a dead server's, and nobody else can take it while held.
import { connect, createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { holdDeadPort } from './dead-port.js';

const connectTo = (port: number) =>
  new Promise<string>((resolve) => {
    const c = connect({ host: '127.0.0.1', port });
    c.on('connect', () => (c.destroy(), resolve('connected')));
    c.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
  });
const listenOn = (port: number, host?: string) =>
  new Promise<string>((resolve) => {
    const s = createServer();
    s.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
    s.listen(port, host, () => s.close(() => resolve('listening')));
  });

describe('a held dead port', () => {
  it('refuses connections and cannot be taken by a listener until released', async () => {
    const dead = await holdDeadPort();
    try {
      expect(await connectTo(dead.port)).toBe('ECONNREFUSED');
      expect(await listenOn(dead.port, '127.0.0.1')).toBe('EADDRINUSE');
      expect(await listenOn(dead.port)).toBe('EADDRINUSE');
    } finally {
      await dead.release();
    }
  });
});

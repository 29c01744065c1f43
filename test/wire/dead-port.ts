// A port nothing listens on, held for a test's whole life: the local end of a connection from this process to
// a listener of its own. Connecting to it is refused (ECONNREFUSED, like a dead server's port), and while it is
// held no listen() on this machine can take it (EADDRINUSE), so the kernel cannot hand it to the next fake
// server. A port taken by listening and closing again could be handed out at once: the port right after a
// block reserved from the ephemeral range is a hot spot for bind(0).
import { connect, createServer, type Server, type Socket } from 'node:net';

export interface DeadPort {
  port: number;
  release(): Promise<void>;
}

export async function holdDeadPort(): Promise<DeadPort> {
  const accepted: Socket[] = [];
  const listener: Server = createServer((s) => accepted.push(s.on('error', () => {})));
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
  const { port: listening } = listener.address() as { port: number };
  const client = connect({ host: '127.0.0.1', port: listening }).on('error', () => {});
  await new Promise<void>((resolve) => client.once('connect', () => resolve()));
  const port = client.localPort;
  if (!port) throw new Error('the held connection has no local port');
  return {
    port,
    async release() {
      client.destroy();
      for (const s of accepted) s.destroy();
      await new Promise<void>((resolve) => listener.close(() => resolve()));
    },
  };
}

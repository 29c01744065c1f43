import { connect } from 'node:net';
import type { ResolvedHost } from './config-types.js';

/** CLIENT_SSL in the capability flags of the server's greeting: the server offers TLS. */
const CLIENT_SSL = 0x0800;

/**
 * Reads only the server's greeting (protocol v10 handshake): its version and whether it offers TLS. Nothing is
 * sent, least of all credentials, so it is safe against any server, even one that is not who it claims to be.
 * Undefined when nothing answers like a MySQL server within `ms`.
 *
 * @example { version: '10.11.19-MariaDB-0+deb12u1', offersTls: true }
 */
export function readGreeting(
  host: ResolvedHost,
  ms: number,
): Promise<{ version: string; offersTls: boolean } | undefined> {
  return new Promise((resolve) => {
    const sock = host.socket ? connect(host.socket) : connect(host.port, host.host);
    let buf = Buffer.alloc(0);
    const done = (v: { version: string; offersTls: boolean } | undefined) => {
      clearTimeout(timer);
      sock.destroy();
      resolve(v);
    };
    const timer = setTimeout(() => done(undefined), ms);
    sock.on('error', () => done(undefined));
    sock.on('close', () => done(undefined));
    sock.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      if (buf.length < 4) return;
      const len = buf.readUIntLE(0, 3);
      if (buf.length < 4 + len) return;
      done(parseGreeting(buf.subarray(4, 4 + len)));
    });
  });
}

/** Parses a greeting packet's payload (protocol version 10); undefined for anything else (an error packet). */
export function parseGreeting(p: Buffer): { version: string; offersTls: boolean } | undefined {
  if (p[0] !== 10) return undefined;
  const end = p.indexOf(0, 1);
  if (end < 0) return undefined;
  // version NUL, connection id (4), auth data part 1 (8), filler (1), capability flags, lower 2 bytes
  const caps = end + 1 + 4 + 8 + 1;
  if (p.length < caps + 2) return undefined;
  return { version: p.toString('latin1', 1, end), offersTls: (p.readUInt16LE(caps) & CLIENT_SSL) !== 0 };
}

/** `host:port` as replicas name a server. Example: `formatAddress({ host: 'db2', port: 3306 })` → `'db2:3306'` */
export const formatAddress = (h: { host: string; port: number }) => `${h.host}:${h.port}`;

/** The host and port of `host:port`; the port follows the last colon (the host may be an IPv6 address). */
export function parseAddress(address: string): { host: string; port: number } {
  const colon = address.lastIndexOf(':');
  return { host: address.slice(0, colon), port: Number(address.slice(colon + 1)) };
}

/**
 * TLS settings: CA, certificate and key files, and whether the other side's certificate is verified. The same
 * shape serves mmmf's own connections (files next to the config), the replication channels mmmf creates
 * (files on each replica's host, read by the server) and a channel's settings as its status row shows them.
 *
 * @example { ca: '/etc/mysql/tls/ca.pem', cert: '/etc/mysql/tls/client.pem', key: '/etc/mysql/tls/client.key' }
 */
export interface Tls {
  ca?: string;
  cert?: string;
  key?: string;
  /** Check the other side's certificate against `ca` and its name against the host (default true). */
  verifyServerCert?: boolean;
}

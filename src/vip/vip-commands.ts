import { shellQuote } from '../process/shell-quote.js';
import type { ResolvedHost } from '../topology/config-types.js';

export { shellQuote };

// The remote commands that move the writer VIP. Every value travels as a positional argument of a fixed
// script, so no host name, interface or address is ever interpreted by a shell.

/** Removes the address when present; succeeds when it is already gone (idempotent). */
export function vipRemoveArgv(address: string, iface: string): string[] {
  return [
    'sh',
    '-c',
    'if ip -o addr show dev "$1" | grep -qF " $2 "; then ip addr del "$2" dev "$1"; fi',
    'mmmf-vip',
    iface,
    address,
  ];
}

/**
 * Adds the address when absent, then announces it with a gratuitous ARP so neighbours update at once. The
 * ARP is sent in the background: arping sends at once but lingers a second before exiting.
 */
export function vipAddArgv(address: string, iface: string): string[] {
  return [
    'sh',
    '-c',
    'ip -o addr show dev "$1" | grep -qF " $2 " || ip addr add "$2" dev "$1" || exit 1; ' +
      '(arping -q -U -c 1 -I "$1" "${2%/*}" >/dev/null 2>&1 &)',
    'mmmf-vip',
    iface,
    address,
  ];
}

/**
 * The armed forms (vip/armed.ts), run the moment the word comes: the change itself first — one process — and
 * the check only when it failed, so the VIP is on no host for as short a time as the hosts allow. Idempotent
 * like the plain forms: removing an absent address, or adding a present one, succeeds.
 */
export function vipRemoveNowArgv(address: string, iface: string): string[] {
  return [
    'sh',
    '-c',
    'ip addr del "$2" dev "$1" 2>/dev/null || ! ip -o addr show dev "$1" | grep -qF " $2 " || exit 1',
    'mmmf-vip',
    iface,
    address,
  ];
}

export function vipAddNowArgv(address: string, iface: string): string[] {
  return [
    'sh',
    '-c',
    '{ ip addr add "$2" dev "$1" 2>/dev/null || ip -o addr show dev "$1" | grep -qF " $2 "; } || exit 1; ' +
      '(arping -q -U -c 1 -I "$1" "${2%/*}" >/dev/null 2>&1 &)',
    'mmmf-vip',
    iface,
    address,
  ];
}

/** Prints "yes" when the host holds the address, "no" otherwise. */
export function vipCheckArgv(address: string, iface: string): string[] {
  return [
    'sh',
    '-c',
    'if ip -o addr show dev "$1" | grep -qF " $2 "; then echo yes; else echo no; fi',
    'mmmf-vip',
    iface,
    address,
  ];
}

/** How the plan shows a remote command (a person could paste it). */
export function showRemote(host: ResolvedHost, argv: string[]): string {
  return `ssh ${host.ssh.user}@${host.ssh.host} ${argv.map(shellQuote).join(' ')}`;
}

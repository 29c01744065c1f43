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

/** Exit code of an armed command that never got its "go": it did nothing. */
export const NOT_FIRED = 97;

/**
 * The armed forms (vip/armed.ts): each waits for the word "go" on its stdin — anything else (end of file) exits
 * NOT_FIRED (97) with nothing done — then makes the change itself first (the removal checks only when it failed,
 * the add reads the address back after its ARP went out) and prints `mmmf-done-at <host clock, ns> 0` when done,
 * so the VIP is on no host for as short a time as the hosts allow. Idempotent like the plain forms: removing an
 * absent address, or adding a present one, succeeds.
 *
 * The removal reads the host's clock before it runs, the add after it (and after its ARP was started): the
 * window the two give is never shorter than the real one.
 */
export function vipRemoveNowArgv(address: string, iface: string): string[] {
  return [
    'sh',
    '-c',
    `IFS= read -r go && [ "$go" = go ] || exit ${NOT_FIRED}; t=$(date +%s%N); ` +
      'ip addr del "$2" dev "$1" 2>/dev/null || ! ip -o addr show dev "$1" | grep -qF " $2 " || exit 1; ' +
      'echo "mmmf-done-at $t 0"',
    'mmmf-vip',
    iface,
    address,
  ];
}

/**
 * The add runs `ip` before the word comes, reading its one command from a pipe (`ip -batch -`): after "go" the
 * address is added without an `ip` to load (2–3 ms on a busy host, measured here). The left side of the pipe
 * says whether the word came (l0), so a wait that ended without "go" does nothing more. Whatever ip answered,
 * the gratuitous ARP goes out at once (arping cannot bind an address the host lacks: it then sends nothing),
 * and the address is read back before the done line — an add whose done line came needs no second session to
 * check it. The address and interface reach ip's own parser (never a shell's); the config allows only an
 * interface name and an IPv4 address with its prefix there.
 */
export function vipAddNowArgv(address: string, iface: string): string[] {
  return [
    'sh',
    '-c',
    'st=$( { { IFS= read -r go && [ "$go" = go ] && printf \'address add %s dev %s\\n\' "$2" "$1"; ' +
      "printf 'l%s' $? >&5; } | ip -batch - >/dev/null 2>&1; } 5>&1 ); " +
      `case $st in *l0*) ;; *) exit ${NOT_FIRED} ;; esac; ` +
      '(arping -q -U -c 1 -I "$1" "${2%/*}" >/dev/null 2>&1 &); ' +
      't=$(date +%s%N); ip -o addr show dev "$1" | grep -qF " $2 " || exit 1; echo "mmmf-done-at $t 0"',
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

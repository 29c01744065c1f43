import { shellQuote } from '../process/shell-quote.js';
import type { ResolvedHost } from '../topology/config-types.js';

export { shellQuote };

// The remote commands that move the writer VIP. Every value travels as a positional argument of a fixed
// script, so no host name, interface or address is ever interpreted by a shell.

/** A fixed script run by `sh -c`, with the interface as $1 and the address (with its prefix) as $2. */
const vipScript = (script: string, address: string, iface: string): string[] => [
  'sh',
  '-c',
  script,
  'mmmf-vip',
  iface,
  address,
];

/** Succeeds when the host holds the address ($2) on the interface ($1). */
const HOLDS = 'ip -o addr show dev "$1" | grep -qF " $2 "';
/** The gratuitous ARP, in the background: arping sends at once but lingers a second before exiting. */
const ANNOUNCE = '(arping -q -U -c 1 -I "$1" "${2%/*}" >/dev/null 2>&1 &)';
/** Reads the armed command's word: true only for "go" (end of file — mmmf gone, disarmed — is not). */
const GOT_GO = 'IFS= read -r go && [ "$go" = go ]';

/** Removes the address when present; succeeds when it is already gone (idempotent). */
export function vipRemoveArgv(address: string, iface: string): string[] {
  return vipScript(`if ${HOLDS}; then ip addr del "$2" dev "$1"; fi`, address, iface);
}

/** Adds the address when absent, then announces it with a gratuitous ARP so neighbours update at once. */
export function vipAddArgv(address: string, iface: string): string[] {
  return vipScript(`${HOLDS} || ip addr add "$2" dev "$1" || exit 1; ${ANNOUNCE}`, address, iface);
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
  return vipScript(
    `${GOT_GO} || exit ${NOT_FIRED}; t=$(date +%s%N); ` +
      `ip addr del "$2" dev "$1" 2>/dev/null || ! ${HOLDS} || exit 1; echo "mmmf-done-at $t 0"`,
    address,
    iface,
  );
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
  return vipScript(
    `st=$( { { ${GOT_GO} && printf 'address add %s dev %s\\n' "$2" "$1"; ` +
      "printf 'l%s' $? >&5; } | ip -batch - >/dev/null 2>&1; } 5>&1 ); " +
      `case $st in *l0*) ;; *) exit ${NOT_FIRED} ;; esac; ${ANNOUNCE}; ` +
      `t=$(date +%s%N); ${HOLDS} || exit 1; echo "mmmf-done-at $t 0"`,
    address,
    iface,
  );
}

/** Prints "yes" when the host holds the address, "no" otherwise. */
export function vipCheckArgv(address: string, iface: string): string[] {
  return vipScript(`if ${HOLDS}; then echo yes; else echo no; fi`, address, iface);
}

/** How the plan shows a remote command (a person could paste it). */
export function showRemote(host: ResolvedHost, argv: string[]): string {
  return `ssh ${host.ssh.user}@${host.ssh.host} ${argv.map(shellQuote).join(' ')}`;
}

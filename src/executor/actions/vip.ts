import { runFenceHook } from '../../safety/hooks.js';
import type { ResolvedConfig, ResolvedHost } from '../../topology/config-types.js';
import { runRemote } from '../../vip/remote.js';
import { type Armed, armRemote } from '../../vip/armed.js';
import type { Step } from '../../algorithm/plan-types.js';
import { vipAddArgv, vipAddNowArgv, vipCheckArgv, vipRemoveArgv, vipRemoveNowArgv } from '../../vip/vip-commands.js';
import type { ActionContext, Handler } from '../types.js';
import { formatAddress } from '../../domain/address.js';

// Steps that work over SSH or locally, never over SQL: the host's database may well be down.

/** The writer VIP, or the reader VIP `address`, on host `name`. */
function vipOf(
  ctx: ActionContext,
  name: string,
  address?: string,
): { host: ResolvedHost; address: string; iface: string; what: string } {
  const vip = ctx.config.vip;
  const host = ctx.config.hosts.find((h) => h.name === name);
  if (!vip || !host) throw new Error(`no VIP configured for ${name}`);
  const what = address ? 'reader VIP' : 'VIP';
  return { host, address: address ?? vip.address, iface: host.vipInterface ?? vip.interface, what };
}

const said = (r: { out: string; code: number | undefined }) => r.out || `exit ${r.code}`;

/** What ssh says when the host itself does not answer (not when it answers and refuses). */
const UNREACHABLE = /timed out|No route to host|Network is unreachable|Host is unreachable|no answer within/i;

/** VIP steps whose command waits, armed, on its host: by step number (one run per process). */
const armed = new Map<number, Armed>();

/**
 * Starts the writer VIP's move ahead of time (called as the promotion begins): ssh runs and each host's shell
 * waits for the word, so the address leaves the old master and reaches the new one milliseconds apart. An armed
 * command that is never fired (the promotion failed) is disarmed when the run ends, having done nothing.
 */
export function armVipMove(steps: Step[], config: ResolvedConfig, holdSec: number): void {
  const vip = config.vip;
  if (!vip) return;
  for (const s of steps) {
    const kind = s.action.kind;
    if (s.phase !== 'vip' || (kind !== 'vip-remove' && kind !== 'vip-add') || s.action.address) continue;
    const host = config.hosts.find((h) => h.name === s.host);
    if (!host || armed.has(s.n)) continue;
    const iface = host.vipInterface ?? vip.interface;
    const argv = kind === 'vip-remove' ? vipRemoveNowArgv(vip.address, iface) : vipAddNowArgv(vip.address, iface);
    armed.set(s.n, armRemote(host, argv, { connectTimeoutSec: config.timeouts.connect, holdSec }));
  }
}

/** Ends every armed command that was not fired; they do nothing. */
export async function disarmVipMove(): Promise<void> {
  const left = [...armed.values()];
  armed.clear();
  await Promise.all(left.map((a) => a.disarm()));
}

/**
 * The armed command of this step, fired: its result when it ran and succeeded. Anything else (it died, it timed
 * out, ssh failed while waiting) says nothing about the host now, so the step asks the host afresh.
 */
async function fireArmed(n: number): Promise<{ at?: number } | undefined> {
  const a = armed.get(n);
  if (!a) return undefined;
  armed.delete(n);
  const r = await a.fire();
  return r.ok ? (r.at !== undefined ? { at: r.at } : {}) : undefined;
}

export const vipRemove: Handler<'vip-remove'> = async (step, ctx) => {
  const { host, address, iface, what } = vipOf(ctx, step.host, step.action.address);
  const fired = await fireArmed(step.n);
  if (fired) return { detail: `${address} is not on ${host.name}`, ...vipOutput(fired) };
  const r = await runRemote(host, vipRemoveArgv(address, iface), ctx.config.timeouts.connect);
  // A host that does not answer at all (no route, silent: a power loss) answers for no address either: the VIP
  // may go to the new master. A host that answers but refuses (sshd down, a key refused) may still hold it.
  if (!r.ok && (r.code === 255 || r.code === undefined) && UNREACHABLE.test(r.out)) {
    return {
      detail: `${host.name} does not answer over SSH (${said(r)}): it answers for no address now`,
      alreadyDone: true,
    };
  }
  if (!r.ok) {
    throw new Error(
      `could not remove the ${what} ${address} from ${host.name} over SSH (${said(r)}): the host answers, so it ` +
        `may still answer for the ${what}${step.action.address ? '' : ', and the new master does not take it'} — ` +
        `remove it there by hand (or power the host off), then run mmmf --cfg ${ctx.config.source} roles`,
    );
  }
  return { detail: `${address} is not on ${host.name}` };
};

export const vipAdd: Handler<'vip-add'> = async (step, ctx) => {
  const { host, address, iface, what } = vipOf(ctx, step.host, step.action.address);
  const timeout = ctx.config.timeouts.connect;
  const fired = await fireArmed(step.n);
  const r = fired ? { ok: true, code: 0, out: '' } : await runRemote(host, vipAddArgv(address, iface), timeout);
  if (!r.ok) {
    const reach = step.action.address
      ? 'readers cannot reach it through it'
      : 'applications cannot reach the new master through it';
    throw new Error(`could not add the ${what} ${address} on ${host.name} over SSH (${said(r)}): ${reach}`);
  }
  // Read it back: an exit code of 0 is not proof enough that the address is there. The armed form read it back
  // itself before it said it was done (vip-commands.ts).
  const check = fired ? undefined : await runRemote(host, vipCheckArgv(address, iface), timeout);
  if (check && check.out.split('\n').pop() !== 'yes') {
    throw new Error(`added the ${what} ${address} on ${host.name}, but reading it back says '${check.out}'`);
  }
  return { detail: `${address} on ${host.name}, gratuitous ARP sent`, ...vipOutput(fired) };
};

const vipOutput = (fired: { at?: number } | undefined) =>
  fired?.at !== undefined ? { output: { vipAt: fired.at } } : {};

export const vipVerify: Handler<'vip-verify'> = async (step, ctx) => {
  const holder = step.action.holder;
  const answers = await vipHolders(ctx.config);
  const holders = answers.filter((x) => x.holds).map((x) => x.name);
  const unknown = answers.filter((x) => x.holds === undefined).map((x) => x.name);
  const note = unknown.length ? `; not reachable over SSH, so not checked: ${unknown.join(', ')}` : '';
  if (holders.length !== 1 || holders[0] !== holder) {
    throw new Error(`the VIP is held by [${holders.join(', ')}], expected only ${holder}${note}`);
  }
  return { detail: `only ${holder} holds ${ctx.config.vip?.address}${note}` };
};

/** Asks every configured host whether it holds the writer VIP; undefined when it cannot be asked. */
export async function vipHolders(config: ResolvedConfig): Promise<{ name: string; holds: boolean | undefined }[]> {
  const vip = config.vip;
  if (!vip) return [];
  return Promise.all(
    config.hosts.map(async (h) => {
      const r = await runRemote(h, vipCheckArgv(vip.address, h.vipInterface ?? vip.interface), config.timeouts.connect);
      return { name: h.name, holds: r.ok ? r.out.split('\n').pop() === 'yes' : undefined };
    }),
  );
}

export const fenceHook: Handler<'fence-hook'> = async (step, ctx) => {
  const old = ctx.config.hosts.find((h) => h.name === step.host);
  const outcome = await runFenceHook(ctx.config, step.host, old ? formatAddress(old) : '');
  if (!outcome.ok) throw new Error(`fence hook ${outcome.detail}: the old master may still take writes`);
  return { detail: `fence hook: ${outcome.detail}` };
};

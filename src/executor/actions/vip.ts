import { runFenceHook } from '../../safety/hooks.js';
import type { ResolvedConfig, ResolvedHost } from '../../topology/config-types.js';
import { runRemote } from '../../vip/remote.js';
import { vipAddArgv, vipCheckArgv, vipRemoveArgv } from '../../vip/vip-commands.js';
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

export const vipRemove: Handler<'vip-remove'> = async (step, ctx) => {
  const { host, address, iface, what } = vipOf(ctx, step.host, step.action.address);
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
  const r = await runRemote(host, vipAddArgv(address, iface), timeout);
  if (!r.ok) {
    const reach = step.action.address
      ? 'readers cannot reach it through it'
      : 'applications cannot reach the new master through it';
    throw new Error(`could not add the ${what} ${address} on ${host.name} over SSH (${said(r)}): ${reach}`);
  }
  // Read it back: an exit code of 0 is not proof enough that the address is there.
  const check = await runRemote(host, vipCheckArgv(address, iface), timeout);
  if (check.out.split('\n').pop() !== 'yes') {
    throw new Error(`added the ${what} ${address} on ${host.name}, but reading it back says '${check.out}'`);
  }
  return { detail: `${address} on ${host.name}, gratuitous ARP sent` };
};

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

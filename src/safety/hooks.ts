import type { Plan } from '../algorithm/plan-types.js';
import type { HookCommand, ResolvedConfig } from '../topology/config-types.js';

export type HookName = 'preFailover' | 'postFailover' | 'onFailure' | 'fence';

/** What a hook did; `ok` false when it exited non-zero, timed out or could not start. */
export interface HookOutcome {
  hook: HookName;
  ok: boolean;
  detail: string;
}

/** The key facts a hook gets in its environment, so a one-line shell hook needs no JSON parsing. */
export function hookEnv(
  config: ResolvedConfig,
  plan: Plan,
  hook: HookName,
  outcome?: 'done' | 'failed',
): Record<string, string> {
  const addr = (name: string) => config.hosts.find((h) => h.name === name);
  const t = addr(plan.target);
  return {
    MMMF_HOOK: hook,
    MMMF_MODE: plan.kind,
    MMMF_CONFIG: config.source,
    MMMF_OLD_MASTER: plan.oldMaster.name ?? '',
    MMMF_OLD_MASTER_ADDRESS: plan.oldMaster.address,
    MMMF_OLD_MASTER_REACHABLE: plan.oldMaster.reachable ? '1' : '0',
    MMMF_NEW_MASTER: plan.target,
    MMMF_NEW_MASTER_ADDRESS: t ? `${t.host}:${t.port}` : '',
    ...(outcome ? { MMMF_OUTCOME: outcome } : {}),
  };
}

/**
 * Runs one configured hook with `input` as JSON on stdin. Never throws: the caller decides what a failure
 * means (a failed preFailover aborts; later failures are reported, never hidden).
 */
export async function runHook(
  config: ResolvedConfig,
  hook: HookName,
  env: Record<string, string>,
  input: unknown,
): Promise<HookOutcome | undefined> {
  const cmd: HookCommand | undefined = config.hooks[hook];
  if (!cmd) return undefined;
  const { execa } = await import('execa');
  const opts = {
    input: JSON.stringify(input) + '\n',
    env,
    timeout: config.timeouts.hook * 1000,
    reject: false,
    all: true,
  } as const;
  const r =
    typeof cmd === 'string' ? await execa('/bin/sh', ['-c', cmd], opts) : await execa(cmd[0]!, cmd.slice(1), opts);
  const output = String(r.all ?? '')
    .trim()
    .split('\n')
    .slice(-5)
    .join(' | ');
  if (r.timedOut)
    return { hook, ok: false, detail: `timed out after ${config.timeouts.hook} s${output ? `: ${output}` : ''}` };
  if (r.failed)
    return {
      hook,
      ok: false,
      detail: `${r.exitCode !== undefined ? `exited ${r.exitCode}` : r.shortMessage}${output ? `: ${output}` : ''}`,
    };
  return { hook, ok: true, detail: output || 'ok' };
}

/** The fence hook (e.g. power the old master off) when it cannot be fenced over SQL; stdin is empty. */
export async function runFenceHook(config: ResolvedConfig, oldMaster: string, address: string): Promise<HookOutcome> {
  const env = {
    MMMF_HOOK: 'fence',
    MMMF_CONFIG: config.source,
    MMMF_OLD_MASTER: oldMaster,
    MMMF_OLD_MASTER_ADDRESS: address,
  };
  return (await runHook(config, 'fence', env, {})) ?? { hook: 'fence', ok: true, detail: 'no fence hook configured' };
}

import type { Plan } from '../algorithm/plan-types.js';
import { runChild } from '../process/run-child.js';
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
 * What a hook process gets: the documented MMMF_* event variables and what a program needs to run (PATH, the
 * locale, HOME and the user's name for tools that read their own settings) — never the rest of mmmf's
 * environment, which may hold the passwords a config reads from variables.
 */
const PASSED_THROUGH = /^(PATH|HOME|USER|LOGNAME|LANG|LANGUAGE|TZ|TMPDIR|LC_[A-Z_]+)$/;

export function hookProcessEnv(event: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && PASSED_THROUGH.test(k)) env[k] = v;
  env.PATH ??= '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
  return { ...env, ...event };
}

/**
 * Runs one configured hook with `input` as JSON on stdin, in a process group of its own that is ended at its
 * deadline (a hook whose child holds its output, like `sleep 3600 | cat`, cannot hold the run). Never throws: the caller decides what a failure
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
  const timeoutMs = config.timeouts.hook * 1000;
  const options = { input: JSON.stringify(input) + '\n', env: hookProcessEnv(env), timeoutMs };
  const r =
    typeof cmd === 'string'
      ? await runChild('/bin/sh', ['-c', cmd], options)
      : await runChild(cmd[0] ?? '', cmd.slice(1), options);
  const output = r.out.split('\n').slice(-5).join(' | ');
  const tail = output ? `: ${output}` : '';
  if (r.timedOut) return { hook, ok: false, detail: `timed out after ${config.timeouts.hook} s (stopped)${tail}` };
  if (r.startError) return { hook, ok: false, detail: `could not start (${r.startError})${tail}` };
  if (!r.ok) {
    const how = r.code !== undefined ? `exited ${r.code}` : `killed by ${r.signal ?? 'a signal'}`;
    return { hook, ok: false, detail: `${how}${tail}` };
  }
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

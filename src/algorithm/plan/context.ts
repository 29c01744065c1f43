import { type Dialect, dialectFor, type SourceSpec } from '../../dialect/dialect.js';
import type { ResolvedConfig, ResolvedHost } from '../../topology/config-types.js';
import type { HostState, ProbedHost } from '../../domain/server-state.js';
import type { PlannableAnalysis } from '../analyze-topology.js';
import type { OnFailure, Phase, Step, StepAction, StepRef } from '../plan-types.js';
import type { SemiSyncIntent } from '../semi-sync-intent.js';

/** How a run-time value is shown in the printed plan (and found again by the executor's materialize). */
export const showRef = (ref: StepRef) => `<${ref.key} from step ${ref.step}>`;

/** A printed placeholder for binlog coordinates a step produces at run time. */
export const coordinatesOf = (step: number) => ({
  file: showRef({ step, key: 'file' }),
  position: showRef({ step, key: 'pos' }),
});

/** What a new step says; `after` names the steps that must have succeeded first (undefined entries ignored). */
export interface NewStep {
  phase: Phase;
  host: string;
  title: string;
  action: StepAction;
  sql?: string[];
  command?: string[];
  why: string;
  after?: (Step | undefined)[];
  onFailure?: OnFailure;
}

/** The growing list of steps, numbered in execution order. */
export class StepList {
  readonly steps: Step[] = [];

  add(s: NewStep): Step {
    const after = [...new Set(s.after?.filter((x): x is Step => !!x).map((x) => x.n))].sort((a, b) => a - b);
    const step: Step = {
      n: this.steps.length + 1,
      phase: s.phase,
      host: s.host,
      title: s.title,
      action: s.action,
      sql: s.sql ?? [],
      ...(s.command ? { command: s.command } : {}),
      why: s.why,
      after,
      onFailure: s.onFailure ?? 'fail',
    };
    this.steps.push(step);
    return step;
  }
}

/** Everything the phase builders share: the config, the analysis that passed its gate, and the step list. */
export interface PlanContext {
  config: ResolvedConfig;
  analysis: PlannableAnalysis;
  switchover: boolean;
  list: StepList;
  /** Semi-synchronous replication to carry (plan/semi-sync.ts); absent: not touched. */
  semiSync?: SemiSyncIntent;
}

export const dialectOf = (s: ProbedHost): Dialect => dialectFor(s.version);

export function hostConfig(config: ResolvedConfig, name: string): ResolvedHost {
  const h = config.hosts.find((x) => x.name === name);
  if (!h) throw new Error(`no host ${name} in the config`);
  return h;
}

/**
 * The source a replica is pointed at; the password stays redacted in the plan. TLS: replication.ssl, else the
 * replica's own current channel settings (its files, on its host), so a channel on TLS stays on TLS.
 */
export function sourceSpec(config: ResolvedConfig, name: string, replica?: HostState): SourceSpec {
  const h = hostConfig(config, name);
  const ssl = config.replication.ssl ?? replica?.replica?.tls;
  return { host: h.host, port: h.port, user: config.replication.user, password: '', ...(ssl ? { ssl } : {}) };
}

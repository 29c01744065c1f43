// Public API: the config types (for `import type { MmmfConfig } from 'mmmf'`) and the pure planner (it returns
// the plan, or every reason it refuses).
export type { MmmfConfig, HostConfig, Timeouts } from './topology/config-types.js';
export type { Plan, Step, StepAction } from './algorithm/plan-types.js';
export { buildFailoverPlan } from './algorithm/build-failover-plan.js';
export type { Outcome } from './domain/outcome.js';

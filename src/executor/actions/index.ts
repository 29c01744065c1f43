import type { ActionKind, Step } from '../../algorithm/plan-types.js';
import type { ActionContext, ActionOutcome, Handler, HandlerTable } from '../types.js';
import { confirmBest } from './confirm-best.js';
import { confirmContained } from './confirm-contained.js';
import { equalize } from './equalize.js';
import { fenceReadOnly, killClients, recheckOldMaster, recordMasterEnd } from './fence.js';
import { mapPositionStep } from './map-position.js';
import { mapRejoin } from './map-rejoin.js';
import { openWrites } from './open-writes.js';
import { makeWritable, promote } from './promote.js';
import { catchUp, drainRelayLog, liftDelay, resumeSql, stopIoThread, stopReplication } from './quiesce.js';
import { repoint, restartReplication, verifyReplica } from './repoint.js';
import { salvage } from './salvage.js';
import { fenceHook, vipAdd, vipRemove, vipVerify } from './vip.js';

/** One handler per action kind: a kind without one does not compile. */
export const HANDLERS = {
  'fence-read-only': fenceReadOnly,
  'kill-clients': killClients,
  'record-master-end': recordMasterEnd,
  'recheck-old-master': recheckOldMaster,
  'catch-up': catchUp,
  'resume-sql': resumeSql,
  'lift-delay': liftDelay,
  'stop-io-thread': stopIoThread,
  'drain-relay-log': drainRelayLog,
  'stop-replication': stopReplication,
  'confirm-best': confirmBest,
  'confirm-contained': confirmContained,
  'map-position': mapPositionStep,
  'map-rejoin': mapRejoin,
  salvage,
  equalize,
  promote,
  'make-writable': makeWritable,
  repoint,
  'open-writes': openWrites,
  'restart-replication': restartReplication,
  'verify-replica': verifyReplica,
  'vip-remove': vipRemove,
  'vip-add': vipAdd,
  'vip-verify': vipVerify,
  'fence-hook': fenceHook,
} satisfies HandlerTable;

/** Actions that work over SSH or locally, never over SQL: the host's database may be down. */
export const REMOTE_ACTIONS: ReadonlySet<ActionKind> = new Set([
  'vip-remove',
  'vip-add',
  'vip-verify',
  'fence-hook',
  // its host did not answer when the run started: it opens a connection of its own
  'recheck-old-master',
]);

/** Runs a step with the handler for its kind. */
export function runAction(step: Step, ctx: ActionContext): Promise<ActionOutcome> {
  // The table is keyed by kind, so the handler found matches the step's action; TypeScript cannot correlate
  // the two through the union, hence the one cast here.
  const handler = HANDLERS[step.action.kind] as Handler<ActionKind>;
  return handler(step, ctx);
}

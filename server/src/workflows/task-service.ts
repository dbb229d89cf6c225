/**
 * What workers and users do to tasks: claim the next READY one, heartbeat, complete or fail an
 * attempt, retry a finished task. Each checks who asks and what it was given, and locks what it
 * changes; the transitions themselves are lifecycle.ts.
 */
import type { Context } from '../app/context.js';
import { Role, requireWriter } from '../core/viewer.js';
import { workflowScope } from './visibility.js';
import { badInput } from '../core/errors.js';
import { mutate } from '../live/mutate.js';
import { truncate } from '../core/text.js';
import { textArray } from '../db/sql.js';
import { changeableTask, lockTask } from './access.js';
import * as lifecycle from './lifecycle.js';
import { validAttempt, validJson, validLabel, validQueues, WORKER_LIMITS } from './validation.js';
import type { Task } from './task-entity.js';

const MAX_ERROR_LENGTH = 10_000;

export interface ClaimRequest {
  queue?: string | null;
  queues?: readonly string[] | null;
  /** stored on the attempt (Task.workerId) */
  workerId?: string | null;
}

/**
 * The one statement that picks a claim: the READY task of highest priority, then oldest (not
 * backing off: `ready_at` is when a retry may start), of an active workflow (of `queues`, of `ownerId`'s workflows, when given), locked for the claim.
 * SKIP LOCKED means concurrent workers never get the same task; partial indexes in claim order
 * serve it (tasks_claim_queue_idx for one queue, tasks_claim_any_idx for several or any).
 */
export function claimStatement(queues: readonly string[] | null, ownerId: string | null): { sql: string; params: unknown[] } {
  const params: unknown[] = [];
  let queueFilter = '';
  if (queues?.length === 1) {
    queueFilter = 'and t.queue = ?';
    params.push(queues[0]);
  } else if (queues) {
    queueFilter = 'and t.queue = any(?::text[])';
    params.push(textArray(queues));
  }
  if (ownerId) params.push(ownerId);
  const sql = `select t.id from tasks t join workflows w on w.id = t.workflow_id
    where t.status = 'READY' and t.ready_at <= now() and w.status in ('PENDING', 'RUNNING') ${queueFilter} ${ownerId ? 'and w.owner_id = ?' : ''}
    order by t.priority desc, t.ready_at, t.position
    limit 1
    for update of t skip locked`;
  return { sql, params };
}

/**
 * Hands the next task (claimStatement) of the given queues, if any, of a workflow the viewer
 * may change to the calling worker, with a lease of the task's heartbeatTimeoutSeconds.
 */
export async function claimTask(ctx: Context, request: ClaimRequest): Promise<Task | null> {
  const viewer = requireWriter(ctx.viewer);
  const queues = validQueues(request.queue, request.queues);
  const workerId = validLabel(request.workerId, 'workerId', WORKER_LIMITS.workerIdLength);
  const { sql, params } = claimStatement(queues, viewer.role === Role.ADMIN ? null : workflowScope(viewer));
  return mutate(ctx, async (tx, record) => {
    const [candidate] = await tx.execute(sql, params);
    return candidate ? lifecycle.startAttempt(tx, candidate.id, workerId, record) : null;
  });
}

/** Extends the lease of the running `attempt`; the task says CANCELLED when the worker must stop. */
export async function heartbeatTask(ctx: Context, taskId: string, attempt: number, details: unknown): Promise<Task> {
  const viewer = requireWriter(ctx.viewer);
  const current = validAttempt(attempt)!;
  const reported = validJson(details, 'details', WORKER_LIMITS.detailsBytes);
  return mutate(ctx, async (tx) => lifecycle.heartbeatAttempt(tx, await changeableTask(tx, viewer, taskId), current, reported));
}

export interface Completion {
  attempt?: number | null;
  output?: unknown;
}

export async function completeTask(ctx: Context, taskId: string, completion: Completion = {}): Promise<Task> {
  const viewer = requireWriter(ctx.viewer);
  const attempt = validAttempt(completion.attempt);
  const output = validJson(completion.output, 'output', WORKER_LIMITS.outputBytes);
  return mutate(ctx, async (tx, record) => {
    const { task, workflow } = await lockTask(tx, viewer, taskId);
    return lifecycle.completeAttempt(tx, workflow, task, { attempt, output }, record);
  });
}

export interface Failure {
  errorType?: string | null;
  attempt?: number | null;
}

export async function failTask(ctx: Context, taskId: string, error: string, failure: Failure = {}): Promise<Task> {
  const viewer = requireWriter(ctx.viewer);
  if (!error.trim()) throw badInput('error must not be empty', { field: 'error' });
  const message = truncate(error, MAX_ERROR_LENGTH);
  const errorType = validLabel(failure.errorType, 'errorType', WORKER_LIMITS.errorTypeLength);
  const attempt = validAttempt(failure.attempt);
  return mutate(ctx, async (tx, record) => {
    const { task, workflow } = await lockTask(tx, viewer, taskId);
    return lifecycle.failAttempt(tx, workflow, task, { error: message, errorType, attempt }, record);
  });
}

export async function retryTask(ctx: Context, taskId: string): Promise<Task> {
  const viewer = requireWriter(ctx.viewer);
  return mutate(ctx, async (tx, record) => {
    const { task, workflow } = await lockTask(tx, viewer, taskId);
    return lifecycle.retryTask(tx, workflow, task, record);
  });
}

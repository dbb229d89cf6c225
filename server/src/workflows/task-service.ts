/**
 * What workers and users do to tasks: claim the next READY one, heartbeat, complete or fail an
 * attempt, retry a finished task. Each checks who asks and what it was given, and locks what it
 * changes; the transitions themselves are lifecycle.ts.
 */
import type { Context } from '../app/context.js';
import { Role, requireWriter, type Viewer } from '../core/viewer.js';
import { workflowScope } from './visibility.js';
import { badInput } from '../core/errors.js';
import { mutate } from '../live/mutate.js';
import { truncate } from '../core/text.js';
import { textArray } from '../db/sql.js';
import { changeableTask, lockTask, lockTaskAlone } from './access.js';
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

interface ClaimPlan {
  pick: { sql: string; params: unknown[] };
  workerId: string | null;
}

/** The checked claim request of a writer: which statement picks, and who holds the attempt. */
function claimPlan(viewer: Viewer, request: ClaimRequest): ClaimPlan {
  const queues = validQueues(request.queue, request.queues);
  const workerId = validLabel(request.workerId, 'workerId', WORKER_LIMITS.workerIdLength);
  return { pick: claimStatement(queues, viewer.role === Role.ADMIN ? null : workflowScope(viewer)), workerId };
}

/** After the commit: what the answer selects of the claimed task (its workflow, its dependencies' ids) is known already. */
function claimed(ctx: Context, started: lifecycle.StartedAttempt | null): Task | null {
  if (!started) return null;
  ctx.loaders.workflowById.clear(started.workflow.id).prime(started.workflow.id, started.workflow);
  ctx.loaders.primeTask(started.task);
  return started.task;
}

/**
 * Hands the next task (claimStatement) of the given queues, if any, of a workflow the viewer
 * may change to the calling worker, with a lease of the task's heartbeatTimeoutSeconds.
 */
export async function claimTask(ctx: Context, request: ClaimRequest): Promise<Task | null> {
  const viewer = requireWriter(ctx.viewer);
  const { pick, workerId } = claimPlan(viewer, request);
  return claimed(ctx, await mutate(ctx, (tx, record) => lifecycle.startAttempt(tx, pick, workerId, record)));
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

function validCompletion(completion: Completion): { attempt: number | null | undefined; output: string | null } {
  return { attempt: validAttempt(completion.attempt), output: validJson(completion.output, 'output', WORKER_LIMITS.outputBytes) };
}

export async function completeTask(ctx: Context, taskId: string, completion: Completion = {}): Promise<Task> {
  const viewer = requireWriter(ctx.viewer);
  const done = validCompletion(completion);
  return mutate(ctx, async (tx, record) => {
    return lifecycle.completeAttempt(tx, await lockTaskAlone(tx, viewer, taskId), done, record);
  });
}

/** What completeAndClaimTask answers: the attempt it completed, and the next one it claimed (null when none was READY). */
export interface Handoff {
  completed: Task;
  next: Task | null;
}

/**
 * completeTask, then claimTask, in one transaction: a worker's one round trip per task. The
 * completion commits with the claim or not at all (a refused completion claims nothing). The
 * claim comes first, while only the completed task is locked, so that the workflow's lock
 * (taken by the completion, held to the commit) is held as briefly as alone; when it found
 * nothing, it looks again after the completion, which may have readied dependants.
 */
export async function completeAndClaimTask(ctx: Context, taskId: string, completion: Completion, request: ClaimRequest): Promise<Handoff> {
  const viewer = requireWriter(ctx.viewer);
  const done = validCompletion(completion);
  const { pick, workerId } = claimPlan(viewer, request);
  const handoff = await mutate(ctx, async (tx, record) => {
    const task = await lockTaskAlone(tx, viewer, taskId);
    const next = await lifecycle.startAttempt(tx, pick, workerId, record);
    const completed = await lifecycle.completeAttempt(tx, task, done, record);
    return { completed, next: next ?? (await lifecycle.startAttempt(tx, pick, workerId, record)) };
  });
  return { completed: handoff.completed, next: claimed(ctx, handoff.next) };
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

/**
 * What workers and users do to tasks: claim the next READY one, heartbeat, complete or fail an
 * attempt, retry a finished task. Each checks who asks and what it was given, and locks what it
 * changes; the transitions themselves are lifecycle.ts.
 */
import type { Context } from '../app/context.js';
import { Role, requireWriter, type Viewer } from '../core/viewer.js';
import { workflowScope } from './visibility.js';
import { AppError, badInput, notFound } from '../core/errors.js';
import type { EntityManager } from '../db/orm.js';
import { mutate } from '../live/mutate.js';
import { truncate } from '../core/text.js';
import { textArray } from '../db/sql.js';
import { changeableTask, lockForCompletion, lockTask, type CompletionTarget } from './access.js';
import * as lifecycle from './lifecycle.js';
import { validAttempt, validJson, validLabel, validQueues, WORKER_LIMITS } from './validation.js';
import { MAX_TASK_BATCH, type Task } from './task-entity.js';

const MAX_ERROR_LENGTH = 10_000;

export interface ClaimRequest {
  queue?: string | null;
  queues?: readonly string[] | null;
  /** stored on the attempt (Task.workerId) */
  workerId?: string | null;
}

const MAX_BATCH = MAX_TASK_BATCH;

/**
 * The one statement that picks claims: the READY tasks of highest priority, then oldest (not
 * backing off: `ready_at` is when a retry may start), of active workflows (of `queues`, of
 * `ownerId`'s workflows, when given), up to `limit`, locked for the claim.
 * SKIP LOCKED means concurrent workers never get the same task; partial indexes in claim order
 * serve it (tasks_claim_queue_idx for one queue, tasks_claim_any_idx for several or any).
 */
export function claimStatement(queues: readonly string[] | null, ownerId: string | null, limit = 1): { sql: string; params: unknown[] } {
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
  params.push(limit);
  // The workflow check is a per-row filter (`offset 0` keeps PostgreSQL from turning it into a
  // join): as a join, the planner takes the share of active workflows among all workflows for
  // the share of READY tasks that pass, and once that estimate is below the limit it sorts
  // every READY task of the queue instead of reading the index in claim order.
  const sql = `select t.id from tasks t
    where t.status = 'READY' and t.ready_at <= now() ${queueFilter}
      and exists (select 1 from workflows w where w.id = t.workflow_id and w.status in ('PENDING', 'RUNNING') ${ownerId ? 'and w.owner_id = ?' : ''} offset 0)
    order by t.priority desc, t.ready_at, t.position
    limit ?
    for update of t skip locked`;
  return { sql, params };
}

interface ClaimPlan {
  pick: (limit: number) => { sql: string; params: unknown[] };
  workerId: string | null;
}

/** The checked claim request of a writer: which statement picks, and who holds the attempt. */
function claimPlan(viewer: Viewer, request: ClaimRequest): ClaimPlan {
  const queues = validQueues(request.queue, request.queues);
  const workerId = validLabel(request.workerId, 'workerId', WORKER_LIMITS.workerIdLength);
  const ownerId = viewer.role === Role.ADMIN ? null : workflowScope(viewer);
  return { pick: (limit) => claimStatement(queues, ownerId, limit), workerId };
}

/** After the commit: what the answer selects of the claimed tasks (their workflows, their dependencies' ids) is known already. */
function claimed(ctx: Context, started: readonly lifecycle.StartedAttempt[]): Task[] {
  for (const { task, workflow } of started) {
    ctx.loaders.workflowById.clear(workflow.id).prime(workflow.id, workflow);
    ctx.loaders.primeTask(task);
  }
  return started.map(({ task }) => task);
}

/** A whole number in [min, MAX_BATCH], or BAD_USER_INPUT naming the field. */
function batchSize(value: number, field: string, min: number): number {
  if (!Number.isInteger(value) || value < min || value > MAX_BATCH) throw badInput(`${field} must be ${min} to ${MAX_BATCH}`, { field });
  return value;
}

/**
 * Hands the next task (claimStatement) of the given queues, if any, of a workflow the viewer
 * may change to the calling worker, with a lease of the task's heartbeatTimeoutSeconds.
 */
export async function claimTask(ctx: Context, request: ClaimRequest): Promise<Task | null> {
  return (await claimTasks(ctx, request, 1))[0] ?? null;
}

/** claimTask for up to `limit` tasks in one statement: what a worker with room for several asks. */
export async function claimTasks(ctx: Context, request: ClaimRequest, limit: number): Promise<Task[]> {
  const viewer = requireWriter(ctx.viewer);
  const count = batchSize(limit, 'limit', 1);
  const { pick, workerId } = claimPlan(viewer, request);
  return claimed(ctx, await mutate(ctx, (tx, record) => lifecycle.startAttempts(tx, pick(count), workerId, record)));
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

function validCompletion(completion: Completion): lifecycle.Done {
  return { attempt: validAttempt(completion.attempt), output: validJson(completion.output, 'output', WORKER_LIMITS.outputBytes) };
}

/**
 * After completions committed: finishes the workflows they may have finished
 * (lifecycle.finishDoneWorkflows), so the answer, and the next request, see them finished.
 */
async function finishAfterCompletion(ctx: Context, workflowIds: readonly string[]): Promise<void> {
  const finished = await lifecycle.finishDoneWorkflows(ctx, workflowIds);
  for (const id of finished) ctx.loaders.workflowById.clear(id);
}

/** Locks one task for its completion, or NOT_FOUND. */
async function completionTarget(tx: EntityManager, viewer: Viewer, taskId: string): Promise<CompletionTarget> {
  const target = (await lockForCompletion(tx, viewer, [taskId])).get(taskId);
  if (!target) throw notFound('Task');
  return target;
}

export async function completeTask(ctx: Context, taskId: string, completion: Completion = {}): Promise<Task> {
  const viewer = requireWriter(ctx.viewer);
  const done = validCompletion(completion);
  const { completed, mayFinish } = await mutate(ctx, async (tx, record) => {
    return lifecycle.completeAttempts(tx, [{ target: await completionTarget(tx, viewer, taskId), done }], record);
  });
  await finishAfterCompletion(ctx, mayFinish);
  return completed[0];
}

/** What completeAndClaimTask answers: the attempt it completed, and the next one it claimed (null when none was READY). */
export interface Handoff {
  completed: Task;
  next: Task | null;
}

/**
 * completeTask, then claimTask, in one transaction: a worker's one round trip per task. The
 * completion commits with the claim or not at all (a refused completion claims nothing). The
 * claim comes first, while only the completed task is locked, so that a workflow lock the
 * completion may take (held to the commit) is held as briefly as alone; when it found
 * nothing, it looks again after the completion, which may have readied dependants.
 */
export async function completeAndClaimTask(ctx: Context, taskId: string, completion: Completion, request: ClaimRequest): Promise<Handoff> {
  const viewer = requireWriter(ctx.viewer);
  const done = validCompletion(completion);
  const { pick, workerId } = claimPlan(viewer, request);
  const handoff = await mutate(ctx, async (tx, record) => {
    const target = await completionTarget(tx, viewer, taskId);
    lifecycle.requireCompletable(target.task, done.attempt);
    const next = await lifecycle.startAttempt(tx, pick(1), workerId, record);
    const { completed, mayFinish } = await lifecycle.completeAttempts(tx, [{ target, done }], record);
    const again = next ?? (target.hasDependants ? await lifecycle.startAttempt(tx, pick(1), workerId, record) : null);
    return { completed: completed[0], mayFinish, next: again };
  });
  await finishAfterCompletion(ctx, handoff.mayFinish);
  return { completed: handoff.completed, next: handoff.next ? claimed(ctx, [handoff.next])[0] : null };
}

/** One completion of a batch: a task's global id already resolved. */
export interface BatchCompletion extends Completion {
  id: string;
}

/** A completion of a batch the server did not take, and why (the same error completeTask would answer). */
export interface Refusal {
  taskId: string;
  attempt: number;
  code: string;
  message: string;
}

/** One failure of a batch: a task's global id already resolved. */
export interface BatchFailure extends Failure {
  id: string;
  error: string;
}

/** What completeAndClaimTasks answers. */
export interface BatchHandoff {
  completed: Task[];
  failed: Task[];
  refused: Refusal[];
  next: Task[];
}

const refusalOf = (taskId: string, attempt: number, error: unknown): Refusal => {
  if (!(error instanceof AppError)) throw error;
  return { taskId, attempt, code: String(error.extensions.code), message: error.message };
};

/**
 * Several completions and failures, and a claim of up to `claim` tasks, in one transaction: what
 * a worker holding several tasks sends for all that finished since its last request. Each
 * report is taken or refused on its own (`refused`: lease lost, not found, bad input — as
 * completeTask or failTask would answer each); the rest commit together with the claim. As in
 * completeAndClaimTask the claim comes first, while only the completed tasks are locked, and
 * looks again after completions that readied dependants when it found too few. Failures come
 * last: each locks its workflow first, as failTask does.
 */
export async function completeAndClaimTasks(
  ctx: Context,
  completions: readonly BatchCompletion[],
  claim: number,
  request: ClaimRequest,
  failures: readonly BatchFailure[] = [],
): Promise<BatchHandoff> {
  const viewer = requireWriter(ctx.viewer);
  if (completions.length > MAX_BATCH) throw badInput(`completions holds at most ${MAX_BATCH} completions`, { field: 'completions' });
  if (failures.length > MAX_BATCH) throw badInput(`failures holds at most ${MAX_BATCH} failures`, { field: 'failures' });
  const count = batchSize(claim, 'claim', 0);
  const { pick, workerId } = claimPlan(viewer, request);
  const refused: Refusal[] = [];
  const seen = new Set<string>();
  const checked = <T extends { id: string; attempt?: number | null }, V>(list: readonly T[], field: string, valid: (item: T) => V): Array<{ id: string; value: V }> =>
    list.flatMap((item, i) => {
      if (seen.has(item.id)) throw badInput(`${field}[${i}] names a task named before`, { field: `${field}[${i}].id` });
      seen.add(item.id);
      try {
        if (item.attempt == null) throw badInput('attempt must be given', { field: 'attempt' });
        return [{ id: item.id, value: valid(item) }];
      } catch (error) {
        refused.push(refusalOf(item.id, item.attempt ?? 0, error));
        return [];
      }
    });
  const done = checked(completions, 'completions', validCompletion);
  const failed = checked(failures, 'failures', (f) => validFailure(f.error, f));
  const result = await mutate(ctx, async (tx, record) => {
    const refusedHere: Refusal[] = [];
    const refuse = (id: string, attempt: number | null | undefined, error: unknown) => refusedHere.push(refusalOf(id, attempt ?? 0, error));
    const targets = done.length ? await lockForCompletion(tx, viewer, done.map((c) => c.id)) : new Map<string, CompletionTarget>();
    const items: Array<{ target: CompletionTarget; done: lifecycle.Done }> = [];
    for (const { id, value } of done) {
      try {
        const target = targets.get(id);
        if (!target) throw notFound('Task');
        lifecycle.requireCompletable(target.task, value.attempt);
        items.push({ target, done: value });
      } catch (error) {
        refuse(id, value.attempt, error);
      }
    }
    const next = count ? await lifecycle.startAttempts(tx, pick(count), workerId, record) : [];
    const { completed, mayFinish } = await lifecycle.completeAttempts(tx, items, record);
    if (next.length < count && items.some(({ target }) => target.hasDependants)) {
      next.push(...(await lifecycle.startAttempts(tx, pick(count - next.length), workerId, record)));
    }
    const failedTasks: Task[] = [];
    for (const { id, value } of failed) {
      try {
        const { task, workflow } = await lockTask(tx, viewer, id);
        failedTasks.push(await lifecycle.failAttempt(tx, workflow, task, value, record));
      } catch (error) {
        refuse(id, value.attempt, error);
      }
    }
    return { completed, failed: failedTasks, mayFinish, next, refused: refusedHere };
  });
  await finishAfterCompletion(ctx, result.mayFinish);
  return { completed: result.completed, failed: result.failed, refused: [...refused, ...result.refused], next: claimed(ctx, result.next) };
}

export interface Failure {
  errorType?: string | null;
  attempt?: number | null;
}

function validFailure(error: string, failure: Failure): lifecycle.AttemptFailure {
  if (!error.trim()) throw badInput('error must not be empty', { field: 'error' });
  const message = truncate(error, MAX_ERROR_LENGTH);
  const errorType = validLabel(failure.errorType, 'errorType', WORKER_LIMITS.errorTypeLength);
  return { error: message, errorType, attempt: validAttempt(failure.attempt) };
}

export async function failTask(ctx: Context, taskId: string, error: string, failure: Failure = {}): Promise<Task> {
  const viewer = requireWriter(ctx.viewer);
  const failed = validFailure(error, failure);
  return mutate(ctx, async (tx, record) => {
    const { task, workflow } = await lockTask(tx, viewer, taskId);
    return lifecycle.failAttempt(tx, workflow, task, failed, record);
  });
}

export async function retryTask(ctx: Context, taskId: string): Promise<Task> {
  const viewer = requireWriter(ctx.viewer);
  return mutate(ctx, async (tx, record) => {
    const { task, workflow } = await lockTask(tx, viewer, taskId);
    return lifecycle.retryTask(tx, workflow, task, record);
  });
}

/**
 * Every status transition of a workflow and its tasks, and nothing else: callers (service.ts,
 * task-service.ts) check who asks, lock the workflow (access.ts; a completion locks its task,
 * and completeAttempts the workflow after only when a task waits for it, leaving the finish of
 * the workflow to finishDoneWorkflows after the commit) and run these inside their
 * transaction; each transition records the events of what it changed.
 *
 * Workflow: DRAFT → PENDING (started) → RUNNING (a task claimed) → SUCCEEDED | FAILED, or
 * CANCELLED from any unfinished status; a retried task reopens a finished workflow (RUNNING).
 * Task: PENDING → READY (its dependencies all SUCCEEDED) → RUNNING (claimed) → SUCCEEDED, or
 * READY again while attempts remain (after the retry policy's backoff), else FAILED (cancelling
 * the rest, failing the workflow);
 * CANCELLED with its workflow; FAILED or CANCELLED → PENDING when retried.
 * A RUNNING attempt holds a lease of `heartbeatTimeoutSeconds` that heartbeats extend; one
 * whose lease lapsed (LOST) or that ran past `timeoutSeconds` (TIMED_OUT) ends as a failed
 * attempt does (expiry.ts). A worker naming its attempt can only change that attempt. Every
 * attempt is kept as a TaskRun (task_runs), opened by the claim and closed with its outcome.
 */
import type { EntityManager } from '../db/orm.js';
import { conflict, notFound } from '../core/errors.js';
import { mutate, type MutationScope, type RecordEvent } from '../live/mutate.js';
import { textArray, uuidArray } from '../db/sql.js';
import { FINISHED_WORKFLOW_STATUSES, Workflow, WorkflowStatus } from './entity.js';
import { workflowEvent, WorkflowEventKind } from './events.js';
import { workflowFromRow } from './loaders.js';
import { lockWorkflowRow, type CompletionTarget } from './access.js';
import { Task, TaskStatus, type RetryPolicy } from './task-entity.js';
import { DEPENDS_ON_IDS, taskFromRow } from './task-loaders.js';
import { activeTraceparent } from '../core/tracing.js';

const ACTIVE_WORKFLOW = [WorkflowStatus.PENDING, WorkflowStatus.RUNNING];

const isActive = (workflow: Workflow): boolean => ACTIVE_WORKFLOW.includes(workflow.status);

function recordTaskChanges(record: RecordEvent, workflow: Workflow, tasks: Task[]): void {
  for (const task of tasks) record(workflowEvent(WorkflowEventKind.TASK_UPDATED, workflow, task));
}

function requireStatus(task: Task, allowed: TaskStatus[], action: string): void {
  if (!allowed.includes(task.status)) {
    throw conflict(`Cannot ${action} task "${task.name}": it is ${task.status}, expected ${allowed.join(' or ')}`);
  }
}

/** How the server ends an attempt its worker no longer holds: the error type and outcome it records. */
export enum AttemptExpiry {
  LOST = 'LOST',
  TIMED_OUT = 'TIMED_OUT',
}
const EXPIRIES: ReadonlyArray<string | null | undefined> = Object.values(AttemptExpiry);

/**
 * A worker that names its attempt may only change that attempt while it runs. Anything else —
 * another attempt began, the attempt went back to READY, the server ended it — is CONFLICT
 * "lease lost", so a worker presumed dead never overwrites the one that took over.
 * Without `attempt` (the old form of the mutations) only the status is checked.
 */
function requireAttempt(task: Task, attempt: number | null | undefined, action: string): void {
  if (attempt == null) return requireStatus(task, [TaskStatus.RUNNING], action);
  if (task.status === TaskStatus.RUNNING && task.attempts === attempt) return;
  const ended = task.attempts !== attempt || [TaskStatus.READY, TaskStatus.PENDING].includes(task.status)
    || (task.status === TaskStatus.FAILED && EXPIRIES.includes(task.errorType));
  if (ended) {
    throw conflict(`Lease lost: attempt ${attempt} of task "${task.name}" is no longer running (the task is ${task.status} on attempt ${task.attempts})`);
  }
  requireStatus(task, [TaskStatus.RUNNING], action);
}

const LEASE = `now() + heartbeat_timeout_seconds * interval '1 second'`;

/** An attempt's outcome, as its TaskRun keeps it. */
type RunOutcome = 'SUCCEEDED' | 'FAILED' | AttemptExpiry | 'CANCELLED';

/**
 * The task's update, with its open run (the current attempt) closed as `outcome` in the same
 * statement: `update` is an `update tasks … returning *` whose placeholders come first.
 */
async function updateClosingRun(tx: EntityManager, update: string, params: unknown[], taskId: string, outcome: RunOutcome, error: string | null = null, errorType: string | null = null): Promise<Task> {
  const [row] = await tx.execute(
    `with changed as (${update}),
     closed as (update task_runs set finished_at = now(), outcome = ?, error = ?, error_type = ? where task_id = ? and finished_at is null)
     select * from changed`,
    [...params, outcome, error, errorType, taskId],
  );
  return taskFromRow(row);
}

/** Seconds before the next attempt after attempt `attempt` failed: none without a policy. */
export function backoffSeconds(policy: RetryPolicy | null | undefined, attempt: number): number {
  if (!policy) return 0;
  return Math.min(policy.initialIntervalSeconds * policy.backoffCoefficient ** (attempt - 1), policy.maximumIntervalSeconds);
}

async function setWorkflowStatus(tx: EntityManager, workflow: Workflow, status: WorkflowStatus, record: RecordEvent): Promise<Workflow> {
  const finished = FINISHED_WORKFLOW_STATUSES.includes(status);
  const [row] = await tx.execute(
    `update workflows set status = ?, updated_at = now(),
            started_at = case when ? in ('PENDING', 'RUNNING') then coalesce(started_at, now()) else started_at end,
            finished_at = case when ? then now() else null end
      where id = ? returning *`,
    [status, status, finished, workflow.id],
  );
  const updated = workflowFromRow(row);
  record(workflowEvent(WorkflowEventKind.UPDATED, updated));
  return updated;
}

/**
 * Moves an active workflow forward after any change to its tasks: readies PENDING tasks whose
 * dependencies all SUCCEEDED, and finishes the workflow once no task is left to run
 * (SUCCEEDED when every task did, else FAILED). Returns the workflow as it now is.
 */
async function advanceWorkflow(tx: EntityManager, workflow: Workflow, record: RecordEvent): Promise<Workflow> {
  if (!isActive(workflow)) return workflow;
  // One statement: the counts read the tasks as they were before `readied` (a statement does not
  // see its own changes), which counts the same, PENDING and READY being both open and unsuccessful.
  const [left] = await tx.execute(
    `with readied as (
       update tasks t set status = 'READY', ready_at = now(), traceparent = ?, updated_at = now()
        where t.workflow_id = ? and t.status = 'PENDING'
          and not exists (select 1 from task_dependencies d join tasks dep on dep.id = d.depends_on_id
                           where d.task_id = t.id and dep.status <> 'SUCCEEDED')
        returning t.*)
     select count(*) filter (where status in ('PENDING', 'READY', 'RUNNING'))::int as open,
            count(*) filter (where status <> 'SUCCEEDED')::int as unsuccessful,
            (select coalesce(json_agg(r), '[]') from readied r) as readied
       from tasks where workflow_id = ?`,
    [activeTraceparent(), workflow.id, workflow.id],
  );
  recordTaskChanges(record, workflow, (left.readied as Record<string, unknown>[]).map(taskFromRow));
  if (left.open > 0) return workflow;
  const status = left.unsuccessful === 0 ? WorkflowStatus.SUCCEEDED : WorkflowStatus.FAILED;
  return setWorkflowStatus(tx, workflow, status, record);
}

/**
 * Cancels the workflow's PENDING and READY tasks (and RUNNING ones when asked: their runs end
 * CANCELLED, and their events name the worker that held them).
 */
async function cancelOpenTasks(tx: EntityManager, workflow: Workflow, includeRunning: boolean, record: RecordEvent): Promise<void> {
  const statuses = includeRunning ? `('PENDING', 'READY', 'RUNNING')` : `('PENDING', 'READY')`;
  const cancelled: Array<Record<string, unknown>> = await tx.execute(
    `with open as (select id, status from tasks where workflow_id = ? and status in ${statuses} for update),
     cancelled as (
       update tasks t set status = 'CANCELLED', lease_expires_at = null, finished_at = now(), updated_at = now()
         from open where t.id = open.id returning t.*, open.status = 'RUNNING' as was_running),
     runs as (update task_runs set finished_at = now(), outcome = 'CANCELLED'
               where finished_at is null and task_id in (select id from cancelled where was_running))
     select * from cancelled order by position`,
    [workflow.id],
  );
  for (const row of cancelled) {
    const task = taskFromRow(row);
    record(workflowEvent(WorkflowEventKind.TASK_UPDATED, workflow, task, row.was_running ? { workerId: task.workerId ?? null, attempt: task.attempts, reason: 'CANCELLED' } : undefined));
  }
}

/** DRAFT → PENDING, readying the tasks that wait for nothing (a workflow of no tasks succeeds at once). */
export async function startWorkflow(tx: EntityManager, workflow: Workflow, record: RecordEvent): Promise<Workflow> {
  if (workflow.status !== WorkflowStatus.DRAFT) throw conflict(`Cannot start a workflow that is ${workflow.status}`);
  const pending = await setWorkflowStatus(tx, workflow, WorkflowStatus.PENDING, record);
  return advanceWorkflow(tx, pending, record);
}

/** An unfinished workflow and every unfinished task of it (RUNNING ones too) → CANCELLED. */
export async function cancelWorkflow(tx: EntityManager, workflow: Workflow, record: RecordEvent): Promise<Workflow> {
  if (!isActive(workflow) && workflow.status !== WorkflowStatus.DRAFT) throw conflict(`Cannot cancel a workflow that is ${workflow.status}`);
  await cancelOpenTasks(tx, workflow, true, record);
  return setWorkflowStatus(tx, workflow, WorkflowStatus.CANCELLED, record);
}

/** A claimed attempt and its workflow (RUNNING now). */
export interface StartedAttempt {
  task: Task;
  workflow: Workflow;
}

/** Claim order: what claimStatement's `order by` picks first. */
const claimOrder = (a: Task, b: Task): number =>
  b.priority - a.priority || a.readyAt!.getTime() - b.readyAt!.getTime() || a.workflowId.localeCompare(b.workflowId) || a.position - b.position;

/**
 * READY → RUNNING for the tasks `pick` selects and locks (claimStatement's SKIP LOCKED pick, up
 * to its limit), if any: each a new attempt, held by `workerId` for one lease; a PENDING
 * workflow among theirs is now RUNNING. Each task row carries its dependencies' ids (the task
 * loaders' dependsOnIds). In claim order.
 */
/** The claim as one statement: `pick`'s tasks RUNNING with a lease, their runs opened, the rows returned with their dependencies' ids. */
export function claimingStatement(pick: { sql: string; params: unknown[] }, workerId: string | null): { sql: string; params: unknown[] } {
  return {
    sql: `with started as (
       update tasks set status = 'RUNNING', attempts = attempts + 1, started_at = now(), finished_at = null, updated_at = now(),
              worker_id = ?, lease_expires_at = ${LEASE}, last_heartbeat_at = null, heartbeat_details = null, next_attempt_at = null
        where id = any(array(${pick.sql})) returning *),
     run as (insert into task_runs (task_id, attempt, worker_id, ready_at) select id, attempts, worker_id, ready_at from started)
     select t.*, ${DEPENDS_ON_IDS} as depends_on_ids from started t`,
    params: [workerId, ...pick.params],
  };
}

export async function startAttempts(tx: EntityManager, pick: { sql: string; params: unknown[] }, workerId: string | null, record: RecordEvent): Promise<StartedAttempt[]> {
  const claim = claimingStatement(pick, workerId);
  const rows = await tx.execute(claim.sql, claim.params);
  if (!rows.length) return [];
  const tasks = rows.map(taskFromRow).sort(claimOrder);
  const ids = uuidArray([...new Set(tasks.map((task) => task.workflowId))]);
  const current = await tx.execute(
    `with started as (update workflows set status = 'RUNNING', updated_at = now() where id = any(?::uuid[]) and status = 'PENDING' returning *)
     select true as just_started, * from started
     union all select false, * from workflows where id = any(?::uuid[]) and id not in (select id from started)`,
    [ids, ids],
  );
  const workflows = new Map<string, Workflow>();
  for (const row of current) {
    const workflow = workflowFromRow(row);
    workflows.set(workflow.id, workflow);
    if (row.just_started) record(workflowEvent(WorkflowEventKind.UPDATED, workflow));
  }
  return tasks.map((task) => {
    const workflow = workflows.get(task.workflowId)!;
    record(workflowEvent(WorkflowEventKind.TASK_UPDATED, workflow, task));
    return { task, workflow };
  });
}

/** startAttempts for one task (a pick of limit 1): the claimed attempt, or null. */
export async function startAttempt(tx: EntityManager, pick: { sql: string; params: unknown[] }, workerId: string | null, record: RecordEvent): Promise<StartedAttempt | null> {
  return (await startAttempts(tx, pick, workerId, record))[0] ?? null;
}

/**
 * Extends the lease of the running `attempt` and records what the worker reports; no event
 * (heartbeats are frequent and change no status). The task comes back CANCELLED, unchanged,
 * when its workflow was cancelled: the worker's signal to stop. `task` need not be locked:
 * the update only applies while the attempt still runs, so a heartbeat racing the expiry or a
 * cancellation loses cleanly.
 */
export async function heartbeatAttempt(tx: EntityManager, task: Task, attempt: number, details: string | null): Promise<Task> {
  const stopOrRefuse = (current: Task): Task | null => {
    if (current.status === TaskStatus.CANCELLED && current.attempts === attempt) return current;
    requireAttempt(current, attempt, 'heartbeat');
    return null;
  };
  const stopped = stopOrRefuse(task);
  if (stopped) return stopped;
  const [row] = await tx.execute(
    `update tasks set lease_expires_at = ${LEASE}, last_heartbeat_at = now(), heartbeat_details = ?::jsonb
      where id = ? and status = 'RUNNING' and attempts = ? returning *`,
    [details, task.id, attempt],
  );
  if (row) return taskFromRow(row);
  // The attempt ended while this waited for the row: answer as if the heartbeat had come a moment later.
  const [latest] = await tx.execute('select * from tasks where id = ?', [task.id]);
  if (!latest) throw notFound('Task');
  const current = taskFromRow(latest);
  return stopOrRefuse(current) ?? Promise.reject(conflict(`Lease lost: attempt ${attempt} of task "${task.name}" is no longer running`));
}

/** One completion as the worker reported it: the attempt it names, and the output (JSON text) to keep. */
export interface Done {
  attempt?: number | null;
  output: string | null;
}

/** CONFLICT ("lease lost" or the task's status) when `attempt` of the task may not be completed now. */
export function requireCompletable(task: Task, attempt: number | null | undefined): void {
  requireAttempt(task, attempt, 'complete');
}

/**
 * RUNNING → SUCCEEDED for tasks the caller has locked (not their workflows), in one statement
 * that also closes their runs; CONFLICT unless each attempt may be completed.
 *
 * Only a task that others wait for needs its workflow: that workflow is locked after the
 * update, for the rest of the transaction, to ready its dependants (`advanceWorkflow` reads the
 * tasks after taking the lock, so of two completions readying one task, the later sees the
 * other done). A task nobody waits for takes no workflow lock, so completions of one
 * workflow's tasks never queue for each other. It can change nothing in its workflow but
 * finish it, and cannot tell inside its transaction whether it does (the last ones may be
 * committing beside it, each seeing the other RUNNING): the caller runs `finishDoneWorkflows`
 * on `mayFinish` (every completed task's workflow) once it has committed. Of the last
 * completions, whichever commits last then sees every task done.
 * (Cancelling takes the workflow first, then its running tasks: should it come between a
 * completion's task and workflow locks, PostgreSQL breaks the deadlock and the transaction
 * retries.)
 */
export async function completeAttempts(tx: EntityManager, items: ReadonlyArray<{ target: CompletionTarget; done: Done }>, record: RecordEvent): Promise<{ completed: Task[]; mayFinish: string[] }> {
  if (!items.length) return { completed: [], mayFinish: [] };
  for (const { target, done } of items) requireAttempt(target.task, done.attempt, 'complete');
  const ids = items.map(({ target }) => target.task.id);
  const rows = await tx.execute(
    `with c as (select * from unnest(?::uuid[], ?::text[]) as c(id, output)),
     changed as (
       update tasks t set status = 'SUCCEEDED', error = null, error_type = null, output = c.output::jsonb, lease_expires_at = null,
              finished_at = now(), updated_at = now()
         from c where t.id = c.id returning t.*),
     closed as (update task_runs set finished_at = now(), outcome = 'SUCCEEDED', error = null, error_type = null
                 where task_id = any(?::uuid[]) and finished_at is null)
     select * from changed`,
    [uuidArray(ids), textArray(items.map(({ done }) => done.output)), uuidArray(ids)],
  );
  const succeeded = new Map(rows.map((row: Record<string, unknown>) => [row.id as string, taskFromRow(row)]));
  const completed = ids.map((id) => succeeded.get(id)!);
  const mayFinish = new Set<string>();
  const readying = new Map<string, Task[]>();
  for (const [i, { target }] of items.entries()) {
    const task = completed[i];
    mayFinish.add(task.workflowId);
    if (target.hasDependants) readying.set(task.workflowId, [...(readying.get(task.workflowId) ?? []), task]);
    else record(workflowEvent(WorkflowEventKind.TASK_UPDATED, { id: task.workflowId, ownerId: target.ownerId }, task));
  }
  // In id order, as every transaction locking several workflows does.
  for (const workflowId of [...readying.keys()].sort()) {
    const workflow = await lockWorkflowRow(tx, workflowId);
    if (!workflow) throw notFound('Task');
    recordTaskChanges(record, workflow, readying.get(workflowId)!);
    await advanceWorkflow(tx, workflow, record);
  }
  return { completed, mayFinish: [...mayFinish] };
}

/**
 * After completions that took no workflow lock have committed: finishes each of `workflowIds`
 * that is still active with no task left to run, one transaction each, under its lock. One
 * statement when none is (the usual case). Returns the ids it finished.
 */
export async function finishDoneWorkflows(scope: MutationScope, workflowIds: readonly string[]): Promise<string[]> {
  if (!workflowIds.length) return [];
  const done: Array<{ id: string }> = await scope.em.execute(
    `select w.id from workflows w where w.id = any(?::uuid[]) and w.status in ('PENDING', 'RUNNING')
        and not exists (select 1 from tasks t where t.workflow_id = w.id and t.status in ('PENDING', 'READY', 'RUNNING'))`,
    [uuidArray(workflowIds)],
  );
  const finished: string[] = [];
  for (const { id } of done) {
    const changed = await mutate({ em: scope.em, app: scope.app }, async (tx, record) => {
      const workflow = await lockWorkflowRow(tx, id);
      return workflow ? (await advanceWorkflow(tx, workflow, record)).status !== workflow.status : false;
    });
    if (changed) finished.push(id);
  }
  return finished;
}

/**
 * The leader's safety net for finishDoneWorkflows (a replica that died between a completion's
 * commit and that step): finishes active workflows with no task left to run, up to `limit`.
 */
export async function finishStrandedWorkflows(scope: MutationScope, limit = 100): Promise<string[]> {
  const stranded: Array<{ id: string }> = await scope.em.execute(
    `select w.id from workflows w where w.status in ('PENDING', 'RUNNING')
        and not exists (select 1 from tasks t where t.workflow_id = w.id and t.status in ('PENDING', 'READY', 'RUNNING'))
      limit ?`,
    [limit],
  );
  return finishDoneWorkflows(scope, stranded.map((row) => row.id));
}

/** How an attempt failed: the worker's error (and its type), or the server's expiry. */
export interface AttemptFailure {
  /** stored as given (the caller bounds its length) */
  error: string;
  errorType: string | null;
  /** the attempt the worker holds; unset in the old form of failTask */
  attempt?: number | null;
  /** what the attempt's run records; FAILED unless the server ended it */
  outcome?: RunOutcome;
}

/**
 * RUNNING → READY while attempts remain, the error's type may be retried and the workflow still
 * runs — at once, or after the backoff of the task's retry policy (`next_attempt_at`, which the
 * claim waits for) — else FAILED; when the workflow was running, its tasks still waiting are
 * cancelled and the workflow FAILED.
 */
export async function failAttempt(tx: EntityManager, workflow: Workflow, task: Task, failure: AttemptFailure, record: RecordEvent): Promise<Task> {
  requireAttempt(task, failure.attempt, 'fail');
  const nonRetryable = failure.errorType !== null && Boolean(task.retry?.nonRetryableErrors.includes(failure.errorType));
  // A task of a workflow that already finished would wait as READY for a claim that never comes.
  const retry = task.attempts < task.maxAttempts && isActive(workflow) && !nonRetryable;
  const delay = retry ? backoffSeconds(task.retry, task.attempts) : 0;
  const failed = await updateClosingRun(
    tx,
    `update tasks set status = ?, error = ?, error_type = ?, lease_expires_at = null, updated_at = now(),
            ready_at = case when ? then now() + ? * interval '1 second' else ready_at end,
            next_attempt_at = case when ? then now() + ? * interval '1 second' end,
            finished_at = case when ? then null else now() end
      where id = ? returning *`,
    [retry ? TaskStatus.READY : TaskStatus.FAILED, failure.error, failure.errorType, retry, delay, retry && delay > 0, delay, retry, task.id],
    task.id,
    failure.outcome ?? 'FAILED',
    failure.error,
    failure.errorType,
  );
  // An attempt the server ended names the worker that held it, which may still be running it (taskCancelled).
  const expiry = failure.outcome === AttemptExpiry.LOST || failure.outcome === AttemptExpiry.TIMED_OUT ? failure.outcome : null;
  record(workflowEvent(WorkflowEventKind.TASK_UPDATED, workflow, failed, expiry ? { workerId: task.workerId ?? null, attempt: task.attempts, reason: expiry } : undefined));
  if (!retry && isActive(workflow)) {
    await cancelOpenTasks(tx, workflow, false, record);
    await setWorkflowStatus(tx, workflow, WorkflowStatus.FAILED, record);
  }
  return failed;
}

/**
 * Ends a RUNNING attempt its worker no longer holds, as a failed attempt: `how` says whether
 * the lease lapsed or the attempt ran past its timeout, and so does the error.
 */
export function expireAttempt(tx: EntityManager, workflow: Workflow, task: Task, how: AttemptExpiry, record: RecordEvent): Promise<Task> {
  const error = how === AttemptExpiry.TIMED_OUT
    ? `Timed out: attempt ${task.attempts} ran longer than timeoutSeconds (${task.timeoutSeconds} s)`
    : `Lost: attempt ${task.attempts} had no heartbeat for heartbeatTimeoutSeconds (${task.heartbeatTimeoutSeconds} s)${task.workerId ? ` from worker "${task.workerId}"` : ''}`;
  return failAttempt(tx, workflow, task, { error, errorType: how, attempt: task.attempts, outcome: how }, record);
}

/**
 * FAILED or CANCELLED → PENDING with a fresh set of attempts (then READY if it waits for
 * nothing). A finished workflow is reopened: it runs again, and the tasks cancelled with it go
 * back to waiting. The fresh set continues the numbering (`max_attempts` grows by the task's
 * allowance, `attempts` stays): an attempt number names one attempt for good, which is what
 * makes a worker's `attempt` a lease it cannot hold twice.
 */
export async function retryTask(tx: EntityManager, locked: Workflow, task: Task, record: RecordEvent): Promise<Task> {
  requireStatus(task, [TaskStatus.FAILED, TaskStatus.CANCELLED], 'retry');
  if (locked.status === WorkflowStatus.DRAFT) throw conflict('Cannot retry a task of a workflow that was never started');
  let workflow = locked;
  const reset = await tx.execute(
    `update tasks set status = 'PENDING',
            attempt_allowance = case when id = ? then coalesce(attempt_allowance, max_attempts) else attempt_allowance end,
            max_attempts = case when id = ? then attempts + coalesce(attempt_allowance, max_attempts) else max_attempts end,
            error = case when id = ? then null else error end, error_type = case when id = ? then null else error_type end,
            started_at = case when id = ? then null else started_at end, finished_at = null, next_attempt_at = null, updated_at = now()
      where id = ? or (workflow_id = ? and status = 'CANCELLED' and ?)
      returning *`,
    [task.id, task.id, task.id, task.id, task.id, task.id, workflow.id, !isActive(workflow)],
  );
  if (!isActive(workflow)) workflow = await setWorkflowStatus(tx, workflow, WorkflowStatus.RUNNING, record);
  recordTaskChanges(record, workflow, reset.map(taskFromRow));
  await advanceWorkflow(tx, workflow, record);
  const [row] = await tx.execute('select * from tasks where id = ?', [task.id]);
  return taskFromRow(row);
}

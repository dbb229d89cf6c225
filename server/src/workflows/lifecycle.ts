/**
 * Every status transition of a workflow and its tasks, and nothing else: callers (service.ts,
 * task-service.ts) check who asks, lock the workflow (access.ts) and run these inside their
 * transaction; each transition records the events of what it changed.
 *
 * Workflow: DRAFT → PENDING (started) → RUNNING (a task claimed) → SUCCEEDED | FAILED, or
 * CANCELLED from any unfinished status; a retried task reopens a finished workflow (RUNNING).
 * Task: PENDING → READY (its dependencies all SUCCEEDED) → RUNNING (claimed) → SUCCEEDED, or
 * READY again while attempts remain, else FAILED (cancelling the rest, failing the workflow);
 * CANCELLED with its workflow; FAILED or CANCELLED → PENDING when retried.
 */
import type { EntityManager } from '../db/orm.js';
import { conflict } from '../core/errors.js';
import type { RecordEvent } from '../live/mutate.js';
import { FINISHED_WORKFLOW_STATUSES, Workflow, WorkflowStatus } from './entity.js';
import { workflowEvent, WorkflowEventKind } from './events.js';
import { workflowFromRow } from './loaders.js';
import { Task, TaskStatus } from './task-entity.js';
import { taskFromRow } from './task-loaders.js';

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
  const readied = await tx.execute(
    `update tasks t set status = 'READY', ready_at = now(), updated_at = now()
      where t.workflow_id = ? and t.status = 'PENDING'
        and not exists (select 1 from task_dependencies d join tasks dep on dep.id = d.depends_on_id
                         where d.task_id = t.id and dep.status <> 'SUCCEEDED')
      returning *`,
    [workflow.id],
  );
  recordTaskChanges(record, workflow, readied.map(taskFromRow));

  const [left] = await tx.execute(
    `select count(*) filter (where status in ('PENDING', 'READY', 'RUNNING'))::int as open,
            count(*) filter (where status <> 'SUCCEEDED')::int as unsuccessful
       from tasks where workflow_id = ?`,
    [workflow.id],
  );
  if (left.open > 0) return workflow;
  const status = left.unsuccessful === 0 ? WorkflowStatus.SUCCEEDED : WorkflowStatus.FAILED;
  return setWorkflowStatus(tx, workflow, status, record);
}

/** Cancels the workflow's PENDING and READY tasks (and RUNNING ones when asked). */
async function cancelOpenTasks(tx: EntityManager, workflow: Workflow, includeRunning: boolean, record: RecordEvent): Promise<void> {
  const statuses = includeRunning ? `('PENDING', 'READY', 'RUNNING')` : `('PENDING', 'READY')`;
  const cancelled = await tx.execute(
    `update tasks set status = 'CANCELLED', finished_at = now(), updated_at = now()
      where workflow_id = ? and status in ${statuses} returning *`,
    [workflow.id],
  );
  recordTaskChanges(record, workflow, cancelled.map(taskFromRow));
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

/**
 * READY → RUNNING for a task the caller has locked (claimTask's SKIP LOCKED pick): a new
 * attempt starts, and a PENDING workflow is now RUNNING.
 */
export async function startAttempt(tx: EntityManager, taskId: string, record: RecordEvent): Promise<Task> {
  const [row] = await tx.execute(
    `update tasks set status = 'RUNNING', attempts = attempts + 1, started_at = now(), finished_at = null, updated_at = now()
      where id = ? returning *`,
    [taskId],
  );
  const task = taskFromRow(row);
  const [started] = await tx.execute(
    `update workflows set status = 'RUNNING', updated_at = now() where id = ? and status = 'PENDING' returning *`,
    [task.workflowId],
  );
  const [current] = started ? [started] : await tx.execute('select * from workflows where id = ?', [task.workflowId]);
  const workflow = workflowFromRow(current);
  if (started) record(workflowEvent(WorkflowEventKind.UPDATED, workflow));
  record(workflowEvent(WorkflowEventKind.TASK_UPDATED, workflow, task));
  return task;
}

/** RUNNING → SUCCEEDED, readying its dependants (and finishing the workflow when it was the last). */
export async function completeAttempt(tx: EntityManager, workflow: Workflow, task: Task, record: RecordEvent): Promise<Task> {
  requireStatus(task, [TaskStatus.RUNNING], 'complete');
  const [row] = await tx.execute(
    `update tasks set status = 'SUCCEEDED', error = null, finished_at = now(), updated_at = now() where id = ? returning *`,
    [task.id],
  );
  const done = taskFromRow(row);
  record(workflowEvent(WorkflowEventKind.TASK_UPDATED, workflow, done));
  await advanceWorkflow(tx, workflow, record);
  return done;
}

/**
 * RUNNING → READY while attempts remain, else FAILED: the workflow's tasks still waiting are
 * cancelled and the workflow FAILED. `error` is stored as given (the caller bounds its length).
 */
export async function failAttempt(tx: EntityManager, workflow: Workflow, task: Task, error: string, record: RecordEvent): Promise<Task> {
  requireStatus(task, [TaskStatus.RUNNING], 'fail');
  const retry = task.attempts < task.maxAttempts;
  const [row] = await tx.execute(
    `update tasks set status = ?, error = ?, updated_at = now(),
            ready_at = case when ? then now() else ready_at end,
            finished_at = case when ? then null else now() end
      where id = ? returning *`,
    [retry ? TaskStatus.READY : TaskStatus.FAILED, error, retry, retry, task.id],
  );
  const failed = taskFromRow(row);
  record(workflowEvent(WorkflowEventKind.TASK_UPDATED, workflow, failed));
  if (!retry && isActive(workflow)) {
    await cancelOpenTasks(tx, workflow, false, record);
    await setWorkflowStatus(tx, workflow, WorkflowStatus.FAILED, record);
  }
  return failed;
}

/**
 * FAILED or CANCELLED → PENDING with a fresh set of attempts (then READY if it waits for
 * nothing). A finished workflow is reopened: it runs again, and the tasks cancelled with it go
 * back to waiting.
 */
export async function retryTask(tx: EntityManager, locked: Workflow, task: Task, record: RecordEvent): Promise<Task> {
  requireStatus(task, [TaskStatus.FAILED, TaskStatus.CANCELLED], 'retry');
  if (locked.status === WorkflowStatus.DRAFT) throw conflict('Cannot retry a task of a workflow that was never started');
  let workflow = locked;
  const reset = await tx.execute(
    `update tasks set status = 'PENDING', attempts = case when id = ? then 0 else attempts end,
            error = case when id = ? then null else error end,
            started_at = case when id = ? then null else started_at end, finished_at = null, updated_at = now()
      where id = ? or (workflow_id = ? and status = 'CANCELLED' and ?)
      returning *`,
    [task.id, task.id, task.id, task.id, workflow.id, !isActive(workflow)],
  );
  if (!isActive(workflow)) workflow = await setWorkflowStatus(tx, workflow, WorkflowStatus.RUNNING, record);
  recordTaskChanges(record, workflow, reset.map(taskFromRow));
  await advanceWorkflow(tx, workflow, record);
  const [row] = await tx.execute('select * from tasks where id = ?', [task.id]);
  return taskFromRow(row);
}

/**
 * The task lifecycle. A started workflow's tasks with no unfinished dependencies become
 * READY; workers claim them (RUNNING), then complete (SUCCEEDED, readying dependants) or
 * fail them (READY again while attempts remain, else FAILED, failing the workflow).
 */
import type { Context } from '../app/context.js';
import { Role, requireWriter, type Viewer } from '../core/viewer.js';
import { workflowScope } from './visibility.js';
import type { EntityManager } from '../db/orm.js';
import { badInput, conflict, notFound } from '../core/errors.js';
import { mutate, type RecordEvent } from '../live/mutate.js';
import { truncate } from '../core/text.js';
import { lockWorkflow } from './access.js';
import { FINISHED_WORKFLOW_STATUSES, Workflow, WorkflowStatus } from './entity.js';
import { workflowEvent, WorkflowEventKind } from './events.js';
import { workflowFromRow } from './loaders.js';
import { validQueue } from './validation.js';
import { Task, TaskStatus } from './task-entity.js';
import { taskFromRow } from './task-loaders.js';

const ACTIVE_WORKFLOW = [WorkflowStatus.PENDING, WorkflowStatus.RUNNING];
const MAX_ERROR_LENGTH = 10_000;

function recordTaskChanges(record: RecordEvent, workflow: Workflow, tasks: Task[]): void {
  for (const task of tasks) record(workflowEvent(WorkflowEventKind.TASK_UPDATED, workflow, task));
}

/**
 * Moves an active workflow forward after any change to its tasks: readies PENDING tasks whose
 * dependencies all SUCCEEDED, and finishes the workflow once no task is left to run
 * (SUCCEEDED when every task did, else FAILED). Returns the workflow as it now is.
 */
export async function advanceWorkflow(tx: EntityManager, workflow: Workflow, record: RecordEvent): Promise<Workflow> {
  if (!ACTIVE_WORKFLOW.includes(workflow.status)) return workflow;
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

export async function setWorkflowStatus(tx: EntityManager, workflow: Workflow, status: WorkflowStatus, record: RecordEvent): Promise<Workflow> {
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

/** Cancels the workflow's PENDING and READY tasks (and RUNNING ones when asked). */
export async function cancelOpenTasks(tx: EntityManager, workflow: Workflow, includeRunning: boolean, record: RecordEvent): Promise<void> {
  const statuses = includeRunning ? `('PENDING', 'READY', 'RUNNING')` : `('PENDING', 'READY')`;
  const cancelled = await tx.execute(
    `update tasks set status = 'CANCELLED', finished_at = now(), updated_at = now()
      where workflow_id = ? and status in ${statuses} returning *`,
    [workflow.id],
  );
  recordTaskChanges(record, workflow, cancelled.map(taskFromRow));
}

/** Locks a task and its workflow (workflow first, as everywhere) for a lifecycle change. */
async function lockTask(tx: EntityManager, viewer: Viewer, taskId: string): Promise<{ task: Task; workflow: Workflow }> {
  const [owner] = await tx.execute('select workflow_id from tasks where id = ?', [taskId]);
  if (!owner) throw notFound('Task');
  // Only "hidden" becomes NOT_FOUND: a deadlock here must reach the transaction retry.
  const workflow = await lockWorkflow(tx, viewer, owner.workflow_id, 'Task');
  const [row] = await tx.execute('select * from tasks where id = ? for update', [taskId]);
  if (!row) throw notFound('Task');
  return { task: taskFromRow(row), workflow };
}

function requireStatus(task: Task, allowed: TaskStatus[], action: string): void {
  if (!allowed.includes(task.status)) {
    throw conflict(`Cannot ${action} task "${task.name}": it is ${task.status}, expected ${allowed.join(' or ')}`);
  }
}

/**
 * Hands the oldest READY task (of `queue`, if given) of an active workflow the viewer may
 * change to the calling worker. SKIP LOCKED means concurrent workers never get the same task.
 */
export async function claimTask(ctx: Context, queueName: string | null | undefined): Promise<Task | null> {
  const viewer = requireWriter(ctx.viewer);
  const queue = queueName == null ? null : validQueue(queueName, 'queue');
  const scope = viewer.role === Role.ADMIN ? null : workflowScope(viewer);
  return mutate(ctx, async (tx, record) => {
    const params: unknown[] = [];
    if (queue) params.push(queue);
    if (scope) params.push(scope);
    const [candidate] = await tx.execute(
      `select t.id, t.workflow_id from tasks t join workflows w on w.id = t.workflow_id
        where t.status = 'READY' and w.status in ('PENDING', 'RUNNING')
          ${queue ? 'and t.queue = ?' : ''} ${scope ? 'and w.owner_id = ?' : ''}
        order by t.ready_at, t.position
        limit 1
        for update of t skip locked`,
      params,
    );
    if (!candidate) return null;
    const [row] = await tx.execute(
      `update tasks set status = 'RUNNING', attempts = attempts + 1, started_at = now(), finished_at = null, updated_at = now()
        where id = ? returning *`,
      [candidate.id],
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
  });
}

export async function completeTask(ctx: Context, taskId: string): Promise<Task> {
  const viewer = requireWriter(ctx.viewer);
  return mutate(ctx, async (tx, record) => {
    const { task, workflow } = await lockTask(tx, viewer, taskId);
    requireStatus(task, [TaskStatus.RUNNING], 'complete');
    const [row] = await tx.execute(
      `update tasks set status = 'SUCCEEDED', error = null, finished_at = now(), updated_at = now() where id = ? returning *`,
      [task.id],
    );
    const done = taskFromRow(row);
    record(workflowEvent(WorkflowEventKind.TASK_UPDATED, workflow, done));
    await advanceWorkflow(tx, workflow, record);
    return done;
  });
}

export async function failTask(ctx: Context, taskId: string, error: string): Promise<Task> {
  const viewer = requireWriter(ctx.viewer);
  if (!error.trim()) throw badInput('error must not be empty', { field: 'error' });
  const message = truncate(error, MAX_ERROR_LENGTH);
  return mutate(ctx, async (tx, record) => {
    const { task, workflow } = await lockTask(tx, viewer, taskId);
    requireStatus(task, [TaskStatus.RUNNING], 'fail');
    const retry = task.attempts < task.maxAttempts;
    const [row] = await tx.execute(
      `update tasks set status = ?, error = ?, updated_at = now(),
              ready_at = case when ? then now() else ready_at end,
              finished_at = case when ? then null else now() end
        where id = ? returning *`,
      [retry ? TaskStatus.READY : TaskStatus.FAILED, message, retry, retry, task.id],
    );
    const failed = taskFromRow(row);
    record(workflowEvent(WorkflowEventKind.TASK_UPDATED, workflow, failed));
    if (!retry && ACTIVE_WORKFLOW.includes(workflow.status)) {
      await cancelOpenTasks(tx, workflow, false, record);
      await setWorkflowStatus(tx, workflow, WorkflowStatus.FAILED, record);
    }
    return failed;
  });
}

/**
 * Gives a FAILED or CANCELLED task a fresh set of attempts. A finished workflow is reopened:
 * it runs again, and the tasks cancelled with it go back to waiting.
 */
export async function retryTask(ctx: Context, taskId: string): Promise<Task> {
  const viewer = requireWriter(ctx.viewer);
  return mutate(ctx, async (tx, record) => {
    const { task, workflow: locked } = await lockTask(tx, viewer, taskId);
    requireStatus(task, [TaskStatus.FAILED, TaskStatus.CANCELLED], 'retry');
    if (locked.status === WorkflowStatus.DRAFT) throw conflict('Cannot retry a task of a workflow that was never started');
    let workflow = locked;
    const reset = await tx.execute(
      `update tasks set status = 'PENDING', attempts = case when id = ? then 0 else attempts end,
              error = case when id = ? then null else error end,
              started_at = case when id = ? then null else started_at end, finished_at = null, updated_at = now()
        where id = ? or (workflow_id = ? and status = 'CANCELLED' and ?)
        returning *`,
      [task.id, task.id, task.id, task.id, workflow.id, !ACTIVE_WORKFLOW.includes(workflow.status)],
    );
    if (!ACTIVE_WORKFLOW.includes(workflow.status)) workflow = await setWorkflowStatus(tx, workflow, WorkflowStatus.RUNNING, record);
    recordTaskChanges(record, workflow, reset.map(taskFromRow));
    await advanceWorkflow(tx, workflow, record);
    const [row] = await tx.execute('select * from tasks where id = ?', [task.id]);
    return taskFromRow(row);
  });
}

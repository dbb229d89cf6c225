/** Who may change a workflow or its tasks: ADMIN any, MEMBER its own, VIEWER none. */
import { mayChange, type Viewer } from '../core/viewer.js';
import type { EntityManager } from '../db/orm.js';
import { notFound } from '../core/errors.js';
import { Workflow } from './entity.js';
import { workflowFromRow } from './loaders.js';
import type { Task } from './task-entity.js';
import { taskFromRow } from './task-loaders.js';
import { uuidArray } from '../db/sql.js';

/** Locks the workflow row for the rest of the transaction, whoever asks (background jobs); null when it is gone. */
export async function lockWorkflowRow(tx: EntityManager, workflowId: string): Promise<Workflow | null> {
  const rows = await tx.execute('select * from workflows where id = ? for update', [workflowId]);
  return rows[0] ? workflowFromRow(rows[0]) : null;
}

/**
 * Locks the workflow row for the rest of the transaction. Every lifecycle change takes this
 * lock first, so changes to one workflow's tasks happen one at a time.
 * A workflow the viewer may not change is NOT_FOUND, as if it did not exist; `asked` names
 * what the caller was asked for (a task is as hidden as its workflow).
 */
export async function lockWorkflow(tx: EntityManager, viewer: Viewer, workflowId: string, asked = 'Workflow'): Promise<Workflow> {
  const workflow = await lockWorkflowRow(tx, workflowId);
  if (!workflow || !mayChange(viewer, workflow.ownerId)) throw notFound(asked);
  return workflow;
}

/** Locks a task and its workflow (workflow first, as everywhere) for a lifecycle change; hidden as its workflow is. */
export async function lockTask(tx: EntityManager, viewer: Viewer, taskId: string): Promise<{ task: Task; workflow: Workflow }> {
  const [locked] = await tx.execute('select * from workflows where id = (select workflow_id from tasks where id = ?) for update', [taskId]);
  // Only "hidden" (or gone) becomes NOT_FOUND: a deadlock here must reach the transaction retry.
  if (!locked || !mayChange(viewer, locked.owner_id)) throw notFound('Task');
  const [row] = await tx.execute('select * from tasks where id = ? for update', [taskId]);
  if (!row) throw notFound('Task');
  return { task: taskFromRow(row), workflow: workflowFromRow(locked) };
}

/** A task locked for its completion (its workflow is not): whose workflow it is, and whether any task waits for it. */
export interface CompletionTarget {
  task: Task;
  ownerId: string;
  hasDependants: boolean;
}

/**
 * Locks tasks, not their workflows, for their completion (lifecycle.completeAttempts locks a
 * workflow later, and only when a task waits for the completed one), in id order; a task the
 * viewer may not change is left out, as hidden as its workflow.
 */
export async function lockForCompletion(tx: EntityManager, viewer: Viewer, taskIds: readonly string[]): Promise<Map<string, CompletionTarget>> {
  const rows = await tx.execute(
    `select t.*, w.owner_id, exists (select 1 from task_dependencies d where d.depends_on_id = t.id) as has_dependants
       from tasks t join workflows w on w.id = t.workflow_id where t.id = any(?::uuid[]) order by t.id for update of t`,
    [uuidArray(taskIds)],
  );
  const targets = new Map<string, CompletionTarget>();
  for (const row of rows) {
    if (mayChange(viewer, row.owner_id)) targets.set(row.id, { task: taskFromRow(row), ownerId: row.owner_id, hasDependants: row.has_dependants });
  }
  return targets;
}

/** A task the viewer may change, read without a lock (heartbeats), or NOT_FOUND. */
export async function changeableTask(tx: EntityManager, viewer: Viewer, taskId: string): Promise<Task> {
  const [row] = await tx.execute('select t.*, w.owner_id from tasks t join workflows w on w.id = t.workflow_id where t.id = ?', [taskId]);
  if (!row || !mayChange(viewer, row.owner_id)) throw notFound('Task');
  return taskFromRow(row);
}

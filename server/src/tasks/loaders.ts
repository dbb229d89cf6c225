/** Per-request batch loaders for tasks. A task is visible exactly when its workflow is. */
import DataLoader from 'dataloader';
import { workflowScope, type Viewer } from '../platform/auth.js';
import type { EntityManager } from '../platform/db.js';
import { groupBy, indexBy, toDate, uuidArray } from '../platform/sql.js';
import { Task, type TaskStatus } from './entity.js';

export function taskFromRow(row: Record<string, any>): Task {
  return Object.assign(new Task(), {
    id: row.id,
    workflowId: row.workflow_id,
    name: row.name,
    position: row.position,
    status: row.status as TaskStatus,
    queue: row.queue,
    attempts: row.attempts,
    maxAttempts: row.max_attempts,
    error: row.error,
    readyAt: toDate(row.ready_at),
    startedAt: toDate(row.started_at),
    finishedAt: toDate(row.finished_at),
    createdAt: toDate(row.created_at),
    updatedAt: toDate(row.updated_at),
  });
}

export function createTaskLoaders(em: EntityManager, viewer: Viewer | null) {
  const scope = viewer ? workflowScope(viewer) : null;
  return {
    taskById: new DataLoader<string, Task | null>(async (ids) => {
      const rows = await em.execute(
        scope
          ? 'select t.* from tasks t join workflows w on w.id = t.workflow_id where t.id = any(?::uuid[]) and w.owner_id = ?'
          : 'select * from tasks where id = any(?::uuid[])',
        scope ? [uuidArray(ids), scope] : [uuidArray(ids)],
      );
      return indexBy(ids, rows.map(taskFromRow), (t) => t.id);
    }),

    /** All tasks of (visible) workflows, in the order they were declared. */
    tasksByWorkflow: new DataLoader<string, Task[]>(async (ids) => {
      const rows = await em.execute('select * from tasks where workflow_id = any(?::uuid[]) order by position', [uuidArray(ids)]);
      return groupBy(ids, rows.map(taskFromRow), (t) => t.workflowId);
    }),

    /** The tasks each task waits for (always in the same workflow, so equally visible). */
    dependenciesByTask: new DataLoader<string, Task[]>(async (ids) => {
      const rows: Array<Record<string, any>> = await em.execute(
        `select d.task_id as dependant_id, t.* from task_dependencies d join tasks t on t.id = d.depends_on_id
         where d.task_id = any(?::uuid[]) order by t.position`,
        [uuidArray(ids)],
      );
      const grouped = groupBy(ids, rows, (row) => row.dependant_id);
      return grouped.map((group) => group.map(taskFromRow));
    }),
  };
}

export type TaskLoaders = ReturnType<typeof createTaskLoaders>;

/** Per-request batch loaders for tasks. A task is visible exactly when its workflow is. */
import DataLoader from 'dataloader';
import { workflowScope, type Viewer } from '../platform/auth.js';
import type { Queryable } from '../platform/read-routing.js';
import { asInstance, groupBy, toDate, uuidArray } from '../platform/sql.js';
import { Task, type TaskStatus } from './entity.js';

export function taskFromRow(row: Record<string, any>): Task {
  return asInstance(Task, {
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
    dependsOnIds: row.depends_on_ids === undefined ? undefined : row.depends_on_ids ? row.depends_on_ids.split(',') : [],
  });
}

// Each task row carries the ids it depends on (one index probe per row), so `dependsOn` of a
// loaded list resolves from the loader cache without another statement.
// (As text: splitting 'a,b' is cheaper than pg's generic array parser, and uuids hold no commas.)
const TASK_COLUMNS = "t.*, array_to_string(array(select d.depends_on_id from task_dependencies d where d.task_id = t.id), ',') as depends_on_ids";

export function createTaskLoaders(em: Queryable, viewer: Viewer | null) {
  const scope = viewer ? workflowScope(viewer) : null;
  // Every task this request has loaded (all visible to the viewer), for synchronous lookups.
  const loaded = new Map<string, Task>();
  const remember = (task: Task) => {
    loaded.set(task.id, task);
    return task;
  };

  // Tasks a list already brought in are answered from `loaded`, not primed one by one.
  const taskById = new DataLoader<string, Task | null>(async (ids) => {
    const missing = ids.filter((id) => !loaded.has(id));
    if (missing.length) {
      const rows = await em.execute(
        scope
          ? `select ${TASK_COLUMNS} from tasks t join workflows w on w.id = t.workflow_id where t.id = any(?::uuid[]) and w.owner_id = ?`
          : `select ${TASK_COLUMNS} from tasks t where t.id = any(?::uuid[])`,
        scope ? [uuidArray(missing), scope] : [uuidArray(missing)],
      );
      for (const row of rows) remember(taskFromRow(row));
    }
    return ids.map((id) => loaded.get(id) ?? null);
  });

  /** The tasks each task waits for (always in the same workflow, so equally visible). */
  const dependenciesByTask = new DataLoader<string, Task[]>(async (ids) => {
    const tasks = await taskById.loadMany(ids);
    const dependencyIds = tasks.map((task) => (task && !(task instanceof Error) ? (task.dependsOnIds ?? []) : []));
    await taskById.loadMany([...new Set(dependencyIds.flat())]);
    return dependencyIds.map(knownTasks);
  });

  const knownTasks = (ids: string[]): Task[] =>
    ids.flatMap((id) => loaded.get(id) ?? []).sort((a, b) => a.position - b.position);

  return {
    taskById,

    /** All tasks of (visible) workflows, in the order they were declared. */
    tasksByWorkflow: new DataLoader<string, Task[]>(async (ids) => {
      const rows = await em.execute(`select ${TASK_COLUMNS} from tasks t where t.workflow_id = any(?::uuid[]) order by t.position`, [uuidArray(ids)]);
      const tasks = rows.map((row) => remember(taskFromRow(row)));
      return groupBy(ids, tasks, (t) => t.workflowId);
    }),

    dependenciesByTask,

    /**
     * A task's dependencies, in declaration order. For a task of a list this request loaded,
     * they are known already and come back without a promise or a batch (one per task adds
     * up on large lists); otherwise (a mutation's result) through `dependenciesByTask`.
     */
    dependenciesOf(task: Task): Task[] | Promise<Task[]> {
      const ids = task.dependsOnIds;
      if (ids && loaded.has(task.id) && ids.every((id) => loaded.has(id))) return knownTasks(ids);
      return dependenciesByTask.load(task.id);
    },
  };
}

export type TaskLoaders = ReturnType<typeof createTaskLoaders>;

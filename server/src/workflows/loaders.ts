/**
 * Per-request batch loaders for workflows. Each one filters by what the viewer may see, so
 * a workflow outside the viewer's scope loads as null on every path.
 */
import DataLoader from 'dataloader';
import type { Viewer } from '../core/viewer.js';
import { workflowScope } from './visibility.js';
import type { Queryable } from '../db/read-routing.js';
import { asInstance, indexBy, toDate, uuidArray } from '../db/sql.js';
import { TaskCounts, Workflow, type WorkflowStatus } from './entity.js';
import type { Task } from './task-entity.js';
import type { TaskLoaders } from './task-loaders.js';

export function workflowFromRow(row: Record<string, any>): Workflow {
  return asInstance(Workflow, {
    id: row.id,
    ownerId: row.owner_id,
    name: row.name,
    description: row.description,
    status: row.status as WorkflowStatus,
    createdAt: toDate(row.created_at),
    updatedAt: toDate(row.updated_at),
    startedAt: toDate(row.started_at),
    finishedAt: toDate(row.finished_at),
    templateId: row.template_id ?? null,
    templateVersion: row.template_version ?? null,
    scheduleId: row.schedule_id ?? null,
    scheduledFor: toDate(row.scheduled_for),
  });
}

function countsOf(tasks: readonly Task[]): TaskCounts {
  const counts = new TaskCounts();
  for (const task of tasks) counts[task.status.toLowerCase() as Exclude<keyof TaskCounts, 'total'>]++;
  counts.total = tasks.length;
  return counts;
}

/**
 * `tasksSelected`: whether the operation asks for the workflows' tasks (known for queries only):
 * then their counts come from the tasks it loads anyway, not from a statement of their own.
 */
export function createWorkflowLoaders(em: Queryable, viewer: Viewer | null, tasks: Pick<TaskLoaders, 'tasksByWorkflow'>, tasksSelected: () => boolean = () => false) {
  const scope = viewer ? workflowScope(viewer) : null;
  return {
    workflowById: new DataLoader<string, Workflow | null>(async (ids) => {
      const rows = await em.execute(
        `select * from workflows where id = any(?::uuid[]) ${scope ? 'and owner_id = ?' : ''}`,
        scope ? [uuidArray(ids), scope] : [uuidArray(ids)],
      );
      return indexBy(ids, rows.map(workflowFromRow), (w) => w.id);
    }),

    /** Counts of a (visible) workflow's tasks per status; the caller has checked visibility. */
    taskCountsByWorkflow: new DataLoader<string, TaskCounts>(async (ids) => {
      if (tasksSelected()) return (await tasks.tasksByWorkflow.loadMany(ids)).map((list) => (list instanceof Error ? list : countsOf(list)));
      const rows: Array<{ workflow_id: string; status: string; n: number }> = await em.execute(
        'select workflow_id, status, count(*)::int as n from tasks where workflow_id = any(?::uuid[]) group by workflow_id, status',
        [uuidArray(ids)],
      );
      const counts = new Map(ids.map((id) => [id, new TaskCounts()]));
      for (const row of rows) {
        const c = counts.get(row.workflow_id)!;
        c[row.status.toLowerCase() as Exclude<keyof TaskCounts, 'total'>] = row.n;
        c.total += row.n;
      }
      return ids.map((id) => counts.get(id)!);
    }),
  };
}

export type WorkflowLoaders = ReturnType<typeof createWorkflowLoaders>;

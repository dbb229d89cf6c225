/**
 * The workflows list (`/api/export/workflows.csv`), a workflow's tasks (`tasks.csv?workflowId=…`),
 * its run timeline (`task-runs.csv?workflowId=…`) and the queue backlog (`queues.csv`) as
 * exports: the GraphQL fields' filters and visibility.
 */
import type { Context } from '../app/context.js';
import { badInput } from '../core/errors.js';
import { idOf, toGlobalId } from '../core/ids.js';
import { toDate } from '../db/sql.js';
import { MAX_PAGE_SIZE } from '../db/pagination.js';
import { connectionPages, enumList, keysetPages, parentId, type ExportList } from '../http/export.js';
import { WorkflowStatus } from './entity.js';
import { taskQueues } from './queues.js';
import { listWorkflows, visibleWorkflow } from './service.js';
import { TaskStatus } from './task-entity.js';

export function workflowExport(ctx: Context): ExportList {
  return {
    columns: ['id', 'name', 'description', 'status', 'ownerId', 'createdAt', 'updatedAt', 'startedAt', 'finishedAt'],
    async *pages(params) {
      const status = enumList(params, 'status', WorkflowStatus);
      const search = params.get('search');
      for await (const page of connectionPages((after) => listWorkflows(ctx, { first: MAX_PAGE_SIZE, after, status, search }))) {
        yield page.map((w) => ({ ...w, id: toGlobalId('Workflow', w.id), ownerId: toGlobalId('User', w.ownerId) }));
      }
    },
  };
}

/** `workflow(id).tasks(status)`: one page, a workflow's tasks being bounded. */
export function taskExport(ctx: Context): ExportList {
  return {
    columns: ['id', 'name', 'status', 'queue', 'priority', 'attempts', 'maxAttempts', 'workerId', 'createdAt', 'startedAt', 'finishedAt', 'error'],
    async *pages(params) {
      const workflowId = params.get('workflowId');
      if (!workflowId) throw badInput('workflowId: whose tasks to export', { field: 'workflowId' });
      const status = enumList(params, 'status', TaskStatus);
      const workflow = await visibleWorkflow(ctx, idOf('Workflow', workflowId));
      const tasks = await ctx.loaders.tasksByWorkflow.load(workflow.id);
      yield tasks.filter((t) => !status || status.includes(t.status)).map((t) => ({ ...t, id: toGlobalId('Task', t.id) }));
    },
  };
}

/**
 * The run timeline: every attempt of every task of the workflow (`Task.runs`, without its
 * newest-100 bound), in the order they started (run id), a page at a time.
 */
export function taskRunExport(ctx: Context): ExportList {
  return {
    columns: ['taskId', 'task', 'attempt', 'workerId', 'readyAt', 'startedAt', 'finishedAt', 'outcome', 'error', 'errorType'],
    async *pages(params) {
      const workflow = await visibleWorkflow(ctx, parentId(params, 'workflowId', 'Workflow'));
      const pages = keysetPages<Record<string, any>>((last) => ctx.read.execute(
        `select r.*, t.name as task_name from task_runs r join tasks t on t.id = r.task_id
          where t.workflow_id = ? ${last ? 'and r.id > ?::bigint' : ''} order by r.id limit ?`,
        last ? [workflow.id, String(last.id), MAX_PAGE_SIZE] : [workflow.id, MAX_PAGE_SIZE],
      ), MAX_PAGE_SIZE);
      for await (const rows of pages) {
        yield rows.map((r) => ({
          taskId: toGlobalId('Task', r.task_id), task: r.task_name, attempt: r.attempt, workerId: r.worker_id, readyAt: toDate(r.ready_at),
          startedAt: toDate(r.started_at), finishedAt: toDate(r.finished_at), outcome: r.outcome, error: r.error, errorType: r.error_type,
        }));
      }
    },
  };
}

/** `taskQueues`: every queue's backlog the caller may see, one page (at most 1,000 queues). */
export function queueExport(ctx: Context): ExportList {
  return {
    columns: ['name', 'ready', 'running', 'delayed', 'oldestReadyAgeSeconds'],
    async *pages() {
      yield await taskQueues(ctx);
    },
  };
}

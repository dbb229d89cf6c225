/**
 * The workflows list (`/api/export/workflows.csv`), a workflow's tasks (`tasks.csv?workflowId=…`)
 * and the queue backlog (`queues.csv`) as exports: the GraphQL fields' filters and visibility.
 */
import type { Context } from '../app/context.js';
import { badInput } from '../core/errors.js';
import { idOf, toGlobalId } from '../core/ids.js';
import { MAX_PAGE_SIZE } from '../db/pagination.js';
import { connectionPages, enumList, type ExportList } from '../http/export.js';
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

/** `taskQueues`: every queue's backlog the caller may see, one page (at most 1,000 queues). */
export function queueExport(ctx: Context): ExportList {
  return {
    columns: ['name', 'ready', 'running', 'delayed', 'oldestReadyAgeSeconds'],
    async *pages() {
      yield await taskQueues(ctx);
    },
  };
}

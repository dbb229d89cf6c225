/** The workflows list as an export (`/api/export/workflows.csv`): the `workflows` field's filters and visibility. */
import type { Context } from '../app/context.js';
import { toGlobalId } from '../core/ids.js';
import { MAX_PAGE_SIZE } from '../db/pagination.js';
import { connectionPages, enumList, type ExportList } from '../http/export.js';
import { WorkflowStatus } from './entity.js';
import { listWorkflows } from './service.js';

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

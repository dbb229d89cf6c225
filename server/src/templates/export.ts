/** The templates list as an export (`/api/export/templates.csv`): the `templates` field, newest first, the caller's visibility. */
import type { Context } from '../app/context.js';
import { toGlobalId } from '../core/ids.js';
import { MAX_PAGE_SIZE } from '../db/pagination.js';
import { connectionExport, type ExportList } from '../http/export.js';
import { listTemplates } from './service.js';

export const templateExport = (ctx: Context): ExportList => connectionExport(
  ['id', 'name', 'description', 'latestVersion', 'ownerId', 'createdAt', 'updatedAt'],
  (after) => listTemplates(ctx, { first: MAX_PAGE_SIZE, after }),
  (t) => ({ ...t, id: toGlobalId('WorkflowTemplate', t.id), ownerId: toGlobalId('User', t.ownerId) }),
);

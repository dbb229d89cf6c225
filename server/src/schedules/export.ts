/** The schedules list as an export (`/api/export/schedules.csv`): the `schedules` field, newest first, the caller's visibility. */
import type { Context } from '../app/context.js';
import { toGlobalId } from '../core/ids.js';
import { MAX_PAGE_SIZE } from '../db/pagination.js';
import { connectionExport, type ExportList } from '../http/export.js';
import { listSchedules } from './service.js';

export const scheduleExport = (ctx: Context): ExportList => connectionExport(
  ['id', 'templateId', 'templateVersion', 'cron', 'timezone', 'overlapPolicy', 'catchupWindowSeconds', 'paused', 'nextRunAt', 'lastRunAt', 'ownerId', 'createdAt', 'updatedAt'],
  (after) => listSchedules(ctx, { first: MAX_PAGE_SIZE, after }),
  (s) => ({ ...s, id: toGlobalId('Schedule', s.id), templateId: toGlobalId('WorkflowTemplate', s.templateId), ownerId: toGlobalId('User', s.ownerId) }),
);

/**
 * The schedules list (`/api/export/schedules.csv`: the `schedules` field, newest first, the
 * caller's visibility) and a schedule's run history (`schedule-runs.csv?scheduleId=…`: every
 * slot, newest first, as `Schedule.history` lists them, read a page at a time).
 */
import type { Context } from '../app/context.js';
import { notFound } from '../core/errors.js';
import { toGlobalId } from '../core/ids.js';
import { requireViewer } from '../core/viewer.js';
import { MAX_PAGE_SIZE } from '../db/pagination.js';
import { connectionExport, parentId, type ExportList } from '../http/export.js';
import { runPages } from './rows.js';
import { listSchedules } from './service.js';

export const scheduleExport = (ctx: Context): ExportList => connectionExport(
  ['id', 'templateId', 'templateVersion', 'cron', 'timezone', 'overlapPolicy', 'catchupWindowSeconds', 'paused', 'nextRunAt', 'lastRunAt', 'ownerId', 'createdAt', 'updatedAt'],
  (after) => listSchedules(ctx, { first: MAX_PAGE_SIZE, after }),
  (s) => ({ ...s, id: toGlobalId('Schedule', s.id), templateId: toGlobalId('WorkflowTemplate', s.templateId), ownerId: toGlobalId('User', s.ownerId) }),
);

/** Seen as `schedule(id)` sees it: signed in; another member's schedule is not found. */
export function scheduleRunExport(ctx: Context): ExportList {
  return {
    columns: ['scheduledFor', 'outcome', 'error', 'workflowId', 'createdAt'],
    async *pages(params) {
      requireViewer(ctx.viewer);
      const schedule = await ctx.loaders.scheduleById.load(parentId(params, 'scheduleId', 'Schedule'));
      if (!schedule) throw notFound('Schedule');
      const pages = runPages(ctx.read, schedule.id, MAX_PAGE_SIZE);
      for await (const runs of pages) yield runs.map((run) => ({ ...run, workflowId: run.workflowId && toGlobalId('Workflow', run.workflowId) }));
    },
  };
}

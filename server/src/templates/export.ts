/**
 * The templates list (`/api/export/templates.csv`: the `templates` field, newest first, the
 * caller's visibility) and a template's versions (`template-versions.csv?templateId=…`: every
 * version, newest first, with the fields `WorkflowTemplate.versions` shows, a page at a time).
 */
import type { Context } from '../app/context.js';
import { notFound } from '../core/errors.js';
import { toGlobalId } from '../core/ids.js';
import { requireViewer } from '../core/viewer.js';
import { MAX_PAGE_SIZE } from '../db/pagination.js';
import { connectionExport, parentId, type ExportList } from '../http/export.js';
import { versionPages } from './rows.js';
import { listTemplates } from './service.js';

export const templateExport = (ctx: Context): ExportList => connectionExport(
  ['id', 'name', 'description', 'latestVersion', 'ownerId', 'createdAt', 'updatedAt'],
  (after) => listTemplates(ctx, { first: MAX_PAGE_SIZE, after }),
  (t) => ({ ...t, id: toGlobalId('WorkflowTemplate', t.id), ownerId: toGlobalId('User', t.ownerId) }),
);

/** The fields of `TaskTemplate`: a stored task keeps more (its retry policy), which the API does not show. */
const TASK_FIELDS = ['name', 'dependsOn', 'queue', 'maxAttempts', 'priority', 'timeoutSeconds', 'heartbeatTimeoutSeconds'] as const;

/** Seen as `template(id)` sees it: signed in; another member's template is not found. */
export function templateVersionExport(ctx: Context): ExportList {
  return {
    columns: ['templateId', 'version', 'name', 'description', 'tasks', 'createdById', 'createdAt'],
    async *pages(params) {
      requireViewer(ctx.viewer);
      const template = await ctx.loaders.templateById.load(parentId(params, 'templateId', 'WorkflowTemplate'));
      if (!template) throw notFound('Template');
      const pages = versionPages(ctx.read, template.id, MAX_PAGE_SIZE);
      for await (const versions of pages) {
        yield versions.map((v) => ({
          ...v,
          templateId: toGlobalId('WorkflowTemplate', v.templateId),
          createdById: v.createdById && toGlobalId('User', v.createdById),
          tasks: v.tasks.map((task) => Object.fromEntries(TASK_FIELDS.map((field) => [field, (task as unknown as Record<string, unknown>)[field] ?? null]))),
        }));
      }
    },
  };
}

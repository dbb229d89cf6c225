/**
 * Per-request batch loaders for templates. Templates are seen as workflows are
 * (workflows/visibility.ts): ADMIN and VIEWER all, a MEMBER only its own; a hidden one loads as null.
 */
import DataLoader from 'dataloader';
import type { Viewer } from '../core/viewer.js';
import type { Queryable } from '../db/read-routing.js';
import { asInstance, groupBy, indexBy, toDate, uuidArray } from '../db/sql.js';
import { workflowScope } from '../workflows/visibility.js';
import { MAX_LISTED_VERSIONS, TemplateVersion, WorkflowTemplate } from './types.js';

export function templateFromRow(row: Record<string, any>): WorkflowTemplate {
  return asInstance(WorkflowTemplate, {
    id: row.id, ownerId: row.owner_id, name: row.name, description: row.description, latestVersion: row.latest_version,
    createdAt: toDate(row.created_at), updatedAt: toDate(row.updated_at),
  });
}

export function versionFromRow(row: Record<string, any>): TemplateVersion {
  return asInstance(TemplateVersion, {
    templateId: row.template_id, version: row.version, name: row.name, description: row.description, tasks: row.tasks,
    createdAt: toDate(row.created_at), createdById: row.created_by,
  });
}

export function createTemplateLoaders(db: Queryable, viewer: Viewer | null) {
  const scope = viewer ? workflowScope(viewer) : null;
  return {
    templateById: new DataLoader<string, WorkflowTemplate | null>(async (ids) => {
      const rows = await db.execute(
        `select * from workflow_templates where id = any(?::uuid[]) ${scope ? 'and owner_id = ?' : ''}`,
        scope ? [uuidArray(ids), scope] : [uuidArray(ids)],
      );
      return indexBy(ids, rows.map(templateFromRow), (t) => t.id);
    }),

    /** Newest first, the newest MAX_LISTED_VERSIONS; the caller has checked visibility. */
    versionsByTemplate: new DataLoader<string, TemplateVersion[]>(async (ids) => {
      const rows = await db.execute(
        `select v.* from unnest(?::uuid[]) as t (id)
           cross join lateral (select * from template_versions where template_id = t.id order by version desc limit ?) v`,
        [uuidArray(ids), MAX_LISTED_VERSIONS],
      );
      return groupBy(ids, rows.map(versionFromRow), (v) => v.templateId);
    }),
  };
}

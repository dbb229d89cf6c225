/**
 * Per-request batch loaders for templates. Templates are seen as workflows are
 * (workflows/visibility.ts): ADMIN and VIEWER all, a MEMBER only its own; a hidden one loads as null.
 */
import DataLoader from 'dataloader';
import type { Viewer } from '../core/viewer.js';
import type { Queryable } from '../db/read-routing.js';
import { newestPerParent } from '../db/newest-per-parent.js';
import { asInstance, indexBy, toDate, uuidArray } from '../db/sql.js';
import { workflowScope } from '../workflows/visibility.js';
import { TemplateVersion, WorkflowTemplate } from './types.js';

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

    /** A template's newest `first` versions, newest first; the caller has checked visibility. */
    versionsByTemplate: newestPerParent(db, { table: 'template_versions', parentColumn: 'template_id', orderBy: 'version desc', fromRow: versionFromRow }),
  };
}

/** Data access for templates and their versions (ARCHITECTURE.md, "Data access"): their SQL and row mappers. */
import { newestPerParent } from '../db/newest-per-parent.js';
import { ownedByIds, ownedPage } from '../db/owned.js';
import type { CursorPosition } from '../db/pagination.js';
import type { Queryable } from '../db/read-routing.js';
import { newestChildren } from '../http/export.js';
import { asInstance, toDate } from '../db/sql.js';
import type { ValidWorkflow } from '../workflows/validation.js';
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

/** `scope`: only this owner's (a MEMBER's view), null for all. */
export const templatesPage = (db: Queryable, scope: string | null, window: { first: number; after: CursorPosition | null; count: boolean }) =>
  ownedPage(db, 'workflow_templates', scope, window, templateFromRow);

export const templatesByIds = (db: Queryable, ids: readonly string[], scope: string | null): Promise<(WorkflowTemplate | null)[]> => ownedByIds(db, 'workflow_templates', ids, scope, templateFromRow);

/** A DataLoader of a template's newest `first` versions, newest first. */
export const newestVersions = (db: Queryable) =>
  newestPerParent(db, { table: 'template_versions', parentColumn: 'template_id', orderBy: 'version desc', fromRow: versionFromRow });

/** The template locked for this transaction: `update` to change it, `share` so no version is added meanwhile. */
export async function lockTemplateRow(tx: Queryable, id: string, mode: 'update' | 'share'): Promise<WorkflowTemplate | null> {
  const [row] = await tx.execute(`select * from workflow_templates where id = ? for ${mode === 'update' ? 'update' : 'share'}`, [id]);
  return row ? templateFromRow(row) : null;
}

export async function insertTemplate(tx: Queryable, ownerId: string, valid: Pick<ValidWorkflow, 'name' | 'description'>): Promise<WorkflowTemplate> {
  const [row] = await tx.execute('insert into workflow_templates (owner_id, name, description) values (?, ?, ?) returning *', [ownerId, valid.name, valid.description]);
  return templateFromRow(row);
}

export async function insertVersion(tx: Queryable, templateId: string, version: number, valid: ValidWorkflow, createdBy: string): Promise<void> {
  await tx.execute(
    'insert into template_versions (template_id, version, name, description, tasks, created_by) values (?, ?, ?, ?, ?::jsonb, ?)',
    [templateId, version, valid.name, valid.description, JSON.stringify(valid.tasks), createdBy],
  );
}

/** Names the template after its newest version. */
export async function updateTemplateRow(tx: Queryable, id: string, valid: Pick<ValidWorkflow, 'name' | 'description'>, latestVersion: number): Promise<WorkflowTemplate> {
  const [row] = await tx.execute(
    'update workflow_templates set name = ?, description = ?, latest_version = ?, updated_at = now() where id = ? returning *',
    [valid.name, valid.description, latestVersion, id],
  );
  return templateFromRow(row);
}

export async function deleteTemplateRow(tx: Queryable, id: string): Promise<void> {
  await tx.execute('delete from workflow_templates where id = ?', [id]);
}

export async function versionOf(db: Queryable, templateId: string, version: number): Promise<TemplateVersion | null> {
  const [row] = await db.execute('select * from template_versions where template_id = ? and version = ?', [templateId, version]);
  return row ? versionFromRow(row) : null;
}

/** Every version of the template, newest first, `size` at a time (the exports). */
export const versionPages = (db: Queryable, templateId: string, size: number): AsyncIterable<TemplateVersion[]> =>
  newestChildren(db, { table: 'template_versions', parentColumn: 'template_id', key: 'version', keyOf: (v) => v.version, fromRow: versionFromRow }, templateId, size);

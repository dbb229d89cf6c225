/**
 * Templates: a named task graph kept as immutable versions. Creating one makes version 1, each
 * update the next version (validated exactly as createWorkflow validates a workflow); running
 * one creates and starts a workflow pinned to the version it ran. Seen and changed as workflows
 * are: ADMIN any, a MEMBER its own, a VIEWER reads all and changes none.
 */
import type { Context } from '../app/context.js';
import { badInput, conflict, notFound } from '../core/errors.js';
import { mayChange, requireViewer, requireWriter, type Viewer } from '../core/viewer.js';
import type { EntityManager } from '../db/orm.js';
import { connectionOf, decodeCursor, pageSize } from '../db/pagination.js';
import { mayRead } from '../graphql/selection.js';
import { mutate, type RecordEvent } from '../live/mutate.js';
import type { Workflow } from '../workflows/entity.js';
import * as lifecycle from '../workflows/lifecycle.js';
import { insertWorkflow, type WorkflowOrigin } from '../workflows/service.js';
import { validateWorkflow, type ValidWorkflow } from '../workflows/validation.js';
import { workflowScope } from '../workflows/visibility.js';
import { schedulesOfTemplate } from '../schedules/rows.js';
import * as rows from './rows.js';
import type { TemplateInput, TemplatesArgs, TemplateVersion, WorkflowTemplate, WorkflowTemplateConnection } from './types.js';

/** Newest first; `totalCount` counts every template the viewer may see. */
export async function listTemplates(ctx: Context, args: TemplatesArgs): Promise<WorkflowTemplateConnection> {
  const viewer = requireViewer(ctx.viewer);
  const first = pageSize(args.first);
  const after = args.after ? decodeCursor('templates', args.after) : null;
  const scope = workflowScope(viewer);
  const count = mayRead(ctx.operation.selected, 'WorkflowTemplateConnection', 'totalCount');
  const page = await rows.templatesPage(ctx.read, scope, { first, after, count });
  const templates = page.rows;
  for (const template of templates) ctx.loaders.templateById.prime(template.id, template);
  return connectionOf('templates', templates, (template) => template.createdAt, page, after);
}

/** The template's graph as a validated workflow: what a version stores. */
function validTemplate(input: TemplateInput): ValidWorkflow {
  return validateWorkflow({ name: input.name, description: input.description, tasks: input.tasks });
}

export async function createTemplate(ctx: Context, input: TemplateInput): Promise<WorkflowTemplate> {
  const viewer = requireWriter(ctx.viewer);
  const valid = validTemplate(input);
  return mutate(ctx, async (tx) => {
    const template = await rows.insertTemplate(tx, viewer.id, valid);
    await rows.insertVersion(tx, template.id, 1, valid, viewer.id);
    return template;
  });
}

/** Locks a template the viewer may change (ADMIN any, a MEMBER its own), or NOT_FOUND as if it did not exist. */
export async function lockTemplate(tx: EntityManager, viewer: Viewer, id: string, mode: 'update' | 'share' = 'update'): Promise<WorkflowTemplate> {
  const template = await rows.lockTemplateRow(tx, id, mode);
  if (!template || !mayChange(viewer, template.ownerId)) throw notFound('WorkflowTemplate');
  return template;
}

/** Adds the next version; earlier versions, and the workflows pinned to them, stay as they were. */
export async function updateTemplate(ctx: Context, id: string, input: TemplateInput): Promise<WorkflowTemplate> {
  const viewer = requireWriter(ctx.viewer);
  const valid = validTemplate(input);
  return mutate(ctx, async (tx) => {
    const template = await lockTemplate(tx, viewer, id);
    const version = template.latestVersion + 1;
    await rows.insertVersion(tx, id, version, valid, viewer.id);
    return rows.updateTemplateRow(tx, id, valid, version);
  });
}

/** Deletes a template and its versions; its workflows stay (their template reads null). CONFLICT while schedules run it. */
export async function deleteTemplate(ctx: Context, id: string): Promise<void> {
  const viewer = requireWriter(ctx.viewer);
  await mutate(ctx, async (tx) => {
    await lockTemplate(tx, viewer, id);
    const schedules = await schedulesOfTemplate(tx, id);
    if (schedules > 0) throw conflict(`${schedules} schedule(s) run this template: delete them first`);
    await rows.deleteTemplateRow(tx, id);
  });
}

/** One version of a template, or BAD_USER_INPUT naming `field` when it has no such version. */
export async function templateVersion(tx: EntityManager, template: WorkflowTemplate, version: number | null | undefined, field = 'version'): Promise<TemplateVersion> {
  const wanted = version ?? template.latestVersion;
  if (!Number.isInteger(wanted) || wanted < 1 || wanted > template.latestVersion) {
    throw badInput(`${field} must be 1 to ${template.latestVersion} (the template's latest version)`, { field });
  }
  const found = await rows.versionOf(tx, template.id, wanted);
  if (!found) throw badInput(`The template has no version ${wanted}`, { field });
  return found;
}

/**
 * Creates a workflow owned by `ownerId` from one version and starts it, in the caller's
 * transaction. The stored tasks are validated again (as createWorkflow would), with `name`
 * replacing the version's when given.
 */
export async function runVersion(
  tx: EntityManager, ownerId: string, version: TemplateVersion, origin: Omit<WorkflowOrigin, 'templateId' | 'templateVersion'>, name: string | null | undefined, record: RecordEvent,
): Promise<Workflow> {
  const valid = validateWorkflow({ name: name ?? version.name, description: version.description, tasks: version.tasks });
  const draft = await insertWorkflow(tx, ownerId, valid, { ...origin, templateId: version.templateId, templateVersion: version.version }, record);
  return lifecycle.startWorkflow(tx, draft, record);
}

/** Creates and starts a workflow from a version (the latest unless named), owned by the caller. */
export async function runTemplate(ctx: Context, id: string, version: number | null | undefined, name: string | null | undefined): Promise<Workflow> {
  const viewer = requireWriter(ctx.viewer);
  return mutate(ctx, async (tx, record) => {
    // A share lock: an update may not add a version between reading the template and its version.
    const pinned = await templateVersion(tx, await lockTemplate(tx, viewer, id, 'share'), version);
    return runVersion(tx, viewer.id, pinned, {}, name, record);
  });
}

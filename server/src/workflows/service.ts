/** Workflows: listing what the viewer may see, creating, starting, cancelling, deleting. */
import { randomUUID } from 'node:crypto';
import type { Context } from '../app/context.js';
import { requireViewer, requireWriter, type Viewer } from '../core/viewer.js';
import { workflowScope } from './visibility.js';
import { badInput, conflict, notFound } from '../core/errors.js';
import { mutate, type RecordEvent } from '../live/mutate.js';
import type { EntityManager } from '../db/orm.js';
import { connectionOf, decodeCursor, keysetPage, pageSize } from '../db/pagination.js';
import { mayRead } from '../graphql/selection.js';
import { enumArray } from '../db/sql.js';
import { truncate } from '../core/text.js';
import { Task, TaskDependency, TaskStatus } from './task-entity.js';
import * as lifecycle from './lifecycle.js';
import { lockWorkflow } from './access.js';
import { Workflow, WorkflowStatus } from './entity.js';
import { workflowDeleted, workflowEvent, WorkflowEventKind } from './events.js';
import type { CreateWorkflowInput, WorkflowConnection, WorkflowsArgs } from './inputs.js';
import { workflowFromRow } from './loaders.js';
import { validateWorkflow, type ValidWorkflow } from './validation.js';

function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

/** What a list (or a bulk action) selects, with ids already resolved to database ids. */
export interface WorkflowCriteria {
  status?: readonly WorkflowStatus[] | null;
  search?: string | null;
  ownerId?: string | null;
  templateId?: string | null;
  scheduleId?: string | null;
  createdAfter?: Date | null;
  createdBefore?: Date | null;
}

/** SQL conditions (on `workflows`) for what the viewer may see of the criteria. */
export function workflowWhere(viewer: Viewer, criteria: WorkflowCriteria): { filters: string[]; params: unknown[] } {
  const filters: string[] = [];
  const params: unknown[] = [];
  const where = (filter: string, ...values: unknown[]) => {
    filters.push(filter);
    params.push(...values);
  };
  const scope = workflowScope(viewer);
  if (scope) where('owner_id = ?', scope);
  if (criteria.status?.length) where('status = any(?::text[])', enumArray(criteria.status));
  const search = criteria.search ? truncate(criteria.search.trim(), 200) : '';
  if (search) where(`(name ilike ? or description ilike ?)`, `%${escapeLike(search)}%`, `%${escapeLike(search)}%`);
  if (criteria.ownerId) where('owner_id = ?', criteria.ownerId);
  if (criteria.templateId) where('template_id = ?', criteria.templateId);
  if (criteria.scheduleId) where('schedule_id = ?', criteria.scheduleId);
  if (criteria.createdAfter) where('created_at >= ?', criteria.createdAfter);
  if (criteria.createdBefore) where('created_at < ?', criteria.createdBefore);
  return { filters, params };
}

/** Newest first; `totalCount` counts every match the viewer may see, not just this page. */
export async function listWorkflows(ctx: Context, args: WorkflowsArgs, criteria: WorkflowCriteria = args): Promise<WorkflowConnection> {
  const viewer = requireViewer(ctx.viewer);
  const first = pageSize(args.first);
  const after = args.after ? decodeCursor('workflows', args.after) : null;
  const { filters, params } = workflowWhere(viewer, criteria);
  const count = mayRead(ctx.operation.selected, 'WorkflowConnection', 'totalCount');
  const page = await keysetPage(ctx.read, { table: 'workflows', timeColumn: 'created_at', filters, params, first, after, count });
  const workflows = page.rows.map(workflowFromRow);
  for (const workflow of workflows) ctx.loaders.workflowById.prime(workflow.id, workflow);
  return connectionOf('workflows', workflows, (workflow) => workflow.createdAt, page, after);
}

export async function createWorkflow(ctx: Context, input: CreateWorkflowInput): Promise<Workflow> {
  const viewer = requireWriter(ctx.viewer);
  const valid = validateWorkflow(input);
  return mutate(ctx, (tx, record) => insertWorkflow(tx, viewer.id, valid, {}, record));
}

/** Where a workflow came from, when not from an inline `createWorkflow`. */
export interface WorkflowOrigin {
  templateId?: string;
  templateVersion?: number;
  scheduleId?: string;
  scheduledFor?: Date;
}

/**
 * Inserts a DRAFT workflow and its tasks from a validated graph (`createWorkflow`, and the
 * templates room's runs), recording its CREATED event.
 */
export async function insertWorkflow(tx: EntityManager, ownerId: string, valid: ValidWorkflow, origin: WorkflowOrigin, record: RecordEvent): Promise<Workflow> {
  // Ids are made here so dependencies can name tasks before they are inserted.
  const workflow = tx.create(Workflow, {
    id: randomUUID(),
    ownerId,
    name: valid.name,
    description: valid.description,
    status: WorkflowStatus.DRAFT,
    templateId: origin.templateId ?? null,
    templateVersion: origin.templateVersion ?? null,
    scheduleId: origin.scheduleId ?? null,
    scheduledFor: origin.scheduledFor ?? null,
  });
  const tasks = valid.tasks.map((t, position) =>
    tx.create(Task, {
      id: randomUUID(), workflowId: workflow.id, name: t.name, position,
      status: TaskStatus.PENDING, queue: t.queue, maxAttempts: t.maxAttempts,
      priority: t.priority, timeoutSeconds: t.timeoutSeconds, heartbeatTimeoutSeconds: t.heartbeatTimeoutSeconds, retry: t.retry,
    }),
  );
  const idByName = new Map(tasks.map((t) => [t.name, t.id]));
  const dependencies = valid.tasks.flatMap((t) =>
    t.dependsOn.map((name) => tx.create(TaskDependency, { taskId: idByName.get(t.name)!, dependsOnId: idByName.get(name)! })),
  );
  // Without declared relations the ORM cannot order inserts for the foreign keys: flush in steps.
  await tx.persistAndFlush(workflow);
  if (tasks.length) await tx.persistAndFlush(tasks);
  if (dependencies.length) await tx.persistAndFlush(dependencies);
  record(workflowEvent(WorkflowEventKind.CREATED, workflow));
  return workflow;
}

/** A delayed start is at most this far ahead. */
export const MAX_START_DELAY_DAYS = 366;

/**
 * Starts a DRAFT workflow now, or with `at` at that time: it stays DRAFT with `scheduledFor` set
 * (and can be cancelled or started early meanwhile) until a replica's delayed-start look
 * (delayed-start.ts) starts it. Stored, so a restart loses nothing.
 */
export async function startWorkflow(ctx: Context, id: string, at?: Date | null): Promise<Workflow> {
  const viewer = requireWriter(ctx.viewer);
  if (at) {
    if (at.getTime() <= Date.now()) throw badInput('at must be in the future (leave it out to start now)', { field: 'at' });
    if (at.getTime() > Date.now() + MAX_START_DELAY_DAYS * 86_400_000) throw badInput(`at must be within ${MAX_START_DELAY_DAYS} days`, { field: 'at' });
  }
  return mutate(ctx, async (tx, record) => {
    const workflow = await lockWorkflow(tx, viewer, id);
    if (!at) return lifecycle.startWorkflow(tx, workflow, record);
    if (workflow.status !== WorkflowStatus.DRAFT) throw conflict(`Cannot start a workflow that is ${workflow.status}`);
    const [row] = await tx.execute('update workflows set scheduled_for = ?, updated_at = now() where id = ? returning *', [at, workflow.id]);
    const delayed = workflowFromRow(row);
    record(workflowEvent(WorkflowEventKind.UPDATED, delayed));
    return delayed;
  });
}

export async function cancelWorkflow(ctx: Context, id: string): Promise<Workflow> {
  const viewer = requireWriter(ctx.viewer);
  return mutate(ctx, async (tx, record) => {
    const workflow = await lockWorkflow(tx, viewer, id);
    return lifecycle.cancelWorkflow(tx, workflow, record);
  });
}

export async function deleteWorkflow(ctx: Context, id: string): Promise<void> {
  const viewer = requireWriter(ctx.viewer);
  await mutate(ctx, async (tx, record) => {
    const workflow = await lockWorkflow(tx, viewer, id);
    await removeWorkflow(tx, workflow, record);
  });
}

/** Deletes a locked workflow (its tasks go with it), recording its DELETED event with the queues whose backlog it leaves. */
export async function removeWorkflow(tx: EntityManager, workflow: Workflow, record: RecordEvent): Promise<void> {
  const [{ queues }] = await tx.execute(
    `select coalesce(array_agg(distinct queue), '{}') as queues from tasks where workflow_id = ? and status in ('READY', 'RUNNING')`,
    [workflow.id],
  );
  await tx.execute('delete from workflows where id = ?', [workflow.id]);
  record(workflowDeleted(workflow, queues));
}

/** A workflow the viewer may see, or NOT_FOUND. */
export async function visibleWorkflow(ctx: Context, id: string): Promise<Workflow> {
  requireViewer(ctx.viewer);
  const workflow = await ctx.loaders.workflowById.load(id);
  if (!workflow) throw notFound('Workflow');
  return workflow;
}

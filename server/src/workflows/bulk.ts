/**
 * Bulk actions by filter (bulkWorkflows): cancel, retry or delete every workflow a filter
 * matches that the viewer may change. A dry run only counts. A real run changes at most
 * BULK_MAX_PER_CALL workflows, oldest first, in transactions of BULK_BATCH: each workflow is
 * locked, checked again and changed through the same lifecycle as its single mutation, with its
 * events and an audit entry of its own (`bulkWorkflows.<ACTION>`, targeting it) in that batch's
 * transaction. A batch that fails rolls back alone and the call answers the error; the batches
 * before it stay done. Calling again with the same filter carries on: what was changed no longer
 * matches (cancelled is not cancellable, retried is not FAILED, deleted is gone).
 */
import type { Context } from '../app/context.js';
import { auditChange } from '../audit/recorder.js';
import { badInput } from '../core/errors.js';
import { idOf, toGlobalId, type NodeType } from '../core/ids.js';
import { requireWriter } from '../core/viewer.js';
import type { EntityManager } from '../db/orm.js';
import { uuidArray } from '../db/sql.js';
import { mutate, type RecordEvent } from '../live/mutate.js';
import { lockWorkflowRow } from './access.js';
import { WorkflowStatus, type Workflow } from './entity.js';
import { BulkAction, type BulkResult, type WorkflowFilter } from './inputs.js';
import * as lifecycle from './lifecycle.js';
import { removeWorkflow, workflowWhere, type WorkflowCriteria } from './service.js';
import { taskFromRow } from './task-loaders.js';

/**
 * Workflows one call changes at most: each may hold 1,000 tasks, so a call stays a bounded
 * amount of work (about a million task rows at worst) and one request cannot hold a replica
 * for long; a larger match takes several calls.
 */
export const BULK_MAX_PER_CALL = 1_000;
/** Workflows per transaction: bounded locks and rows per commit, and what a failure rolls back. */
export const BULK_BATCH = 100;

/** The statuses each action applies to. */
const APPLIES_TO: Record<BulkAction, readonly WorkflowStatus[] | null> = {
  [BulkAction.CANCEL]: [WorkflowStatus.DRAFT, WorkflowStatus.PENDING, WorkflowStatus.RUNNING],
  [BulkAction.RETRY_FAILED]: [WorkflowStatus.FAILED],
  [BulkAction.DELETE]: null,
};

/** The database id of a filter's global id, or BAD_USER_INPUT naming the filter field. */
function filterId(type: NodeType, globalId: string | null | undefined, name: string): string | null {
  if (!globalId) return null;
  try {
    return idOf(type, globalId);
  } catch (error) {
    throw badInput((error as Error).message, { field: `filter.${name}` });
  }
}

function criteriaOf(filter: WorkflowFilter): WorkflowCriteria {
  if (filter.createdAfter && filter.createdBefore && filter.createdAfter.getTime() >= filter.createdBefore.getTime()) {
    throw badInput('filter.createdBefore must be after filter.createdAfter', { field: 'filter.createdBefore' });
  }
  return {
    status: filter.status,
    search: filter.search,
    ownerId: filterId('User', filter.ownerId, 'ownerId'),
    templateId: filterId('WorkflowTemplate', filter.templateId, 'templateId'),
    scheduleId: filterId('Schedule', filter.scheduleId, 'scheduleId'),
    createdAfter: filter.createdAfter,
    createdBefore: filter.createdBefore,
  };
}

/** Applies the action to one locked workflow; false when it no longer applies (it changed since it matched). */
async function apply(tx: EntityManager, action: BulkAction, workflow: Workflow, record: RecordEvent): Promise<boolean> {
  const applies = APPLIES_TO[action];
  if (applies && !applies.includes(workflow.status)) return false;
  if (action === BulkAction.CANCEL) await lifecycle.cancelWorkflow(tx, workflow, record);
  else if (action === BulkAction.DELETE) await removeWorkflow(tx, workflow, record);
  else {
    const failed = await tx.execute(`select * from tasks where workflow_id = ? and status = 'FAILED' order by position for update`, [workflow.id]);
    if (!failed.length) return false;
    let current = workflow;
    for (const row of failed) {
      await lifecycle.retryTask(tx, current, taskFromRow(row), record);
      // The first retry reopens the workflow: the next one sees it as it now is.
      current = (await lockWorkflowRow(tx, workflow.id))!;
    }
  }
  return true;
}

/**
 * `limit` (1 to BULK_MAX_PER_CALL, default that) bounds this call's changes: the dashboard asks
 * one batch at a time, so it shows progress after each and can stop between them.
 */
export async function bulkWorkflows(ctx: Context, filter: WorkflowFilter, action: BulkAction, dryRun: boolean, limit?: number | null): Promise<BulkResult> {
  const viewer = requireWriter(ctx.viewer);
  const most = limit ?? BULK_MAX_PER_CALL;
  if (!Number.isInteger(most) || most < 1 || most > BULK_MAX_PER_CALL) throw badInput(`limit must be 1 to ${BULK_MAX_PER_CALL}`, { field: 'limit' });
  const { filters, params } = workflowWhere(viewer, criteriaOf(filter));
  const applies = APPLIES_TO[action];
  if (applies) {
    filters.push('status = any(?::text[])');
    params.push(`{${applies.join(',')}}`);
  }
  const where = filters.length ? `where ${filters.join(' and ')}` : '';
  const [{ matched }] = await ctx.em.execute(`select count(*)::int as matched from workflows ${where}`, params);
  if (dryRun) return { matched, changed: 0, dryRun: true };
  if (matched === 0) throw badInput(`The filter matches no workflow ${action} applies to`, { field: 'filter' });

  const ids: string[] = (await ctx.em.execute(`select id from workflows ${where} order by created_at, id limit ?`, [...params, most])).map((r) => r.id);
  let changed = 0;
  for (let start = 0; start < ids.length; start += BULK_BATCH) {
    const batch = ids.slice(start, start + BULK_BATCH).sort();
    changed += await mutate(ctx, async (tx, record) => {
      let done = 0;
      // Locked in id order, so two bulk calls over the same workflows cannot deadlock; checked again under the lock.
      const rows = await tx.execute(`select id from workflows where id = any(?::uuid[]) order by id for update`, [uuidArray(batch)]);
      for (const { id } of rows) {
        const workflow = (await lockWorkflowRow(tx, id))!;
        if (!(await apply(tx, action, workflow, record))) continue;
        await auditChange(tx, ctx, `bulkWorkflows.${action}`, toGlobalId('Workflow', id), { action, filter });
        done++;
      }
      return done;
    });
  }
  return { matched, changed, dryRun: false };
}

/**
 * One run of a schedule, in the caller's transaction (the firing loop, triggerSchedule,
 * backfillSchedule), after its overlap policy: SKIP leaves the slot without a run while an
 * earlier run is unfinished, CANCEL_PREVIOUS cancels the unfinished ones first, ALLOW runs anyway.
 * The run is the schedule's template version (or the latest), owned by the schedule's owner.
 */
import type { EntityManager } from '../db/orm.js';
import type { RecordEvent } from '../live/mutate.js';
import type { Workflow } from '../workflows/entity.js';
import * as lifecycle from '../workflows/lifecycle.js';
import { workflowFromRow } from '../workflows/loaders.js';
import { lockTemplateRow } from '../templates/rows.js';
import { runVersion, templateVersion } from '../templates/service.js';
import * as rows from './rows.js';
import { OverlapPolicy, type Schedule } from './types.js';

export type RunOutcome = { outcome: 'STARTED'; workflow: Workflow } | { outcome: 'SKIPPED'; workflow: null };

export async function runSchedule(tx: EntityManager, schedule: Schedule, scheduledFor: Date, policy: OverlapPolicy, record: RecordEvent): Promise<RunOutcome> {
  if (policy !== OverlapPolicy.ALLOW) {
    const unfinished = await tx.execute(
      `select * from workflows where schedule_id = ? and status in ('DRAFT', 'PENDING', 'RUNNING') order by created_at for update`,
      [schedule.id],
    );
    if (unfinished.length && policy === OverlapPolicy.SKIP) return { outcome: 'SKIPPED', workflow: null };
    for (const row of unfinished) await lifecycle.cancelWorkflow(tx, workflowFromRow(row), record);
  }
  const template = await lockTemplateRow(tx, schedule.templateId, 'share');
  const version = await templateVersion(tx, template!, schedule.templateVersion, 'templateVersion');
  const workflow = await runVersion(tx, schedule.ownerId, version, { scheduleId: schedule.id, scheduledFor }, null, record);
  return { outcome: 'STARTED', workflow };
}

/** Records what the claimed slot did. */
export function settleSlot(tx: EntityManager, scheduleId: string, scheduledFor: Date, run: RunOutcome): Promise<void> {
  return rows.settleSlot(tx, scheduleId, scheduledFor, run.outcome, run.workflow?.id ?? null);
}

/**
 * Per-request batch loaders for schedules, seen as workflows are (workflows/visibility.ts):
 * ADMIN and VIEWER all, a MEMBER only its own; a hidden one loads as null.
 */
import DataLoader from 'dataloader';
import type { Viewer } from '../core/viewer.js';
import type { Queryable } from '../db/read-routing.js';
import { asInstance, indexBy, toDate, uuidArray } from '../db/sql.js';
import { workflowScope } from '../workflows/visibility.js';
import { newestPerParent } from '../db/newest-per-parent.js';
import { Schedule, ScheduleRun, type OverlapPolicy, type ScheduleRunOutcome } from './types.js';

export function scheduleFromRow(row: Record<string, any>): Schedule {
  return asInstance(Schedule, {
    id: row.id, ownerId: row.owner_id, templateId: row.template_id, templateVersion: row.template_version, cron: row.cron, timezone: row.timezone,
    overlapPolicy: row.overlap_policy as OverlapPolicy, catchupWindowSeconds: row.catchup_window_seconds, paused: row.paused,
    nextRunAt: toDate(row.next_run_at), lastRunAt: toDate(row.last_run_at), createdAt: toDate(row.created_at), updatedAt: toDate(row.updated_at),
  });
}

export function scheduleRunFromRow(row: Record<string, any>): ScheduleRun {
  return asInstance(ScheduleRun, {
    scheduleId: row.schedule_id, scheduledFor: toDate(row.scheduled_for), outcome: row.outcome as ScheduleRunOutcome,
    error: row.error, workflowId: row.workflow_id, createdAt: toDate(row.created_at),
  });
}

export function createScheduleLoaders(db: Queryable, viewer: Viewer | null) {
  const scope = viewer ? workflowScope(viewer) : null;
  return {
    scheduleById: new DataLoader<string, Schedule | null>(async (ids) => {
      const rows = await db.execute(
        `select * from schedules where id = any(?::uuid[]) ${scope ? 'and owner_id = ?' : ''}`,
        scope ? [uuidArray(ids), scope] : [uuidArray(ids)],
      );
      return indexBy(ids, rows.map(scheduleFromRow), (s) => s.id);
    }),

    /** A schedule's newest `first` slots, newest first; the caller has checked visibility. */
    runsBySchedule: newestPerParent(db, { table: 'schedule_runs', parentColumn: 'schedule_id', orderBy: 'scheduled_for desc', fromRow: scheduleRunFromRow }),
  };
}

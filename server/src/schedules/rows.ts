/** Data access for schedules and their slots (ARCHITECTURE.md, "Data access"): their SQL and row mappers. */
import { newestPerParent } from '../db/newest-per-parent.js';
import { ownedByIds, ownedPage } from '../db/owned.js';
import type { CursorPosition } from '../db/pagination.js';
import type { Queryable } from '../db/read-routing.js';
import { newestChildren } from '../http/export.js';
import { asInstance, toDate } from '../db/sql.js';
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

/** What a schedule stores besides its owner and times. */
export interface ScheduleFields {
  templateId: string;
  templateVersion: number | null;
  cron: string;
  timezone: string;
  overlapPolicy: OverlapPolicy;
  catchupWindowSeconds: number;
  paused: boolean;
}

/** `scope`: only this owner's (a MEMBER's view), null for all. */
export const schedulesPage = (db: Queryable, scope: string | null, window: { first: number; after: CursorPosition | null; count: boolean }) =>
  ownedPage(db, 'schedules', scope, window, scheduleFromRow);

export const schedulesByIds = (db: Queryable, ids: readonly string[], scope: string | null): Promise<(Schedule | null)[]> => ownedByIds(db, 'schedules', ids, scope, scheduleFromRow);

/** A DataLoader of a schedule's newest `first` slots, newest first. */
export const newestRuns = (db: Queryable) =>
  newestPerParent(db, { table: 'schedule_runs', parentColumn: 'schedule_id', orderBy: 'scheduled_for desc', fromRow: scheduleRunFromRow });

export async function schedulesOfTemplate(db: Queryable, templateId: string): Promise<number> {
  const [{ schedules }] = await db.execute('select count(*)::int as schedules from schedules where template_id = ?', [templateId]);
  return schedules;
}

export async function insertSchedule(tx: Queryable, ownerId: string, fields: ScheduleFields, nextRunAt: Date | null): Promise<Schedule> {
  const [row] = await tx.execute(
    `insert into schedules (owner_id, template_id, template_version, cron, timezone, overlap_policy, catchup_window_seconds, paused, next_run_at)
     values (?, ?, ?, ?, ?, ?, ?, ?, ?) returning *`,
    [ownerId, fields.templateId, fields.templateVersion, fields.cron, fields.timezone, fields.overlapPolicy, fields.catchupWindowSeconds, fields.paused, nextRunAt],
  );
  return scheduleFromRow(row);
}

export async function lockScheduleRow(tx: Queryable, id: string): Promise<Schedule | null> {
  const [row] = await tx.execute('select * from schedules where id = ? for update', [id]);
  return row ? scheduleFromRow(row) : null;
}

export async function updateScheduleRow(tx: Queryable, id: string, fields: ScheduleFields, nextRunAt: Date | null): Promise<Schedule> {
  const [row] = await tx.execute(
    `update schedules set template_id = ?, template_version = ?, cron = ?, timezone = ?, overlap_policy = ?, catchup_window_seconds = ?,
            paused = ?, next_run_at = ?, updated_at = now() where id = ? returning *`,
    [fields.templateId, fields.templateVersion, fields.cron, fields.timezone, fields.overlapPolicy, fields.catchupWindowSeconds, fields.paused, nextRunAt, id],
  );
  return scheduleFromRow(row);
}

export async function setPausedRow(tx: Queryable, id: string, paused: boolean, nextRunAt: Date | null): Promise<Schedule> {
  const [row] = await tx.execute('update schedules set paused = ?, next_run_at = ?, updated_at = now() where id = ? returning *', [paused, nextRunAt, id]);
  return scheduleFromRow(row);
}

export async function deleteScheduleRow(tx: Queryable, id: string): Promise<void> {
  await tx.execute('delete from schedules where id = ?', [id]);
}

/** The first due schedule (unpaused, next_run_at <= now) no other transaction holds, locked; or, with `id`, that one if due. */
export async function lockDueSchedule(tx: Queryable, now: Date, id?: string): Promise<Schedule | null> {
  const [row] = id
    ? await tx.execute('select * from schedules where id = ? and not paused and next_run_at <= ? for update skip locked', [id, now])
    : await tx.execute('select * from schedules where not paused and next_run_at <= ? order by next_run_at limit 1 for update skip locked', [now]);
  return row ? scheduleFromRow(row) : null;
}

/** Moves `next_run_at` on; `lastRun` (when not null) becomes `last_run_at`. */
export async function advanceSchedule(tx: Queryable, id: string, next: Date | null, lastRun: Date | null): Promise<void> {
  await tx.execute('update schedules set next_run_at = ?, last_run_at = coalesce(?, last_run_at) where id = ?', [next, lastRun, id]);
}

/** Claims a slot (the unique row per schedule and slot); false when it already ran. */
export async function claimSlot(tx: Queryable, scheduleId: string, scheduledFor: Date): Promise<boolean> {
  const claimed = await tx.execute(
    `insert into schedule_runs (schedule_id, scheduled_for, outcome) values (?, ?, 'STARTED') on conflict do nothing returning 1`,
    [scheduleId, scheduledFor],
  );
  return claimed.length > 0;
}

/** Records what the claimed slot did. */
export async function settleSlot(tx: Queryable, scheduleId: string, scheduledFor: Date, outcome: `${ScheduleRunOutcome}`, workflowId: string | null): Promise<void> {
  await tx.execute('update schedule_runs set outcome = ?, workflow_id = ? where schedule_id = ? and scheduled_for = ?', [outcome, workflowId, scheduleId, scheduledFor]);
}

/** Records a slot that failed to run, unless it has a row already. */
export async function insertFailedSlot(tx: Queryable, scheduleId: string, scheduledFor: Date, error: string): Promise<void> {
  await tx.execute(`insert into schedule_runs (schedule_id, scheduled_for, outcome, error) values (?, ?, 'FAILED', ?) on conflict do nothing`, [scheduleId, scheduledFor, error]);
}

/** Every slot of the schedule, newest first, `size` at a time (the exports). */
export const runPages = (db: Queryable, scheduleId: string, size: number): AsyncIterable<ScheduleRun[]> =>
  newestChildren(db, { table: 'schedule_runs', parentColumn: 'schedule_id', key: 'scheduled_for', keyOf: (run) => run.scheduledFor, fromRow: scheduleRunFromRow }, scheduleId, size);

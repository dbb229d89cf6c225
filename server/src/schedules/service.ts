/**
 * Schedules: creating, changing, pausing, resuming, deleting, running now and backfilling.
 * Seen and changed as workflows are: ADMIN any, a MEMBER its own, a VIEWER reads all and
 * changes none. Each change is one `mutate` (so it is audited); runs publish their workflows'
 * events. The firing of due slots is firing.ts.
 */
import type { Context } from '../app/context.js';
import { badInput, conflict, notFound } from '../core/errors.js';
import { idOf } from '../core/ids.js';
import { mayChange, requireViewer, requireWriter, type Viewer } from '../core/viewer.js';
import type { EntityManager } from '../db/orm.js';
import { connectionOf, decodeCursor, pageSize } from '../db/pagination.js';
import { mayRead } from '../graphql/selection.js';
import { mutate } from '../live/mutate.js';
import { lockTemplate, templateVersion } from '../templates/service.js';
import type { Workflow } from '../workflows/entity.js';
import { workflowScope } from '../workflows/visibility.js';
import { nextSlot, slotsBetween, validCron, validTimezone, type CronSpec } from './cron.js';
import * as rows from './rows.js';
import { runSchedule, settleSlot } from './runs.js';
import {
  DEFAULT_CATCHUP_WINDOW_SECONDS, MAX_BACKFILL_RUNS, MAX_CATCHUP_WINDOW_SECONDS, OverlapPolicy,
  type Schedule, type ScheduleConnection, type ScheduleInput, type SchedulesArgs,
} from './types.js';

/** The schedule's expression as cron.ts reads it. */
export function specOf(schedule: Pick<Schedule, 'cron' | 'timezone'>, ctx: { app: { config: { scheduleSeconds: boolean } } }): CronSpec {
  return { cron: schedule.cron, timezone: schedule.timezone, seconds: ctx.app.config.scheduleSeconds };
}

export async function listSchedules(ctx: Context, args: SchedulesArgs): Promise<ScheduleConnection> {
  const viewer = requireViewer(ctx.viewer);
  const first = pageSize(args.first);
  const after = args.after ? decodeCursor('schedules', args.after) : null;
  const scope = workflowScope(viewer);
  const count = mayRead(ctx.operation.selected, 'ScheduleConnection', 'totalCount');
  const page = await rows.schedulesPage(ctx.read, scope, { first, after, count });
  const schedules = page.rows;
  for (const schedule of schedules) ctx.loaders.scheduleById.prime(schedule.id, schedule);
  return connectionOf('schedules', schedules, (schedule) => schedule.createdAt, page, after);
}

type ValidSchedule = rows.ScheduleFields;

/** The input checked, in the transaction that will store it (the template locked, its version known). */
async function validSchedule(ctx: Context, tx: EntityManager, viewer: Viewer, input: ScheduleInput): Promise<ValidSchedule> {
  const timezone = validTimezone(input.timezone ?? 'UTC', 'input.timezone');
  const cron = validCron(input.cron, timezone, ctx.app.config.scheduleSeconds, 'input.cron');
  const window = input.catchupWindowSeconds ?? DEFAULT_CATCHUP_WINDOW_SECONDS;
  if (!Number.isInteger(window) || window < 0 || window > MAX_CATCHUP_WINDOW_SECONDS) {
    throw badInput(`input.catchupWindowSeconds must be 0 to ${MAX_CATCHUP_WINDOW_SECONDS}`, { field: 'input.catchupWindowSeconds' });
  }
  const template = await lockTemplate(tx, viewer, idOf('WorkflowTemplate', input.templateId));
  if (input.templateVersion != null) await templateVersion(tx, template, input.templateVersion, 'input.templateVersion');
  return {
    templateId: template.id, templateVersion: input.templateVersion ?? null, cron, timezone,
    overlapPolicy: input.overlapPolicy ?? OverlapPolicy.SKIP, catchupWindowSeconds: window, paused: input.paused ?? false,
  };
}

/** The next slot from now, or null while paused. */
function nextRunAt(ctx: Context, valid: Pick<ValidSchedule, 'cron' | 'timezone' | 'paused'>): Date | null {
  return valid.paused ? null : nextSlot(specOf(valid, ctx), new Date());
}

export async function createSchedule(ctx: Context, input: ScheduleInput): Promise<Schedule> {
  const viewer = requireWriter(ctx.viewer);
  return mutate(ctx, async (tx) => {
    const valid = await validSchedule(ctx, tx, viewer, input);
    return rows.insertSchedule(tx, viewer.id, valid, nextRunAt(ctx, valid));
  });
}

/** Locks a schedule the viewer may change (ADMIN any, a MEMBER its own), or NOT_FOUND as if it did not exist. */
async function lockSchedule(tx: EntityManager, viewer: Viewer, id: string): Promise<Schedule> {
  const schedule = await rows.lockScheduleRow(tx, id);
  if (!schedule || !mayChange(viewer, schedule.ownerId)) throw notFound('Schedule');
  return schedule;
}

/** Replaces everything the input names; the next slot is counted from now (slots that already ran never run again). */
export async function updateSchedule(ctx: Context, id: string, input: ScheduleInput): Promise<Schedule> {
  const viewer = requireWriter(ctx.viewer);
  return mutate(ctx, async (tx) => {
    const current = await lockSchedule(tx, viewer, id);
    const valid = await validSchedule(ctx, tx, viewer, { ...input, paused: input.paused ?? current.paused });
    return rows.updateScheduleRow(tx, id, valid, nextRunAt(ctx, valid));
  });
}

/** Pauses or resumes; resuming counts the next slot from now, so slots missed while paused never run (backfill them). */
export async function setPaused(ctx: Context, id: string, paused: boolean): Promise<Schedule> {
  const viewer = requireWriter(ctx.viewer);
  return mutate(ctx, async (tx) => {
    const current = await lockSchedule(tx, viewer, id);
    if (current.paused === paused) return current;
    return rows.setPausedRow(tx, id, paused, nextRunAt(ctx, { ...current, paused }));
  });
}

/** Deletes the schedule; its runs stay as workflows (their `schedule` reads null). */
export async function deleteSchedule(ctx: Context, id: string): Promise<void> {
  const viewer = requireWriter(ctx.viewer);
  await mutate(ctx, async (tx) => {
    await lockSchedule(tx, viewer, id);
    await rows.deleteScheduleRow(tx, id);
  });
}

/** Runs the schedule now, paused or not, after its overlap policy: SKIP with a run unfinished is CONFLICT. */
export async function triggerSchedule(ctx: Context, id: string): Promise<Workflow> {
  const viewer = requireWriter(ctx.viewer);
  return mutate(ctx, async (tx, record) => {
    const schedule = await lockSchedule(tx, viewer, id);
    const run = await runSchedule(tx, schedule, new Date(), schedule.overlapPolicy, record);
    if (!run.workflow) throw conflict('A run of this schedule is still unfinished and its overlapPolicy is SKIP');
    return run.workflow;
  });
}

/**
 * One run for each slot in [from, to] that has not run yet (ALLOW: backfilled runs do not wait
 * for each other), at most MAX_BACKFILL_RUNS slots, in one transaction: all or none. Returns
 * how many runs it created.
 */
export async function backfillSchedule(ctx: Context, id: string, from: Date, to: Date): Promise<number> {
  const viewer = requireWriter(ctx.viewer);
  if (!(to.getTime() > from.getTime())) throw badInput('to must be after from', { field: 'to' });
  if (to.getTime() > Date.now()) throw badInput('to must not be in the future: backfill runs slots that have passed', { field: 'to' });
  return mutate(ctx, async (tx, record) => {
    const schedule = await lockSchedule(tx, viewer, id);
    const slots = slotsBetween(specOf(schedule, ctx), from, to, MAX_BACKFILL_RUNS);
    if (slots.length > MAX_BACKFILL_RUNS) {
      throw badInput(`The range holds more than ${MAX_BACKFILL_RUNS} slots; backfill at most ${MAX_BACKFILL_RUNS} per call`, { field: 'to', maxRuns: MAX_BACKFILL_RUNS });
    }
    let created = 0;
    for (const slot of slots) {
      if (!(await rows.claimSlot(tx, schedule.id, slot))) continue;
      const run = await runSchedule(tx, schedule, slot, OverlapPolicy.ALLOW, record);
      await settleSlot(tx, schedule.id, slot, run);
      created++;
    }
    return created;
  });
}

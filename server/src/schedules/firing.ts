/**
 * Firing due slots. Every replica looks every SCHEDULER_INTERVAL_MS; there is no leader to lose.
 * Each due schedule is taken with `FOR UPDATE SKIP LOCKED` (two replicas never work on one at
 * once) and fired in one transaction that claims the slot's unique schedule_runs row, creates
 * and starts the run, and moves `next_run_at` on. A replica that dies mid-way rolls all of it
 * back, so another replica fires the slot; a slot whose row exists never fires again, whichever
 * replica or clock asks. Slots missed while every replica was down collapse into one run of the
 * newest of them, when it is within the schedule's catch-up window, else none.
 */
import type { AppServices } from '../app/context.js';
import { repeat } from '../core/repeat.js';
import type { EntityManager } from '../db/orm.js';
import { mutate } from '../live/mutate.js';
import { lastSlotAtOrBefore, nextSlot } from './cron.js';
import * as rows from './rows.js';
import { runSchedule, settleSlot } from './runs.js';
import type { Schedule } from './types.js';

/** Schedules fired per look at most; more due ones are taken at once by the next look. */
const BATCH = 500;

type FiringServices = Pick<AppServices, 'orm' | 'bus' | 'config' | 'logger'>;

/** The slot to fire now (the newest due one) and the next after it. */
function slotsOf(app: FiringServices, schedule: Schedule, now: Date): { slot: Date; next: Date | null } {
  const spec = { cron: schedule.cron, timezone: schedule.timezone, seconds: app.config.scheduleSeconds };
  const newest = lastSlotAtOrBefore(spec, now);
  const slot = newest && newest.getTime() >= schedule.nextRunAt!.getTime() ? newest : schedule.nextRunAt!;
  return { slot, next: nextSlot(spec, now.getTime() > slot.getTime() ? now : slot) };
}

type Fired = 'none' | 'fired' | 'skipped' | 'missed' | 'already';

/** Fires the first due schedule nobody else is firing ('none' when there is none); `picked` learns which it took. */
async function fireOne(app: FiringServices, em: EntityManager, now: Date, picked: { id?: string }): Promise<Fired> {
  return mutate({ em: em.fork() as EntityManager, app }, async (tx, record) => {
    const schedule = await rows.lockDueSchedule(tx, now);
    if (!schedule) return 'none';
    picked.id = schedule.id;
    const { slot, next } = slotsOf(app, schedule, now);
    const advance = (lastRun: Date | null) => rows.advanceSchedule(tx, schedule.id, next, lastRun);
    if (now.getTime() - slot.getTime() > schedule.catchupWindowSeconds * 1000) {
      await advance(null);
      return 'missed';
    }
    if (!(await rows.claimSlot(tx, schedule.id, slot))) {
      await advance(null);
      return 'already';
    }
    const run = await runSchedule(tx, schedule, slot, schedule.overlapPolicy, record);
    await settleSlot(tx, schedule.id, slot, run);
    await advance(slot);
    return run.workflow ? 'fired' : 'skipped';
  });
}

/**
 * A slot whose run failed (its template version no longer validates, say) is recorded FAILED
 * and passed over, so one broken schedule cannot hold up the others look after look.
 */
async function passOver(app: FiringServices, em: EntityManager, scheduleId: string, now: Date, error: unknown): Promise<void> {
  await mutate({ em: em.fork() as EntityManager, app }, async (tx) => {
    const schedule = await rows.lockDueSchedule(tx, now, scheduleId);
    if (!schedule) return;
    const { slot, next } = slotsOf(app, schedule, now);
    const message = error instanceof Error ? error.message : String(error);
    await rows.insertFailedSlot(tx, schedule.id, slot, message.slice(0, 1000));
    await rows.advanceSchedule(tx, schedule.id, next, slot);
    app.logger.warn({ scheduleId: schedule.id, slot, err: error }, 'a schedule slot failed to run');
  });
}

/** Fires every schedule due at `now` (up to one batch); returns how many slots ran or were skipped. */
export async function fireDueSchedules(app: FiringServices, now = new Date()): Promise<{ fired: number; more: boolean }> {
  const em = app.orm.em.fork() as EntityManager;
  let fired = 0;
  for (let i = 0; i < BATCH; i++) {
    let outcome: Fired;
    const picked: { id?: string } = {};
    try {
      outcome = await fireOne(app, em, now, picked);
    } catch (error) {
      if (isTransient(error) || !picked.id) throw error;
      await passOver(app, em, picked.id, now, error);
      continue;
    }
    if (outcome === 'none') return { fired, more: false };
    if (outcome === 'fired' || outcome === 'skipped') fired++;
  }
  return { fired, more: true };
}

/** Failures of the database itself (the loop retries at its next look), not of one schedule. */
function isTransient(error: unknown): boolean {
  const code = (error as { code?: string } | null)?.code ?? '';
  return /^(08|57|53|40)/.test(code) || /ECONNREFUSED|ECONNRESET|terminat/i.test(String((error as Error)?.message));
}

export function startScheduleFiring(app: AppServices) {
  const job = repeat('schedules', app.config.schedulerIntervalMs, async () => {
    const { fired, more } = await fireDueSchedules(app);
    if (fired) app.logger.debug({ fired }, 'fired schedule slots');
    if (more) job.poke();
  }, app);
  return job;
}

/**
 * Cron expressions in an IANA time zone, through croner (pinned): five fields (minute
 * precision) unless SCHEDULE_SECONDS allows a leading seconds field. Daylight-saving time is
 * croner's (as Vixie cron): a fixed time that falls in a spring-forward gap runs at the first
 * valid time after it, one that occurs twice in a fall-back runs once; interval patterns
 * (`*`/steps in the hour field) run through the repeated hour.
 */
import { Cron } from 'croner';
import { badInput } from '../core/errors.js';

export interface CronSpec {
  cron: string;
  timezone: string;
  seconds: boolean;
}

const MAX_EXPRESSION = 200;
/** Parsed patterns are kept (croner objects cost more to build than to ask), a bounded number. */
const PARSED = new Map<string, Cron>();
const MAX_PARSED = 10_000;

function parsed(spec: CronSpec): Cron {
  const key = `${spec.seconds ? 's' : 'm'}|${spec.timezone}|${spec.cron}`;
  let cron = PARSED.get(key);
  if (!cron) {
    cron = new Cron(spec.cron, { timezone: spec.timezone, mode: spec.seconds ? '5-or-6-parts' : '5-part', paused: true });
    if (PARSED.size >= MAX_PARSED) PARSED.delete(PARSED.keys().next().value!);
    PARSED.set(key, cron);
  }
  return cron;
}

/** An IANA time zone name (as Intl knows them), or BAD_USER_INPUT naming `field`. */
export function validTimezone(value: string, field: string): string {
  const zone = value.trim();
  try {
    if (!zone || zone.length > 100) throw new RangeError('empty');
    // Intl refuses unknown zones; its resolved name is the canonical spelling (europe/berlin → Europe/Berlin).
    return new Intl.DateTimeFormat('en-US', { timeZone: zone }).resolvedOptions().timeZone;
  } catch {
    throw badInput(`${field} must be an IANA time zone such as Europe/Berlin or UTC`, { field });
  }
}

/** A cron expression croner accepts and that fires at least once more, or BAD_USER_INPUT naming `field`. */
export function validCron(value: string, timezone: string, seconds: boolean, field: string): string {
  const cron = value.trim().replace(/\s+/g, ' ');
  const fields = seconds ? 'five fields (minute hour day-of-month month day-of-week), or six with a leading seconds field,' : 'five fields (minute hour day-of-month month day-of-week)';
  if (!cron || cron.length > MAX_EXPRESSION) throw badInput(`${field} must be ${fields} of up to ${MAX_EXPRESSION} characters`, { field });
  let next: Date | null;
  try {
    next = parsed({ cron, timezone, seconds }).nextRun();
  } catch (error) {
    const reason = error instanceof Error ? error.message.replace(/^CronPattern: /, '') : 'invalid';
    throw badInput(`${field} is not a valid cron expression (${fields}): ${reason.slice(0, 200)}`, { field });
  }
  if (!next) throw badInput(`${field} never fires`, { field });
  return cron;
}

/** The first slot strictly after `after`, or null when there is none. */
export function nextSlot(spec: CronSpec, after: Date): Date | null {
  return parsed(spec).nextRun(after);
}

/** The last slot at or before `at`, or null. */
export function lastSlotAtOrBefore(spec: CronSpec, at: Date): Date | null {
  // croner counts a run earlier in the reference's second as before it: ask a second later, keep what is not after `at`.
  const runs = parsed(spec).previousRuns(2, new Date(at.getTime() + 1000));
  return runs.find((run) => run.getTime() <= at.getTime()) ?? null;
}

/** The next `count` slots strictly after `after`. */
export function upcomingSlots(spec: CronSpec, after: Date, count: number): Date[] {
  return parsed(spec).nextRuns(count, after);
}

/** The slots in [from, to], oldest first; at most `max` + 1 (so a caller can tell "more than max"). */
export function slotsBetween(spec: CronSpec, from: Date, to: Date, max: number): Date[] {
  const slots: Date[] = [];
  let slot = nextSlot(spec, new Date(from.getTime() - 1));
  while (slot && slot.getTime() <= to.getTime() && slots.length <= max) {
    slots.push(slot);
    slot = nextSlot(spec, slot);
  }
  return slots;
}

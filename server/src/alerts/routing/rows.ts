/** Rows of routes, silences, maintenance windows and inhibition rules as the API shows them. */
import { Cron } from 'croner';
import type { Queryable } from '../../db/read-routing.js';
import { toDate } from '../../db/sql.js';
import { matchersFromRow } from './matchers.js';
import { InhibitionRule, MaintenanceWindow, NotificationRoute, Silence } from './types.js';

export function routeFromRow(row: Record<string, any>): NotificationRoute {
  return Object.assign(new NotificationRoute(), {
    id: row.id,
    position: row.position,
    matchers: matchersFromRow(row.matchers),
    contactPointIds: row.contact_point_ids ?? [],
    continue: row.continue,
    groupBy: row.group_by ?? [],
    groupWaitSeconds: row.group_wait_seconds,
    groupIntervalSeconds: row.group_interval_seconds,
    repeatIntervalSeconds: row.repeat_interval_seconds,
    escalateAfterSeconds: row.escalate_after_seconds ?? null,
    escalateToIds: row.escalate_to_ids ?? [],
  });
}

export function silenceFromRow(row: Record<string, any>, now = new Date()): Silence {
  const startsAt = toDate(row.starts_at);
  const endsAt = toDate(row.ends_at);
  return Object.assign(new Silence(), {
    id: row.id,
    matchers: matchersFromRow(row.matchers),
    startsAt,
    endsAt,
    comment: row.comment,
    createdById: row.created_by ?? null,
    active: startsAt <= now && now < endsAt,
  });
}

/** The window's schedule; `paused`: croner only computes times, it never runs anything here. */
export function schedule(cron: string, timezone: string): Cron {
  return new Cron(cron, { timezone, paused: true });
}

/** Whether the window opened less than its duration ago. */
export function windowActive(cron: Cron, durationMinutes: number, now: Date): boolean {
  const [last] = cron.previousRuns(1, now);
  return Boolean(last && now.getTime() < last.getTime() + durationMinutes * 60_000);
}

/** The openings that overlap [from, to), oldest first, at most `max`. */
export function windowOpenings(cron: Cron, durationMinutes: number, from: Date, to: Date, max: number): Array<{ startsAt: Date; endsAt: Date }> {
  const durationMs = durationMinutes * 60_000;
  return cron.nextRuns(max, new Date(from.getTime() - durationMs))
    .filter((start) => start < to)
    .map((startsAt) => ({ startsAt, endsAt: new Date(startsAt.getTime() + durationMs) }));
}

export function windowFromRow(row: Record<string, any>, now = new Date()): MaintenanceWindow {
  const cron = schedule(row.cron, row.timezone);
  return Object.assign(new MaintenanceWindow(), {
    id: row.id,
    name: row.name,
    matchers: matchersFromRow(row.matchers),
    cron: row.cron,
    durationMinutes: row.duration_minutes,
    timezone: row.timezone,
    activeNow: windowActive(cron, row.duration_minutes, now),
    nextStartsAt: cron.nextRun(now),
  });
}

export function inhibitionFromRow(row: Record<string, any>): InhibitionRule {
  return Object.assign(new InhibitionRule(), {
    id: row.id,
    source: matchersFromRow(row.source),
    target: matchersFromRow(row.target),
    equal: row.equal ?? [],
  });
}

/** Every maintenance window, oldest first, as it stands at `now`. */
export async function windowsAt(db: Queryable, now: Date): Promise<MaintenanceWindow[]> {
  const rows: Array<Record<string, any>> = await db.execute('select * from maintenance_windows order by created_at, id');
  return rows.map((row) => windowFromRow(row, now));
}

/**
 * Upcoming maintenance on the status page: the alert routing's maintenance windows (recurring
 * mute timings) that are open now or open within `UPCOMING_DAYS`, each once, soonest first.
 * Only a window's name and times leave here for the public: its matchers name labels such as
 * instances and services, which may be internal host names.
 */
import { schedule, windowsAt } from '../alerts/routing/rows.js';
import type { MaintenanceWindow } from '../alerts/routing/types.js';
import type { Queryable } from '../db/read-routing.js';

export const UPCOMING_DAYS = 14;
/** windows a status page lists at most */
export const MAX_PAGE_WINDOWS = 20;

export interface UpcomingWindow {
  window: MaintenanceWindow;
  /** the current opening's start when open now, else the next one's */
  startsAt: Date;
  endsAt: Date;
}

export async function upcomingMaintenance(db: Queryable, now = new Date()): Promise<UpcomingWindow[]> {
  const horizon = now.getTime() + UPCOMING_DAYS * 86_400_000;
  const upcoming: UpcomingWindow[] = [];
  for (const window of await windowsAt(db, now)) {
    const startsAt = window.activeNow ? schedule(window.cron, window.timezone).previousRuns(1, now)[0] : window.nextStartsAt;
    if (!startsAt || startsAt.getTime() > horizon) continue;
    upcoming.push({ window, startsAt, endsAt: new Date(startsAt.getTime() + window.durationMinutes * 60_000) });
  }
  return upcoming.sort((a, b) => a.startsAt.getTime() - b.startsAt.getTime()).slice(0, MAX_PAGE_WINDOWS);
}

/** The window as an anonymous reader of the status page may see it: no matchers. */
export const publicWindow = (window: MaintenanceWindow): MaintenanceWindow => Object.assign(Object.create(Object.getPrototypeOf(window)), window, { matchers: [] });

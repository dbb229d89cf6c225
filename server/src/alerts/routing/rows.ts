/** Rows of routes, silences, maintenance windows and inhibition rules as the API shows them. */
import { Cron } from 'croner';
import type { Queryable } from '../../db/read-routing.js';
import { textArray, toDate, uuidArray } from '../../db/sql.js';
import { matchersFromRow, type MatcherSpec } from './matchers.js';
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

/** What a route stores besides its position. */
export interface RouteFields {
  matchers: MatcherSpec[];
  contactPointIds: string[];
  continue: boolean;
  groupBy: string[];
  groupWaitSeconds: number;
  groupIntervalSeconds: number;
  repeatIntervalSeconds: number;
  escalateAfterSeconds: number | null;
  escalateToIds: string[];
}

const ROUTE_COLUMNS = `matchers = ?::jsonb, contact_point_ids = ?::uuid[], continue = ?, group_by = ?::text[], group_wait_seconds = ?,
  group_interval_seconds = ?, repeat_interval_seconds = ?, escalate_after_seconds = ?, escalate_to_ids = ?::uuid[]`;
const routeValues = (route: RouteFields) => [
  JSON.stringify(route.matchers), uuidArray(route.contactPointIds), route.continue, textArray(route.groupBy), route.groupWaitSeconds,
  route.groupIntervalSeconds, route.repeatIntervalSeconds, route.escalateAfterSeconds, uuidArray(route.escalateToIds),
];

/** The routes in policy order, at most `limit`. */
export async function routesInOrder(db: Queryable, limit: number): Promise<NotificationRoute[]> {
  return (await db.execute('select * from notification_routes order by position limit ?', [limit])).map(routeFromRow);
}

/** Locks the route list against other changes (readers are not blocked) and counts it. */
export async function lockRouteList(tx: Queryable): Promise<number> {
  // Self-conflicting, and readers are not blocked: the evaluator keeps reading routes meanwhile.
  await tx.execute('lock table notification_routes in share row exclusive mode');
  const [{ n }] = await tx.execute('select count(*)::int as n from notification_routes');
  return n;
}

export async function lockRouteRow(tx: Queryable, id: string): Promise<NotificationRoute | null> {
  const [row] = await tx.execute('select * from notification_routes where id = ? for update', [id]);
  return row ? routeFromRow(row) : null;
}

/** Inserts the route at `position`, moving the routes from there down by one. */
export async function insertRouteAt(tx: Queryable, position: number, route: RouteFields): Promise<NotificationRoute> {
  await tx.execute('update notification_routes set position = position + 1 where position >= ?', [position]);
  const [row] = await tx.execute(
    `insert into notification_routes (position, matchers, contact_point_ids, continue, group_by, group_wait_seconds, group_interval_seconds,
       repeat_interval_seconds, escalate_after_seconds, escalate_to_ids)
     values (?, ?::jsonb, ?::uuid[], ?, ?::text[], ?, ?, ?, ?, ?::uuid[]) returning *`,
    [position, ...routeValues(route)],
  );
  return routeFromRow(row);
}

export async function updateRouteRow(tx: Queryable, id: string, route: RouteFields): Promise<NotificationRoute> {
  const [row] = await tx.execute(`update notification_routes set ${ROUTE_COLUMNS}, updated_at = now() where id = ? returning *`, [...routeValues(route), id]);
  return routeFromRow(row);
}

/** Moves the route from `from` to `to`, the ones between shifting by one. */
export async function moveRouteRow(tx: Queryable, id: string, from: number, to: number): Promise<NotificationRoute> {
  if (to < from) await tx.execute('update notification_routes set position = position + 1 where position >= ? and position < ?', [to, from]);
  if (to > from) await tx.execute('update notification_routes set position = position - 1 where position > ? and position <= ?', [from, to]);
  const [row] = await tx.execute('update notification_routes set position = ?, updated_at = now() where id = ? returning *', [to, id]);
  return routeFromRow(row);
}

/** Deletes the route at `from`, the ones after it moving up by one. */
export async function deleteRouteRow(tx: Queryable, id: string, from: number): Promise<void> {
  await tx.execute('delete from notification_routes where id = ?', [id]);
  await tx.execute('update notification_routes set position = position - 1 where position > ?', [from]);
}

/**
 * Notification routes (admin only): an ordered list, tried from position 1. Positions stay
 * 1..n without gaps: creating, moving and deleting shift the others, under a table lock so
 * two admins reordering at once cannot interleave.
 */
import type { Context } from '../../app/context.js';
import { badInput, conflict, notFound } from '../../core/errors.js';
import { idOf } from '../../core/ids.js';
import { requireRole, requireViewer, Role } from '../../core/viewer.js';
import type { EntityManager } from '../../db/orm.js';
import { textArray, uuidArray } from '../../db/sql.js';
import { mutate } from '../../live/mutate.js';
import { validateLabelNames, validateMatchers, type MatcherSpec } from './matchers.js';
import { routeFromRow } from './rows.js';
import type { NotificationRoute, NotificationRouteInput } from './types.js';

export const MAX_ROUTES = 100;
export const ROUTE_DEFAULTS = { groupBy: ['rule', 'service'], groupWaitSeconds: 30, groupIntervalSeconds: 300, repeatIntervalSeconds: 14_400 };
const DAY = 86_400;

interface ValidRoute {
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

/** An integer number of seconds within bounds, or the default when left out. */
export function seconds(field: string, value: number | null | undefined, fallback: number, min: number, max: number): number {
  const chosen = value ?? fallback;
  if (!Number.isInteger(chosen) || chosen < min || chosen > max) throw badInput(`${field} must be ${min} to ${max} seconds`, { field });
  return chosen;
}

function contactPointIdList(field: string, ids: readonly string[]): string[] {
  if (ids.length > 50) throw badInput(`${field} names more than 50 contact points`, { field });
  const parsed = ids.map((id, i) => {
    try {
      return idOf('ContactPoint', id);
    } catch {
      throw badInput(`${field}.${i} is not a contact point id`, { field: `${field}.${i}` });
    }
  });
  if (new Set(parsed).size !== parsed.length) throw badInput(`${field} names a contact point twice`, { field });
  return parsed;
}

function validateRoute(input: NotificationRouteInput): ValidRoute {
  const escalateToIds = contactPointIdList('escalateToIds', input.escalateToIds ?? []);
  const escalateAfterSeconds = input.escalateAfterSeconds == null ? null : seconds('escalateAfterSeconds', input.escalateAfterSeconds, 0, 1, 7 * DAY);
  if (escalateAfterSeconds !== null && escalateToIds.length === 0) throw badInput('escalateToIds must name a contact point when escalateAfterSeconds is set', { field: 'escalateToIds' });
  if (escalateAfterSeconds === null && escalateToIds.length > 0) throw badInput('escalateAfterSeconds is required with escalateToIds', { field: 'escalateAfterSeconds' });
  const groupIntervalSeconds = seconds('groupIntervalSeconds', input.groupIntervalSeconds, ROUTE_DEFAULTS.groupIntervalSeconds, 1, DAY);
  return {
    matchers: validateMatchers('matchers', input.matchers, { nonEmpty: false }),
    contactPointIds: contactPointIdList('contactPointIds', input.contactPointIds),
    continue: input.continue ?? false,
    groupBy: validateLabelNames('groupBy', input.groupBy ?? ROUTE_DEFAULTS.groupBy),
    groupWaitSeconds: seconds('groupWaitSeconds', input.groupWaitSeconds, ROUTE_DEFAULTS.groupWaitSeconds, 0, DAY),
    groupIntervalSeconds,
    // Repeating more often than the group may speak at all would never happen.
    repeatIntervalSeconds: seconds('repeatIntervalSeconds', input.repeatIntervalSeconds, Math.max(ROUTE_DEFAULTS.repeatIntervalSeconds, groupIntervalSeconds), groupIntervalSeconds, 30 * DAY),
    escalateAfterSeconds,
    escalateToIds,
  };
}

/** Every id must name a contact point that exists (and is not deleted). */
async function checkContactPoints(tx: EntityManager, field: string, ids: string[]): Promise<void> {
  if (ids.length === 0) return;
  const rows = await tx.execute('select id from contact_points where id = any(?::uuid[]) and deleted_at is null for share', [uuidArray(ids)]);
  const known = new Set(rows.map((row) => row.id as string));
  const missing = ids.findIndex((id) => !known.has(id));
  if (missing >= 0) throw badInput(`${field}.${missing}: no such contact point (deleted?)`, { field: `${field}.${missing}` });
}

async function lockRoutes(tx: EntityManager): Promise<number> {
  // Self-conflicting, and readers are not blocked: the evaluator keeps reading routes meanwhile.
  await tx.execute('lock table notification_routes in share row exclusive mode');
  const [{ n }] = await tx.execute('select count(*)::int as n from notification_routes');
  return n;
}

function position(field: string, value: number, max: number): number {
  if (!Number.isInteger(value) || value < 1 || value > max) throw badInput(`${field} must be 1 to ${max}`, { field });
  return value;
}

export async function listRoutes(ctx: Context): Promise<NotificationRoute[]> {
  requireViewer(ctx.viewer);
  const rows = await ctx.em.execute('select * from notification_routes order by position limit ?', [MAX_ROUTES]);
  return rows.map(routeFromRow);
}

const COLUMNS = `matchers = ?::jsonb, contact_point_ids = ?::uuid[], continue = ?, group_by = ?::text[], group_wait_seconds = ?,
  group_interval_seconds = ?, repeat_interval_seconds = ?, escalate_after_seconds = ?, escalate_to_ids = ?::uuid[]`;
const values = (route: ValidRoute) => [
  JSON.stringify(route.matchers), uuidArray(route.contactPointIds), route.continue, textArray(route.groupBy), route.groupWaitSeconds,
  route.groupIntervalSeconds, route.repeatIntervalSeconds, route.escalateAfterSeconds, uuidArray(route.escalateToIds),
];

async function checked(tx: EntityManager, route: ValidRoute): Promise<void> {
  await checkContactPoints(tx, 'contactPointIds', route.contactPointIds);
  await checkContactPoints(tx, 'escalateToIds', route.escalateToIds);
}

/** At `position` (1..n+1; default: last), shifting the routes from there down by one. */
export async function createRoute(ctx: Context, input: NotificationRouteInput, at?: number | null): Promise<NotificationRoute> {
  requireRole(ctx.viewer, Role.ADMIN);
  const route = validateRoute(input);
  return mutate(ctx, async (tx) => {
    const count = await lockRoutes(tx);
    if (count >= MAX_ROUTES) throw conflict(`At most ${MAX_ROUTES} notification routes; delete one first`);
    const where = at == null ? count + 1 : position('position', at, count + 1);
    await checked(tx, route);
    await tx.execute('update notification_routes set position = position + 1 where position >= ?', [where]);
    const [row] = await tx.execute(
      `insert into notification_routes (position, matchers, contact_point_ids, continue, group_by, group_wait_seconds, group_interval_seconds,
         repeat_interval_seconds, escalate_after_seconds, escalate_to_ids)
       values (?, ?::jsonb, ?::uuid[], ?, ?::text[], ?, ?, ?, ?, ?::uuid[]) returning *`,
      [where, ...values(route)],
    );
    return routeFromRow(row);
  });
}

async function lockRoute(tx: EntityManager, id: string): Promise<NotificationRoute> {
  const [row] = await tx.execute('select * from notification_routes where id = ? for update', [id]);
  if (!row) throw notFound('Notification route');
  return routeFromRow(row);
}

export async function updateRoute(ctx: Context, id: string, input: NotificationRouteInput): Promise<NotificationRoute> {
  requireRole(ctx.viewer, Role.ADMIN);
  const route = validateRoute(input);
  return mutate(ctx, async (tx) => {
    await lockRoute(tx, id);
    await checked(tx, route);
    const [row] = await tx.execute(`update notification_routes set ${COLUMNS}, updated_at = now() where id = ? returning *`, [...values(route), id]);
    return routeFromRow(row);
  });
}

export async function moveRoute(ctx: Context, id: string, to: number): Promise<NotificationRoute> {
  requireRole(ctx.viewer, Role.ADMIN);
  return mutate(ctx, async (tx) => {
    const count = await lockRoutes(tx);
    const { position: from } = await lockRoute(tx, id);
    const where = position('position', to, count);
    if (where < from) await tx.execute('update notification_routes set position = position + 1 where position >= ? and position < ?', [where, from]);
    if (where > from) await tx.execute('update notification_routes set position = position - 1 where position > ? and position <= ?', [from, where]);
    const [row] = await tx.execute('update notification_routes set position = ?, updated_at = now() where id = ? returning *', [where, id]);
    return routeFromRow(row);
  });
}

/** Its notification groups go with it (their open incidents are not resolved: nobody would hear). */
export async function deleteRoute(ctx: Context, id: string): Promise<void> {
  requireRole(ctx.viewer, Role.ADMIN);
  await mutate(ctx, async (tx) => {
    await lockRoutes(tx);
    const { position: from } = await lockRoute(tx, id);
    await tx.execute('delete from notification_routes where id = ?', [id]);
    await tx.execute('update notification_routes set position = position - 1 where position > ?', [from]);
  });
}

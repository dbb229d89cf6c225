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
import { mutate } from '../../live/mutate.js';
import { validateLabelNames, validateMatchers } from './matchers.js';
import { liveContactPointIds } from '../notifications/rows.js';
import * as rows from './rows.js';
import type { NotificationRoute, NotificationRouteInput } from './types.js';

export const MAX_ROUTES = 100;
export const ROUTE_DEFAULTS = { groupBy: ['rule', 'service'], groupWaitSeconds: 30, groupIntervalSeconds: 300, repeatIntervalSeconds: 14_400 };
const DAY = 86_400;

type ValidRoute = rows.RouteFields;

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
  const known = await liveContactPointIds(tx, ids);
  const missing = ids.findIndex((id) => !known.has(id));
  if (missing >= 0) throw badInput(`${field}.${missing}: no such contact point (deleted?)`, { field: `${field}.${missing}` });
}

function position(field: string, value: number, max: number): number {
  if (!Number.isInteger(value) || value < 1 || value > max) throw badInput(`${field} must be 1 to ${max}`, { field });
  return value;
}

export async function listRoutes(ctx: Context): Promise<NotificationRoute[]> {
  requireViewer(ctx.viewer);
  return rows.routesInOrder(ctx.em, MAX_ROUTES);
}

async function checked(tx: EntityManager, route: ValidRoute): Promise<void> {
  await checkContactPoints(tx, 'contactPointIds', route.contactPointIds);
  await checkContactPoints(tx, 'escalateToIds', route.escalateToIds);
}

/** At `position` (1..n+1; default: last), shifting the routes from there down by one. */
export async function createRoute(ctx: Context, input: NotificationRouteInput, at?: number | null): Promise<NotificationRoute> {
  requireRole(ctx.viewer, Role.ADMIN);
  const route = validateRoute(input);
  return mutate(ctx, async (tx) => {
    const count = await rows.lockRouteList(tx);
    if (count >= MAX_ROUTES) throw conflict(`At most ${MAX_ROUTES} notification routes; delete one first`);
    const where = at == null ? count + 1 : position('position', at, count + 1);
    await checked(tx, route);
    return rows.insertRouteAt(tx, where, route);
  });
}

async function lockRoute(tx: EntityManager, id: string): Promise<NotificationRoute> {
  const route = await rows.lockRouteRow(tx, id);
  if (!route) throw notFound('Notification route');
  return route;
}

export async function updateRoute(ctx: Context, id: string, input: NotificationRouteInput): Promise<NotificationRoute> {
  requireRole(ctx.viewer, Role.ADMIN);
  const route = validateRoute(input);
  return mutate(ctx, async (tx) => {
    await lockRoute(tx, id);
    await checked(tx, route);
    return rows.updateRouteRow(tx, id, route);
  });
}

export async function moveRoute(ctx: Context, id: string, to: number): Promise<NotificationRoute> {
  requireRole(ctx.viewer, Role.ADMIN);
  return mutate(ctx, async (tx) => {
    const count = await rows.lockRouteList(tx);
    const { position: from } = await lockRoute(tx, id);
    return rows.moveRouteRow(tx, id, from, position('position', to, count));
  });
}

/** Its notification groups go with it (their open incidents are not resolved: nobody would hear). */
export async function deleteRoute(ctx: Context, id: string): Promise<void> {
  requireRole(ctx.viewer, Role.ADMIN);
  await mutate(ctx, async (tx) => {
    await rows.lockRouteList(tx);
    const { position: from } = await lockRoute(tx, id);
    await rows.deleteRouteRow(tx, id, from);
  });
}

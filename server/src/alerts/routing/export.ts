/**
 * The routing lists as exports, each its GraphQL field (every signed-in user, one page, the
 * field's bound): `routes` (notificationRoutes, in the order tried), `silences` (silences, with
 * its `active` filter), `maintenance-windows` (maintenanceWindows) and `inhibitions`
 * (inhibitionRules). Matchers are JSON in a CSV cell; contact points are named by global id.
 */
import type { Context } from '../../app/context.js';
import { badInput } from '../../core/errors.js';
import { toGlobalId } from '../../core/ids.js';
import { listExport, type ExportList } from '../../http/export.js';
import { listInhibitionRules, listSilences, listWindows } from './silences.js';
import { listRoutes } from './routes.js';

const contactPointIds = (ids: string[]) => ids.map((id) => toGlobalId('ContactPoint', id));

export const routeExport = (ctx: Context): ExportList => listExport(
  ['id', 'position', 'matchers', 'contactPointIds', 'continue', 'groupBy', 'groupWaitSeconds', 'groupIntervalSeconds', 'repeatIntervalSeconds', 'escalateAfterSeconds', 'escalateToIds'],
  () => listRoutes(ctx),
  (route) => ({ ...route, id: toGlobalId('NotificationRoute', route.id), contactPointIds: contactPointIds(route.contactPointIds), escalateToIds: contactPointIds(route.escalateToIds) }),
);

/** `active`: `true` only those in force now, `false` only the others, as the field's argument. */
function activeFilter(params: URLSearchParams): boolean | null {
  const given = params.get('active');
  if (given === null || given === '') return null;
  if (given !== 'true' && given !== 'false') throw badInput('active: true or false', { field: 'active' });
  return given === 'true';
}

export const silenceExport = (ctx: Context): ExportList => listExport(
  ['id', 'matchers', 'startsAt', 'endsAt', 'comment', 'createdById', 'active'],
  (params) => listSilences(ctx, activeFilter(params)),
  (silence) => ({ ...silence, id: toGlobalId('Silence', silence.id), createdById: silence.createdById && toGlobalId('User', silence.createdById) }),
);

export const maintenanceWindowExport = (ctx: Context): ExportList => listExport(
  ['id', 'name', 'matchers', 'cron', 'durationMinutes', 'timezone', 'activeNow', 'nextStartsAt'],
  () => listWindows(ctx),
  (window) => ({ ...window, id: toGlobalId('MaintenanceWindow', window.id) }),
);

export const inhibitionExport = (ctx: Context): ExportList => listExport(
  ['id', 'source', 'target', 'equal'],
  () => listInhibitionRules(ctx),
  (rule) => ({ ...rule, id: toGlobalId('InhibitionRule', rule.id) }),
);

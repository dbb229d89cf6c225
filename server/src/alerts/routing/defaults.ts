/**
 * The notification policy a fresh install starts with, from the operations guide's alert
 * strategy: a service down pages the on-call engineer, a high error rate goes to chat, slow
 * responses are only shown and logged.
 *
 * 1. `severity=CRITICAL` → every contact point the environment made (PagerDuty pages);
 * 2. `severity=HIGH` → those of them that do not page (Slack, the webhook, e-mail);
 * 3. `severity=~MEDIUM|LOW` → no contact point: the dashboard and the log.
 *
 * With no contact point from the environment, routes 1 and 2 are not made: CRITICAL and HIGH
 * fall to the default policy (every enabled contact point), so the first contact point an
 * admin adds hears them. Made once (`setup_steps`), in one transaction with its marker: two
 * replicas starting at once make it once, and routes deleted by hand stay deleted.
 */
import type { AppServices } from '../../app/context.js';
import type { EntityManager } from '../../db/orm.js';
import { textArray, uuidArray } from '../../db/sql.js';
import { mutate } from '../../live/mutate.js';
import type { MatcherSpec } from './matchers.js';
import { ROUTE_DEFAULTS } from './routes.js';

export const DEFAULT_ROUTES_STEP = 'default-notification-routes';

interface DefaultRoute {
  matchers: MatcherSpec[];
  contactPointIds: string[];
}

/** The guide's routes for these contact points (those the environment made, oldest first). */
export function defaultRoutes(points: ReadonlyArray<{ id: string; kind: string }>): DefaultRoute[] {
  const quiet: DefaultRoute = { matchers: [{ label: 'severity', op: '=~', value: 'MEDIUM|LOW' }], contactPointIds: [] };
  if (points.length === 0) return [quiet];
  return [
    { matchers: [{ label: 'severity', op: '=', value: 'CRITICAL' }], contactPointIds: points.map((p) => p.id) },
    { matchers: [{ label: 'severity', op: '=', value: 'HIGH' }], contactPointIds: points.filter((p) => p.kind !== 'PAGERDUTY').map((p) => p.id) },
    quiet,
  ];
}

/** Makes the default routes unless this install already did (or `ALERT_DEFAULT_ROUTES=0`); true when it made them now. */
export async function ensureDefaultRoutes(app: AppServices): Promise<boolean> {
  if (!app.config.alertDefaultRoutes) return false;
  return mutate({ em: app.orm.em.fork() as EntityManager, app }, async (tx) => {
    // A second replica waits here on the first one's row, then finds it and does nothing.
    const [first] = await tx.execute('insert into setup_steps (step) values (?) on conflict do nothing returning step', [DEFAULT_ROUTES_STEP]);
    if (!first) return false;
    await tx.execute('lock table notification_routes in share row exclusive mode');
    const [{ n }] = await tx.execute('select count(*)::int as n from notification_routes');
    // Routes made before this step existed are the admin's policy.
    if (n > 0) return false;
    const points = await tx.execute('select id, kind from contact_points where from_env is not null and deleted_at is null order by created_at, name');
    const routes = defaultRoutes(points as Array<{ id: string; kind: string }>);
    for (const [i, route] of routes.entries()) {
      await tx.execute(
        `insert into notification_routes (position, matchers, contact_point_ids, group_by, group_wait_seconds, group_interval_seconds, repeat_interval_seconds)
         values (?, ?::jsonb, ?::uuid[], ?::text[], ?, ?, ?)`,
        [i + 1, JSON.stringify(route.matchers), uuidArray(route.contactPointIds), textArray(ROUTE_DEFAULTS.groupBy),
          ROUTE_DEFAULTS.groupWaitSeconds, ROUTE_DEFAULTS.groupIntervalSeconds, ROUTE_DEFAULTS.repeatIntervalSeconds],
      );
    }
    app.logger.info({ routes: routes.length, contactPoints: points.length }, 'made the default notification routes');
    return true;
  });
}

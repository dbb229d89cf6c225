/**
 * What the database-down pager (pager.ts) must know when the database cannot be asked: the
 * rule that would fire for `component_up{service="database"} = 0` (the guide's "A component
 * down"), the alert's labels, where today's notification policy would send it (routes tried
 * as the dispatcher tries them; none: every enabled contact point) with the contact points'
 * settings opened, and the silences and maintenance windows that would mute it. Every replica
 * takes it anew every `ALERT_EVAL_INTERVAL_SECONDS` while the database answers; it lives only
 * in memory.
 */
import type { AppServices } from '../../app/context.js';
import type { EntityManager } from '../../db/orm.js';
import { alertLabels, type Labels } from '../labels.js';
import { ruleFromRow } from '../rows.js';
import { contactPointFromRow, type StoredContactPoint } from '../notifications/rows.js';
import { breaches } from '../rules.js';
import { matcherOf } from '../routing/matchers.js';
import { defaultPolicy, groupKeyOf, policyOf, routesFor } from '../routing/policy.js';
import { routeFromRow, schedule, windowActive } from '../routing/rows.js';
import type { AlertRule } from '../types.js';

export const DATABASE_COMPONENT = 'database';

/** One route's share: its group and the contact points it names. */
export interface FallbackDelivery {
  groupKey: string;
  groupLabels: Labels;
  groupWaitSeconds: number;
  contactPoints: StoredContactPoint[];
}

export interface OutageSnapshot {
  rule: AlertRule;
  labels: Labels;
  deliveries: FallbackDelivery[];
  /** whether a silence or maintenance window mutes the alert at `now` */
  mutedAt(now: Date): boolean;
}

/** The snapshot, or null when no enabled rule fires on a database that is down. */
export async function takeSnapshot(app: AppServices): Promise<OutageSnapshot | null> {
  const em = app.orm.em.fork() as EntityManager;
  const rules = (await em.execute(
    `select * from alert_rules where enabled and deleted_at is null and metric = 'component_up' and (service is null or service = ?)
      order by array_position(array['CRITICAL', 'HIGH', 'MEDIUM', 'LOW'], severity), created_at`,
    [DATABASE_COMPONENT],
  )).map(ruleFromRow).filter((rule: AlertRule) => breaches(rule.comparator, 0, rule.threshold));
  const [rule] = rules;
  if (!rule) return null;
  const labels = alertLabels(rule, DATABASE_COMPONENT);
  const [routeRows, pointRows, silenceRows, windowRows] = await Promise.all([
    em.execute('select * from notification_routes order by position'),
    em.execute('select * from contact_points where enabled and deleted_at is null order by created_at'),
    em.execute('select starts_at, ends_at, matchers from silences where ends_at > now()'),
    em.execute('select cron, timezone, duration_minutes, matchers from maintenance_windows'),
  ]);
  const points: StoredContactPoint[] = pointRows.map((row: Record<string, unknown>) => contactPointFromRow(row, app.secrets.open));
  const policies = routeRows.map((row: Record<string, unknown>) => policyOf(routeFromRow(row)));
  const deliveries = routesFor(policies, defaultPolicy(app.config), labels).map((policy): FallbackDelivery => {
    const { key, labels: groupLabels } = groupKeyOf(policy, labels);
    const ids = policy.route?.contactPointIds;
    return { groupKey: key, groupLabels, groupWaitSeconds: policy.groupWaitSeconds, contactPoints: ids ? points.filter((p) => ids.includes(p.id)) : points };
  });
  const silences = silenceRows.filter((row: Record<string, any>) => matcherOf(row.matchers)(labels))
    .map((row: Record<string, any>) => ({ startsAt: new Date(row.starts_at), endsAt: new Date(row.ends_at) }));
  const windows = windowRows.filter((row: Record<string, any>) => matcherOf(row.matchers)(labels))
    .map((row: Record<string, any>) => ({ cron: schedule(row.cron, row.timezone), minutes: row.duration_minutes as number }));
  return {
    rule,
    labels,
    deliveries,
    mutedAt: (now) => silences.some((s: { startsAt: Date; endsAt: Date }) => s.startsAt <= now && now < s.endsAt)
      || windows.some((w: { cron: ReturnType<typeof schedule>; minutes: number }) => windowActive(w.cron, w.minutes, now)),
  };
}

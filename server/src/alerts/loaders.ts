/** Per-request batch loaders for rules, alerts and notifications (shared data: no scoping). */
import DataLoader from 'dataloader';
import type { Queryable } from '../db/read-routing.js';
import { groupBy, indexBy, uuidArray } from '../db/sql.js';
import { alertsByIds, rulesByIds } from './rows.js';
import { Alert, AlertStatus, type AlertRule } from './types.js';
import { contactPointFromRow, notificationFromRow, shownContactPoint } from './notifications/rows.js';
import type { ContactPoint, Notification } from './notifications/types.js';
import { inhibitionFromRow, routeFromRow, silenceFromRow, windowFromRow } from './routing/rows.js';
import { loadMuting, type MutedAlert } from './routing/muting.js';
import { matchingRoutes, policyOf } from './routing/policy.js';
import type { InhibitionRule, MaintenanceWindow, NotificationRoute, Silence } from './routing/types.js';

/** A loader of one table's rows by id. */
function byId<T extends { id: string }>(em: Queryable, table: string, fromRow: (row: Record<string, any>) => T) {
  return new DataLoader<string, T | null>(async (ids) => {
    const rows = await em.execute(`select * from ${table} where id = any(?::uuid[])`, [uuidArray(ids)]);
    return indexBy(ids, rows.map((row: Record<string, any>) => fromRow(row)), (item) => item.id);
  });
}

/** An alert's newest messages shown (repeats of a long-firing group add up). */
export const MAX_ALERT_NOTIFICATIONS = 200;

/** What mutes an open alert now (a resolved one: nothing). */
export interface AlertMuting {
  silencedBy: Silence[];
  inhibited: boolean;
}

export function createAlertLoaders(em: Queryable, open: (sealed: string) => string) {
  const alertById = new DataLoader<string, Alert | null>((ids) => alertsByIds(em, ids));
  return {
    /** Deleted rules too: past alerts still name theirs. */
    alertRuleById: new DataLoader<string, AlertRule | null>((ids) => rulesByIds(em, ids)),

    alertById,

    /** Silences, maintenance windows and inhibition rules read once per batch, whatever the number of alerts. */
    mutingByAlert: new DataLoader<string, AlertMuting>(async (ids) => {
      const now = new Date();
      const [alerts, muting, firing] = await Promise.all([
        alertById.loadMany(ids),
        loadMuting(em, now),
        em.execute(`select id, labels from alerts where status in ('FIRING', 'ACKNOWLEDGED')`),
      ]);
      const sources: MutedAlert[] = firing.map((row: Record<string, any>) => ({ id: row.id, labels: row.labels, firing: true }));
      return alerts.map((alert) => {
        if (!(alert instanceof Alert) || alert.status === AlertStatus.RESOLVED) return { silencedBy: [], inhibited: false };
        return { silencedBy: muting.silencedBy(alert.labels), inhibited: muting.inhibited({ id: alert.id, labels: alert.labels, firing: true }, sources) };
      });
    }),

    /** The routes today's policy sends each alert to (the route list read once per batch); empty: the default policy. */
    routesByAlert: new DataLoader<string, NotificationRoute[]>(async (ids) => {
      const [alerts, rows] = await Promise.all([alertById.loadMany(ids), em.execute('select * from notification_routes order by position')]);
      const policies = rows.map((row: Record<string, any>) => policyOf(routeFromRow(row)));
      return alerts.map((alert) => (alert instanceof Alert ? matchingRoutes(policies, alert.labels).map((policy) => policy.route!) : []));
    }),

    notificationRouteById: byId<NotificationRoute>(em, 'notification_routes', routeFromRow),
    silenceById: byId<Silence>(em, 'silences', silenceFromRow),
    maintenanceWindowById: byId<MaintenanceWindow>(em, 'maintenance_windows', windowFromRow),
    inhibitionRuleById: byId<InhibitionRule>(em, 'inhibition_rules', inhibitionFromRow),

    /** Deleted ones too: past notifications still name theirs. */
    contactPointById: new DataLoader<string, ContactPoint | null>(async (ids) => {
      const rows = await em.execute('select * from contact_points where id = any(?::uuid[])', [uuidArray(ids)]);
      return indexBy(ids, rows.map((row: Record<string, any>) => shownContactPoint(contactPointFromRow(row, open))), (c) => c.id);
    }),

    /**
     * Every message that named the alert (a group's message names each of its alerts).
     * Messages queued before contact points existed, and never given one, are left out.
     */
    notificationsByAlert: new DataLoader<string, Notification[]>(async (ids) => {
      const rows = await em.execute(
        `select n.*, named.alert_id as named_alert_id from alert_notifications n, unnest(n.alert_ids) as named(alert_id)
          where n.alert_ids && ?::uuid[] and named.alert_id = any(?::uuid[]) and n.contact_point_id is not null
          order by n.created_at, n.channel`,
        [uuidArray(ids), uuidArray(ids)],
      );
      return groupBy(ids, rows.map((row: Record<string, any>) => Object.assign(notificationFromRow(row), { alertId: row.named_alert_id as string })), (n) => n.alertId)
        .map((list) => list.slice(-MAX_ALERT_NOTIFICATIONS));
    }),
  };
}

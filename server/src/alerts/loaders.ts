/** Per-request batch loaders for rules, alerts and notifications (shared data: no scoping). */
import DataLoader from 'dataloader';
import type { Queryable } from '../db/read-routing.js';
import { groupBy, indexBy, toDate, uuidArray } from '../db/sql.js';
import { Alert, AlertNotification, AlertRule, type AlertStatus, type Severity } from './types.js';

export function ruleFromRow(row: Record<string, any>): AlertRule {
  return Object.assign(new AlertRule(), {
    id: row.id,
    name: row.name,
    metric: row.metric,
    service: row.service,
    comparator: row.comparator,
    threshold: Number(row.threshold),
    forSeconds: row.for_seconds,
    severity: row.severity as Severity,
    enabled: row.enabled,
    labels: row.labels ?? {},
    summary: row.summary ?? null,
    runbookUrl: row.runbook_url ?? null,
    deletedAt: toDate(row.deleted_at),
  });
}

export function alertFromRow(row: Record<string, any>): Alert {
  return Object.assign(new Alert(), {
    id: row.id,
    ruleId: row.rule_id,
    service: row.service,
    status: row.status as AlertStatus,
    severity: row.severity as Severity,
    value: Number(row.value),
    startedAt: toDate(row.started_at),
    firedAt: toDate(row.fired_at),
    acknowledgedAt: toDate(row.acknowledged_at),
    acknowledgedById: row.acknowledged_by,
    resolvedAt: toDate(row.resolved_at),
    labels: row.labels ?? {},
  });
}

function notificationFromRow(row: Record<string, any>): AlertNotification & { alertId: string } {
  return {
    id: row.id,
    alertId: row.alert_id,
    channel: row.channel,
    event: row.event,
    status: row.status,
    attempts: row.attempts,
    lastError: row.last_error,
    createdAt: toDate(row.created_at),
    nextAttemptAt: row.status === 'PENDING' ? toDate(row.next_attempt_at) : null,
    deliveredAt: toDate(row.delivered_at),
  };
}

export function createAlertLoaders(em: Queryable) {
  return {
    /** Deleted rules too: past alerts still name theirs. */
    alertRuleById: new DataLoader<string, AlertRule | null>(async (ids) => {
      const rows = await em.execute('select * from alert_rules where id = any(?::uuid[])', [uuidArray(ids)]);
      return indexBy(ids, rows.map(ruleFromRow), (r) => r.id);
    }),

    alertById: new DataLoader<string, Alert | null>(async (ids) => {
      const rows = await em.execute('select * from alerts where id = any(?::uuid[])', [uuidArray(ids)]);
      return indexBy(ids, rows.map(alertFromRow), (a) => a.id);
    }),

    notificationsByAlert: new DataLoader<string, AlertNotification[]>(async (ids) => {
      const rows = await em.execute(
        'select * from alert_notifications where alert_id = any(?::uuid[]) order by created_at, channel',
        [uuidArray(ids)],
      );
      return groupBy(ids, rows.map(notificationFromRow), (n) => n.alertId);
    }),
  };
}

/** What a notification says: one JSON document per event, the same for every channel. */
import { toGlobalId } from '../../core/ids.js';
import type { Alert, AlertRule } from '../types.js';

/** TEST: sent by testContactPoint; ACKNOWLEDGED goes to PagerDuty only (it acknowledges the incident). */
export const NOTIFICATION_EVENTS = ['FIRING', 'ACKNOWLEDGED', 'RESOLVED', 'TEST'] as const;
export type NotificationEvent = (typeof NOTIFICATION_EVENTS)[number];

export interface AlertMessage {
  event: NotificationEvent;
  /** one line for humans (Slack text, e-mail subject) */
  summary: string;
  alert: {
    id: string;
    status: string;
    severity: string;
    service: string;
    value: number;
    startedAt: string;
    firedAt: string | null;
    resolvedAt: string | null;
    labels: Record<string, string>;
  };
  rule: { id: string; name: string; metric: string; comparator: string; threshold: number; forSeconds: number; summary: string | null; runbookUrl: string | null };
}

export function alertMessage(event: NotificationEvent, alert: Alert, rule: AlertRule): AlertMessage {
  const condition = `${rule.metric} ${rule.comparator} ${rule.threshold}`;
  const summary = event === 'FIRING'
    ? `[FIRING] ${alert.severity} ${rule.name}: ${rule.metric} on ${alert.service} is ${alert.value} (${condition})`
    : `[${event}] ${rule.name} on ${alert.service}`;
  const extra = [event === 'FIRING' ? rule.summary : null, rule.runbookUrl ? `Runbook: ${rule.runbookUrl}` : null].filter(Boolean);
  return {
    event,
    summary: [summary, ...extra].join(' — '),
    alert: {
      id: toGlobalId('Alert', alert.id),
      status: alert.status,
      severity: alert.severity,
      service: alert.service,
      value: alert.value,
      startedAt: alert.startedAt.toISOString(),
      firedAt: alert.firedAt?.toISOString() ?? null,
      resolvedAt: alert.resolvedAt?.toISOString() ?? null,
      labels: alert.labels,
    },
    rule: {
      id: toGlobalId('AlertRule', rule.id),
      name: rule.name,
      metric: rule.metric,
      comparator: rule.comparator,
      threshold: rule.threshold,
      forSeconds: rule.forSeconds,
      summary: rule.summary,
      runbookUrl: rule.runbookUrl,
    },
  };
}

/** What testContactPoint sends: shaped like an alert's message, so receivers parse it the same. */
export function testMessage(contactPointName: string, id: string, now: Date): AlertMessage {
  return {
    event: 'TEST',
    summary: `[TEST] Workflow Factory test message to ${contactPointName}`,
    alert: { id: `test-${id}`, status: 'FIRING', severity: 'LOW', service: 'workflow-factory', value: 0, startedAt: now.toISOString(), firedAt: now.toISOString(), resolvedAt: null, labels: { severity: 'LOW', service: 'workflow-factory', metric: 'test', rule: 'test' } },
    rule: { id: 'test', name: 'test', metric: 'test', comparator: '>', threshold: 0, forSeconds: 0, summary: null, runbookUrl: null },
  };
}

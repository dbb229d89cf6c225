/**
 * What a notification says: one JSON document per notification group and event, the same for
 * every channel (Slack and e-mail render `summary` and `text` from it; the webhook gets it
 * whole; PagerDuty a v2 event made from it).
 */
import { toGlobalId } from '../../core/ids.js';
import type { Alert, AlertRule } from '../types.js';

/** TEST: sent by testContactPoint; ACKNOWLEDGED goes to PagerDuty only (it acknowledges the incident). */
export const NOTIFICATION_EVENTS = ['FIRING', 'ACKNOWLEDGED', 'RESOLVED', 'TEST'] as const;
export type NotificationEvent = (typeof NOTIFICATION_EVENTS)[number];
/** Why the group spoke: its first message, a change, a repeat while unacknowledged, an escalation, all resolved. */
export type NotificationReason = 'first' | 'changed' | 'repeat' | 'escalation' | 'acknowledged' | 'resolved' | 'test';

export interface MessageAlert {
  id: string;
  status: string;
  severity: string;
  service: string;
  value: number;
  startedAt: string;
  firedAt: string | null;
  resolvedAt: string | null;
  labels: Record<string, string>;
  rule: { id: string; name: string; metric: string; comparator: string; threshold: number; forSeconds: number; summary: string | null; runbookUrl: string | null };
}

export interface AlertMessage {
  event: NotificationEvent;
  reason: NotificationReason;
  groupKey: string;
  /** firing while any alert of the group fires, else resolved */
  status: 'firing' | 'resolved';
  groupLabels: Record<string, string>;
  /** one line for humans (Slack text, e-mail subject) */
  summary: string;
  /** the firing alerts first, then those resolved since the last message */
  alerts: MessageAlert[];
}

const SEVERITY_ORDER = ['CRITICAL', 'HIGH', 'MEDIUM', 'LOW'];
/** The most severe severity among the alerts (PagerDuty's incident severity). */
export function worstSeverity(alerts: readonly MessageAlert[]): string {
  return alerts.map((a) => a.severity).sort((a, b) => SEVERITY_ORDER.indexOf(a) - SEVERITY_ORDER.indexOf(b))[0] ?? 'LOW';
}

export function messageAlert(alert: Alert, rule: AlertRule): MessageAlert {
  return {
    id: toGlobalId('Alert', alert.id),
    status: alert.status,
    severity: alert.severity,
    service: alert.service,
    value: alert.value,
    startedAt: alert.startedAt.toISOString(),
    firedAt: alert.firedAt?.toISOString() ?? null,
    resolvedAt: alert.resolvedAt?.toISOString() ?? null,
    labels: alert.labels,
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

/** One line per alert: what it is about and the value that broke its rule. */
export function alertLine(alert: MessageAlert): string {
  const { rule } = alert;
  if (alert.status === 'RESOLVED') return `${rule.name} on ${alert.service}: resolved`;
  const extra = [rule.summary, rule.runbookUrl ? `Runbook: ${rule.runbookUrl}` : null].filter(Boolean);
  return [`${alert.severity} ${rule.name}: ${rule.metric} on ${alert.service} is ${alert.value} (${rule.metric} ${rule.comparator} ${rule.threshold})`, ...extra].join(' — ');
}

/** A group's message; a group of one reads as that alert's line. */
export function groupMessage(
  event: Exclude<NotificationEvent, 'TEST'>, reason: NotificationReason, groupKey: string, groupLabels: Record<string, string>,
  firing: MessageAlert[], resolved: MessageAlert[],
): AlertMessage {
  const alerts = [...firing, ...resolved];
  const tag = event === 'FIRING' && firing.length > 1 ? `FIRING:${firing.length}` : event;
  const lead = reason === 'escalation' ? '[ESCALATED] ' : reason === 'repeat' ? '[REPEAT] ' : '';
  const about = alerts.length === 1 || event !== 'FIRING'
    ? (event === 'FIRING' ? alertLine(firing[0]) : `${alerts[0].rule.name} on ${alerts[0].service}${alerts.length > 1 ? ` and ${alerts.length - 1} more` : ''}`)
    : `${Object.entries(groupLabels).map(([name, value]) => `${name}=${value}`).join(' ') || 'alerts'}: ${firing.length} firing${resolved.length ? `, ${resolved.length} resolved` : ''}`;
  return { event, reason, groupKey, status: firing.length ? 'firing' : 'resolved', groupLabels, summary: `${lead}[${tag}] ${about}`, alerts };
}

/** The message's text body: the summary, then one line per alert. */
export function messageText(message: AlertMessage, maxLines = 50): string {
  const lines = message.alerts.slice(0, maxLines).map((alert) => `• ${alertLine(alert)}`);
  if (message.alerts.length > maxLines) lines.push(`… and ${message.alerts.length - maxLines} more`);
  return message.alerts.length > 1 ? [message.summary, ...lines].join('\n') : message.summary;
}

/** What testContactPoint sends: shaped like a group's message, so receivers parse it the same. */
export function testMessage(contactPointName: string, id: string, now: Date): AlertMessage {
  return {
    event: 'TEST',
    reason: 'test',
    groupKey: `test-${id}`,
    status: 'firing',
    groupLabels: {},
    summary: `[TEST] Workflow Factory test message to ${contactPointName}`,
    alerts: [{
      id: `test-${id}`, status: 'FIRING', severity: 'LOW', service: 'workflow-factory', value: 0, startedAt: now.toISOString(), firedAt: now.toISOString(), resolvedAt: null,
      labels: { severity: 'LOW', service: 'workflow-factory', metric: 'test', rule: 'test' },
      rule: { id: 'test', name: 'test', metric: 'test', comparator: '>', threshold: 0, forSeconds: 0, summary: null, runbookUrl: null },
    }],
  };
}

/**
 * An alert's moves, each inside the caller's transaction with its event row. What they cause
 * to be said is decided afterwards, per notification group, by the dispatcher on the
 * evaluator leader (routing/dispatch.ts), from the alerts as committed.
 */
import type { Config } from '../app/config.js';
import type { EntityManager } from '../db/orm.js';
import type { RecordEvent } from '../live/mutate.js';
import { alertEvent } from './events.js';
import { alertLabels } from './labels.js';
import * as rows from './rows.js';
import { AlertStatus, type Alert, type AlertRule } from './types.js';

/** Opens a PENDING alert (FIRING at once when forSeconds is 0); null when one is already open. */
export async function openAlert(
  tx: EntityManager, config: Config, record: RecordEvent, rule: AlertRule, service: string, value: number, now: Date,
): Promise<Alert | null> {
  const firing = rule.forSeconds === 0;
  const alert = await rows.insertOpenAlert(tx, {
    ruleId: rule.id, service, status: firing ? AlertStatus.FIRING : AlertStatus.PENDING, severity: rule.severity, value, now,
    firedAt: firing ? now : null, labels: alertLabels(rule, service),
  });
  if (!alert) return null;
  record(alertEvent(alert.status, alert));
  return alert;
}

export async function fireAlert(
  tx: EntityManager, config: Config, record: RecordEvent, alert: Alert, rule: AlertRule, value: number, now: Date,
): Promise<Alert> {
  const fired = await rows.setAlertFiring(tx, alert.id, value, now);
  record(alertEvent(AlertStatus.FIRING, fired));
  return fired;
}

export async function resolveAlert(
  tx: EntityManager, config: Config, record: RecordEvent, alert: Alert, rule: AlertRule, now: Date,
): Promise<Alert> {
  const resolved = await rows.setAlertResolved(tx, alert.id, now);
  record(alertEvent(AlertStatus.RESOLVED, resolved));
  return resolved;
}

export async function acknowledgeAlert(tx: EntityManager, record: RecordEvent, alert: Alert, userId: string): Promise<Alert> {
  const acknowledged = await rows.setAlertAcknowledged(tx, alert.id, userId);
  record(alertEvent(AlertStatus.ACKNOWLEDGED, acknowledged));
  return acknowledged;
}

/** Resolves every open alert of a rule (when it is changed, disabled or deleted). */
export async function resolveOpenAlerts(tx: EntityManager, config: Config, record: RecordEvent, ruleId: string): Promise<void> {
  const [rule] = await rows.rulesByIds(tx, [ruleId]);
  const open = await rows.lockOpenAlertsOf(tx, ruleId);
  const now = new Date();
  for (const alert of open) await resolveAlert(tx, config, record, alert, rule!, now);
}

/** Gives the open alerts of a rule its current name and labels (the condition is unchanged). */
export async function relabelOpenAlerts(tx: EntityManager, rule: AlertRule): Promise<void> {
  for (const alert of await rows.lockOpenAlertsOf(tx, rule.id)) await rows.setAlertLabels(tx, alert.id, alertLabels(rule, alert.service));
}

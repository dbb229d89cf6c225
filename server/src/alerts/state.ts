/**
 * An alert's moves, each inside the caller's transaction with its event row. What they cause
 * to be said is decided afterwards, per notification group, by the dispatcher on the
 * evaluator leader (routing/dispatch.ts), from the alerts as committed.
 */
import type { Config } from '../app/config.js';
import type { EntityManager } from '../db/orm.js';
import type { RecordEvent } from '../live/mutate.js';
import { alertEvent } from './events.js';
import { alertFromRow, ruleFromRow } from './loaders.js';
import { alertLabels } from './labels.js';
import { AlertStatus, type Alert, type AlertRule } from './types.js';

/** Opens a PENDING alert (FIRING at once when forSeconds is 0); null when one is already open. */
export async function openAlert(
  tx: EntityManager, config: Config, record: RecordEvent, rule: AlertRule, service: string, value: number, now: Date,
): Promise<Alert | null> {
  const firing = rule.forSeconds === 0;
  const [row] = await tx.execute(
    `insert into alerts (rule_id, service, status, severity, value, started_at, fired_at, updated_at, labels)
     values (?, ?, ?, ?, ?, ?, ?, ?, ?::jsonb)
     on conflict (rule_id, service) where status <> 'RESOLVED' do nothing returning *`,
    [rule.id, service, firing ? AlertStatus.FIRING : AlertStatus.PENDING, rule.severity, value, now, firing ? now : null, now,
      JSON.stringify(alertLabels(rule, service))],
  );
  if (!row) return null;
  const alert = alertFromRow(row);
  record(alertEvent(alert.status, alert));
  return alert;
}

export async function fireAlert(
  tx: EntityManager, config: Config, record: RecordEvent, alert: Alert, rule: AlertRule, value: number, now: Date,
): Promise<Alert> {
  const [row] = await tx.execute(
    `update alerts set status = 'FIRING', fired_at = ?, value = ?, updated_at = ? where id = ? returning *`,
    [now, value, now, alert.id],
  );
  const fired = alertFromRow(row);
  record(alertEvent(AlertStatus.FIRING, fired));
  return fired;
}

export async function resolveAlert(
  tx: EntityManager, config: Config, record: RecordEvent, alert: Alert, rule: AlertRule, now: Date,
): Promise<Alert> {
  const [row] = await tx.execute(
    `update alerts set status = 'RESOLVED', resolved_at = ?, updated_at = ? where id = ? returning *`,
    [now, now, alert.id],
  );
  const resolved = alertFromRow(row);
  record(alertEvent(AlertStatus.RESOLVED, resolved));
  return resolved;
}

export async function acknowledgeAlert(tx: EntityManager, record: RecordEvent, alert: Alert, userId: string): Promise<Alert> {
  const [row] = await tx.execute(
    `update alerts set status = 'ACKNOWLEDGED', acknowledged_at = now(), acknowledged_by = ?, updated_at = now() where id = ? returning *`,
    [userId, alert.id],
  );
  const acknowledged = alertFromRow(row);
  record(alertEvent(AlertStatus.ACKNOWLEDGED, acknowledged));
  return acknowledged;
}

/** Resolves every open alert of a rule (when it is changed, disabled or deleted). */
export async function resolveOpenAlerts(tx: EntityManager, config: Config, record: RecordEvent, ruleId: string): Promise<void> {
  const [ruleRow] = await tx.execute('select * from alert_rules where id = ?', [ruleId]);
  const rows = await tx.execute(`select * from alerts where rule_id = ? and status <> 'RESOLVED' for update`, [ruleId]);
  const now = new Date();
  for (const row of rows) await resolveAlert(tx, config, record, alertFromRow(row), ruleFromRow(ruleRow), now);
}

/** Gives the open alerts of a rule its current name and labels (the condition is unchanged). */
export async function relabelOpenAlerts(tx: EntityManager, rule: AlertRule): Promise<void> {
  const rows = await tx.execute(`select id, service from alerts where rule_id = ? and status <> 'RESOLVED' for update`, [rule.id]);
  for (const row of rows) {
    await tx.execute('update alerts set labels = ?::jsonb where id = ?', [JSON.stringify(alertLabels(rule, row.service)), row.id]);
  }
}

/**
 * Data access for alert rules and alerts (ARCHITECTURE.md, "Data access"): their SQL and row
 * mappers. Notifications and routing have their own (notifications/rows.ts, routing/rows.ts).
 */
import { keysetPage, type CursorPosition } from '../db/pagination.js';
import type { Queryable } from '../db/read-routing.js';
import { asInstance, enumArray, indexBy, toDate, uuidArray } from '../db/sql.js';
import type { Labels } from './labels.js';
import { Alert, AlertRule, AlertStatus, type Severity } from './types.js';

export function ruleFromRow(row: Record<string, any>): AlertRule {
  return asInstance(AlertRule, {
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
  return asInstance(Alert, {
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

/** What a rule stores. */
export interface RuleFields {
  name: string;
  metric: string;
  service: string | null;
  comparator: string;
  threshold: number;
  forSeconds: number;
  severity: Severity;
  enabled: boolean;
  labels: Labels;
  summary: string | null;
  runbookUrl: string | null;
}

const RULE_COLUMNS = 'name, metric, service, comparator, threshold, for_seconds, severity, enabled, labels, summary, runbook_url';
const ruleValues = (rule: RuleFields) => [
  rule.name, rule.metric, rule.service, rule.comparator, rule.threshold, rule.forSeconds, rule.severity, rule.enabled,
  JSON.stringify(rule.labels), rule.summary, rule.runbookUrl,
];

/** Rules by id, deleted ones too (past alerts still name theirs). */
export async function rulesByIds(db: Queryable, ids: readonly string[]): Promise<(AlertRule | null)[]> {
  const rows = await db.execute('select * from alert_rules where id = any(?::uuid[])', [uuidArray(ids)]);
  return indexBy(ids, rows.map(ruleFromRow), (r) => r.id);
}

/** The rules not deleted, oldest first, at most `limit`. */
export async function liveRules(db: Queryable, limit: number): Promise<AlertRule[]> {
  return (await db.execute('select * from alert_rules where deleted_at is null order by created_at, name limit ?', [limit])).map(ruleFromRow);
}

/** The enabled rules, as the evaluator reads them each tick. */
export async function enabledRules(db: Queryable): Promise<AlertRule[]> {
  return (await db.execute('select * from alert_rules where enabled and deleted_at is null')).map(ruleFromRow);
}

/** Every alert not resolved, locked for this transaction. */
export async function lockOpenAlerts(tx: Queryable): Promise<Alert[]> {
  return (await tx.execute(`select * from alerts where status <> 'RESOLVED' for update`)).map(alertFromRow);
}

export async function liveRuleCount(db: Queryable): Promise<number> {
  const [{ rules }] = await db.execute('select count(*)::int as rules from alert_rules where deleted_at is null');
  return rules;
}

export async function insertRule(tx: Queryable, rule: RuleFields): Promise<AlertRule> {
  const [row] = await tx.execute(`insert into alert_rules (${RULE_COLUMNS}) values (?, ?, ?, ?, ?, ?, ?, ?, ?::jsonb, ?, ?) returning *`, ruleValues(rule));
  return ruleFromRow(row);
}

/** A rule not deleted, locked for this transaction; null when there is none. */
export async function lockLiveRule(tx: Queryable, id: string): Promise<AlertRule | null> {
  const [row] = await tx.execute('select * from alert_rules where id = ? and deleted_at is null for update', [id]);
  return row ? ruleFromRow(row) : null;
}

export async function updateRuleRow(tx: Queryable, id: string, rule: RuleFields): Promise<AlertRule> {
  const [row] = await tx.execute(
    `update alert_rules set name = ?, metric = ?, service = ?, comparator = ?, threshold = ?, for_seconds = ?,
            severity = ?, enabled = ?, labels = ?::jsonb, summary = ?, runbook_url = ?, updated_at = now() where id = ? returning *`,
    [...ruleValues(rule), id],
  );
  return ruleFromRow(row);
}

/** Deleting keeps the row (disabled) for the alerts that name it. */
export async function markRuleDeleted(tx: Queryable, id: string): Promise<void> {
  await tx.execute('update alert_rules set deleted_at = now(), enabled = false, updated_at = now() where id = ?', [id]);
}

/** One page newest first, only these statuses when given. */
export async function alertsPage(db: Queryable, statuses: readonly string[] | null | undefined, window: { first: number; after: CursorPosition | null; count: boolean }) {
  const filters = statuses?.length ? ['status = any(?::text[])'] : [];
  const params = statuses?.length ? [enumArray(statuses)] : [];
  const page = await keysetPage(db, { table: 'alerts', timeColumn: 'started_at', filters, params, ...window });
  return { ...page, rows: page.rows.map(alertFromRow) };
}

export async function alertsByIds(db: Queryable, ids: readonly string[]): Promise<(Alert | null)[]> {
  const rows = await db.execute('select * from alerts where id = any(?::uuid[])', [uuidArray(ids)]);
  return indexBy(ids, rows.map(alertFromRow), (a) => a.id);
}

export async function lockAlertRow(tx: Queryable, id: string): Promise<Alert | null> {
  const [row] = await tx.execute('select * from alerts where id = ? for update', [id]);
  return row ? alertFromRow(row) : null;
}

/** Opens an alert of the rule and service, PENDING or FIRING; null when one is open already (the unique open alert per rule and service). */
export async function insertOpenAlert(
  tx: Queryable, alert: { ruleId: string; service: string; status: AlertStatus; severity: Severity; value: number; now: Date; firedAt: Date | null; labels: Labels },
): Promise<Alert | null> {
  const [row] = await tx.execute(
    `insert into alerts (rule_id, service, status, severity, value, started_at, fired_at, updated_at, labels)
     values (?, ?, ?, ?, ?, ?, ?, ?, ?::jsonb)
     on conflict (rule_id, service) where status <> 'RESOLVED' do nothing returning *`,
    [alert.ruleId, alert.service, alert.status, alert.severity, alert.value, alert.now, alert.firedAt, alert.now, JSON.stringify(alert.labels)],
  );
  return row ? alertFromRow(row) : null;
}

export async function setAlertFiring(tx: Queryable, id: string, value: number, now: Date): Promise<Alert> {
  const [row] = await tx.execute(`update alerts set status = 'FIRING', fired_at = ?, value = ?, updated_at = ? where id = ? returning *`, [now, value, now, id]);
  return alertFromRow(row);
}

export async function setAlertResolved(tx: Queryable, id: string, now: Date): Promise<Alert> {
  const [row] = await tx.execute(`update alerts set status = 'RESOLVED', resolved_at = ?, updated_at = ? where id = ? returning *`, [now, now, id]);
  return alertFromRow(row);
}

export async function setAlertAcknowledged(tx: Queryable, id: string, userId: string): Promise<Alert> {
  const [row] = await tx.execute(
    `update alerts set status = 'ACKNOWLEDGED', acknowledged_at = now(), acknowledged_by = ?, updated_at = now() where id = ? returning *`,
    [userId, id],
  );
  return alertFromRow(row);
}

/** The rule's alerts not resolved, locked for this transaction. */
export async function lockOpenAlertsOf(tx: Queryable, ruleId: string): Promise<Alert[]> {
  return (await tx.execute(`select * from alerts where rule_id = ? and status <> 'RESOLVED' for update`, [ruleId])).map(alertFromRow);
}

export async function setAlertLabels(tx: Queryable, id: string, labels: Labels): Promise<void> {
  await tx.execute('update alerts set labels = ?::jsonb where id = ?', [JSON.stringify(labels), id]);
}

/** Alert rules: validation and CRUD (admin only). Deleting keeps the row for past alerts. */
import type { Context } from '../app/context.js';
import { requireRole, requireViewer, Role } from '../core/viewer.js';
import { isUniqueViolation, type EntityManager } from '../db/orm.js';
import { badInput, conflict, notFound } from '../core/errors.js';
import { mutate } from '../live/mutate.js';
import { codePoints } from '../core/text.js';
import { validateRuleLabels, type Labels } from './labels.js';
import * as rows from './rows.js';
import { relabelOpenAlerts, resolveOpenAlerts } from './state.js';
import { Severity, type AlertRule, type AlertRuleInput } from './types.js';

export const COMPARATORS = ['>', '>=', '<', '<=', '==', '!='] as const;
export type Comparator = (typeof COMPARATORS)[number];
const MAX_TEXT = 200;
const MAX_FOR_SECONDS = 7 * 24 * 3600;

export function breaches(comparator: string, value: number, threshold: number): boolean {
  switch (comparator as Comparator) {
    case '>': return value > threshold;
    case '>=': return value >= threshold;
    case '<': return value < threshold;
    case '<=': return value <= threshold;
    case '==': return value === threshold;
    case '!=': return value !== threshold;
    default: return false;
  }
}

interface ValidRule {
  name: string;
  metric: string;
  service: string | null;
  comparator: Comparator;
  threshold: number;
  forSeconds: number;
  severity: Severity;
  enabled: boolean;
  /** undefined: unchanged (on update) */
  labels?: Labels;
  summary?: string | null;
  runbookUrl?: string | null;
}

function runbook(value: string | null | undefined): string | null | undefined {
  if (value === undefined) return undefined;
  const url = text('runbookUrl', value, true);
  if (url === null) return null;
  let parsed: URL | null = null;
  try {
    parsed = new URL(url);
  } catch { /* refused below */ }
  if (!parsed || !['http:', 'https:'].includes(parsed.protocol)) throw badInput('runbookUrl must be an http or https URL', { field: 'runbookUrl' });
  return url;
}

function text(field: string, value: string | null | undefined, optional = false): string | null {
  const trimmed = value?.trim() ?? '';
  if (!trimmed) {
    if (optional) return null;
    throw badInput(`${field} must not be empty`, { field });
  }
  if (codePoints(trimmed) > MAX_TEXT) throw badInput(`${field} is longer than ${MAX_TEXT} characters`, { field });
  return trimmed;
}

export function validateRule(input: AlertRuleInput): ValidRule {
  if (!COMPARATORS.includes(input.comparator as Comparator)) {
    throw badInput(`comparator must be one of ${COMPARATORS.join(' ')}`, { field: 'comparator' });
  }
  if (!Number.isFinite(input.threshold)) throw badInput('threshold must be a finite number', { field: 'threshold' });
  const forSeconds = input.forSeconds ?? 0;
  if (!Number.isInteger(forSeconds) || forSeconds < 0 || forSeconds > MAX_FOR_SECONDS) {
    throw badInput(`forSeconds must be 0 to ${MAX_FOR_SECONDS}`, { field: 'forSeconds' });
  }
  if (!Object.values(Severity).includes(input.severity)) throw badInput('unknown severity', { field: 'severity' });
  return {
    name: text('name', input.name)!,
    metric: text('metric', input.metric)!,
    service: text('service', input.service, true),
    comparator: input.comparator as Comparator,
    threshold: input.threshold,
    forSeconds,
    severity: input.severity,
    enabled: input.enabled ?? true,
    labels: input.labels === undefined || input.labels === null ? undefined : validateRuleLabels('labels', input.labels),
    summary: input.summary === undefined ? undefined : text('summary', input.summary, true),
    runbookUrl: runbook(input.runbookUrl),
  };
}


function uniqueName<T>(work: Promise<T>, name: string): Promise<T> {
  return work.catch((error) => {
    if (isUniqueViolation(error)) throw conflict(`An alert rule named "${name}" exists`);
    throw error;
  });
}

/** Rules kept at once: every evaluation reads them all, and `alertRules` lists them unpaged. */
export const MAX_ALERT_RULES = 1_000;

export async function listRules(ctx: Context): Promise<AlertRule[]> {
  requireViewer(ctx.viewer);
  return rows.liveRules(ctx.em, MAX_ALERT_RULES);
}

export async function createRule(ctx: Context, input: AlertRuleInput): Promise<AlertRule> {
  requireRole(ctx.viewer, Role.ADMIN);
  const rule = validateRule(input);
  return uniqueName(
    mutate(ctx, async (tx) => {
      if ((await rows.liveRuleCount(tx)) >= MAX_ALERT_RULES) throw conflict(`At most ${MAX_ALERT_RULES} alert rules; delete one first`);
      return rows.insertRule(tx, { ...rule, labels: rule.labels ?? {}, summary: rule.summary ?? null, runbookUrl: rule.runbookUrl ?? null });
    }),
    rule.name,
  );
}

async function lockRule(tx: EntityManager, id: string): Promise<AlertRule> {
  const rule = await rows.lockLiveRule(tx, id);
  if (!rule) throw notFound('Alert rule');
  return rule;
}

export async function updateRule(ctx: Context, id: string, input: AlertRuleInput): Promise<AlertRule> {
  requireRole(ctx.viewer, Role.ADMIN);
  const rule = validateRule(input);
  return uniqueName(
    mutate(ctx, async (tx, record) => {
      const before = await lockRule(tx, id);
      const updated = await rows.updateRuleRow(tx, id, {
        ...rule, labels: rule.labels ?? before.labels, summary: rule.summary === undefined ? before.summary : rule.summary,
        runbookUrl: rule.runbookUrl === undefined ? before.runbookUrl : rule.runbookUrl,
      });
      const conditionChanged = (['metric', 'service', 'comparator', 'threshold', 'forSeconds', 'severity', 'enabled'] as const)
        .some((key) => before[key] !== rule[key]);
      // Open alerts follow a renamed or relabelled rule (routes and silences match the new labels).
      if (!conditionChanged) await relabelOpenAlerts(tx, updated);
      // Alerts raised under the old condition end; the next evaluation reopens them if the new one holds.
      if (conditionChanged) await resolveOpenAlerts(tx, ctx.app.config, record, id);
      return updated;
    }),
    rule.name,
  );
}

export async function deleteRule(ctx: Context, id: string): Promise<void> {
  requireRole(ctx.viewer, Role.ADMIN);
  await mutate(ctx, async (tx, record) => {
    await lockRule(tx, id);
    await rows.markRuleDeleted(tx, id);
    await resolveOpenAlerts(tx, ctx.app.config, record, id);
  });
}

/**
 * Alert labels: every alert carries `severity`, `service`, `metric` and `rule` (the rule's
 * name) plus its rule's own labels, as they were when it opened (or the rule was last renamed).
 */
import { badInput } from '../core/errors.js';
import { codePoints } from '../core/text.js';

export type Labels = Record<string, string>;
export const BUILT_IN_LABELS = ['severity', 'service', 'metric', 'rule'] as const;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]{0,62}$/;
const MAX_LABELS = 20;
const MAX_VALUE = 200;

/** A rule's own labels, checked: names like Prometheus', string values, none of the built-in names. */
export function validateRuleLabels(field: string, value: unknown): Labels {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw badInput(`${field} must be an object of label names to string values`, { field });
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length > MAX_LABELS) throw badInput(`${field} has more than ${MAX_LABELS} labels`, { field });
  const labels: Labels = {};
  for (const [name, label] of entries) {
    const at = `${field}.${name}`;
    if (!LABEL_NAME.test(name)) throw badInput(`${at}: a label name is a letter or _ followed by letters, digits or _ (at most 63)`, { field: at });
    if ((BUILT_IN_LABELS as readonly string[]).includes(name)) throw badInput(`${at}: ${name} is set by the alert itself`, { field: at });
    if (typeof label !== 'string') throw badInput(`${at} must be a string`, { field: at });
    if (codePoints(label) > MAX_VALUE) throw badInput(`${at} is longer than ${MAX_VALUE} characters`, { field: at });
    labels[name] = label;
  }
  return labels;
}

/** The labels an alert opens with; the built-in ones win over a rule's own. */
export function alertLabels(rule: { name: string; metric: string; severity: string; labels: Labels }, service: string): Labels {
  return { ...rule.labels, severity: rule.severity, service, metric: rule.metric, rule: rule.name };
}

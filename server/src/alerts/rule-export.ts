/**
 * The alert rules as an export (`/api/export/alert-rules.csv`): the `alertRules` field, oldest
 * first, every signed-in user (at most MAX_ALERT_RULES, one page). Its own file: the rule form
 * and templates change elsewhere in alerts/.
 */
import type { Context } from '../app/context.js';
import { toGlobalId } from '../core/ids.js';
import { listExport, type ExportList } from '../http/export.js';
import { listRules } from './rules.js';

export const alertRuleExport = (ctx: Context): ExportList => listExport(
  ['id', 'name', 'metric', 'service', 'comparator', 'threshold', 'forSeconds', 'severity', 'enabled', 'labels', 'summary', 'runbookUrl'],
  () => listRules(ctx),
  (rule) => ({ ...rule, id: toGlobalId('AlertRule', rule.id) }),
);

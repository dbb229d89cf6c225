/** The alerts list as an export (`/api/export/alerts.csv`): the `alerts` field's filter. */
import type { Context } from '../app/context.js';
import { toGlobalId } from '../core/ids.js';
import { MAX_PAGE_SIZE } from '../db/pagination.js';
import { connectionPages, enumList, type ExportList } from '../http/export.js';
import { listAlerts } from './service.js';
import { AlertStatus } from './types.js';

export function alertExport(ctx: Context): ExportList {
  return {
    columns: ['id', 'ruleId', 'service', 'status', 'severity', 'value', 'startedAt', 'firedAt', 'acknowledgedAt', 'resolvedAt'],
    async *pages(params) {
      const status = enumList(params, 'status', AlertStatus);
      for await (const page of connectionPages((after) => listAlerts(ctx, { first: MAX_PAGE_SIZE, after, status }))) {
        yield page.map((a) => ({ ...a, id: toGlobalId('Alert', a.id), ruleId: toGlobalId('AlertRule', a.ruleId) }));
      }
    },
  };
}

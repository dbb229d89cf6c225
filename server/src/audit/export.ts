/** The audit log as an export (`/api/export/audit.csv`): ADMIN only, the `auditLog` field's filters. */
import type { Context } from '../app/context.js';
import { toGlobalId } from '../core/ids.js';
import { MAX_PAGE_SIZE } from '../db/pagination.js';
import { connectionPages, type ExportList } from '../http/export.js';
import { listAuditLog } from './service.js';

export function auditExport(ctx: Context): ExportList {
  return {
    columns: ['id', 'at', 'actorId', 'credential', 'action', 'targetId', 'ip', 'details'],
    async *pages(params) {
      const filters = { actorId: params.get('actorId'), action: params.get('action'), targetId: params.get('targetId') };
      for await (const page of connectionPages((after) => listAuditLog(ctx, { first: MAX_PAGE_SIZE, after, ...filters }))) {
        yield page.map((e) => ({ ...e, id: toGlobalId('AuditEntry', e.id), actorId: e.actorId && toGlobalId('User', e.actorId) }));
      }
    },
  };
}

/** The incidents list as an export (`/api/export/incidents.csv`): the `incidents` field, newest first. */
import type { Context } from '../app/context.js';
import { toGlobalId } from '../core/ids.js';
import { MAX_PAGE_SIZE } from '../db/pagination.js';
import { connectionPages, type ExportList } from '../http/export.js';
import { listIncidents } from './service.js';

export function incidentExport(ctx: Context): ExportList {
  return {
    columns: ['id', 'title', 'status', 'impact', 'components', 'startedAt', 'resolvedAt'],
    async *pages() {
      for await (const page of connectionPages((after) => listIncidents(ctx, { first: MAX_PAGE_SIZE, after }))) {
        yield page.map((incident) => ({ ...incident, id: toGlobalId('Incident', incident.id) }));
      }
    },
  };
}

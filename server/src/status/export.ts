/** The incidents list as an export (`/api/export/incidents.csv`): the `incidents` field, newest first. */
import type { Context } from '../app/context.js';
import { toGlobalId } from '../core/ids.js';
import { MAX_PAGE_SIZE } from '../db/pagination.js';
import { connectionExport, type ExportList } from '../http/export.js';
import { listIncidents } from './service.js';

export const incidentExport = (ctx: Context): ExportList => connectionExport(
  ['id', 'title', 'status', 'impact', 'components', 'startedAt', 'resolvedAt'],
  (after) => listIncidents(ctx, { first: MAX_PAGE_SIZE, after }),
  (incident) => ({ ...incident, id: toGlobalId('Incident', incident.id) }),
);

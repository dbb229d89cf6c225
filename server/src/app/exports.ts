/** The lists `GET /api/export/<name>.csv|json` serves (http/export.ts streams them). */
import { alertExport } from '../alerts/export.js';
import { auditExport } from '../audit/export.js';
import type { ExportList } from '../http/export.js';
import { metricExport } from '../metrics/export.js';
import { slowQueryExport } from '../observability/export.js';
import { scheduleExport } from '../schedules/export.js';
import { incidentExport } from '../status/export.js';
import { templateExport } from '../templates/export.js';
import { queueExport, taskExport, workflowExport } from '../workflows/export.js';
import type { Context } from './context.js';

export const EXPORTS: Record<string, (ctx: Context) => ExportList> = {
  workflows: workflowExport,
  alerts: alertExport,
  audit: auditExport,
  metrics: metricExport,
  tasks: taskExport,
  queues: queueExport,
  incidents: incidentExport,
  'slow-queries': slowQueryExport,
  templates: templateExport,
  schedules: scheduleExport,
};

export const EXPORT_PATH = /^\/api\/export\/([a-z][a-z-]*)\.(csv|json)$/;

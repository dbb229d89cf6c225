/** The lists `GET /api/export/<name>.csv|json` serves (http/export.ts streams them). */
import { alertExport } from '../alerts/export.js';
import { contactPointExport } from '../alerts/notifications/export.js';
import { inhibitionExport, maintenanceWindowExport, routeExport, silenceExport } from '../alerts/routing/export.js';
import { alertRuleExport } from '../alerts/rule-export.js';
import { auditExport } from '../audit/export.js';
import type { ExportList } from '../http/export.js';
import { metricExport } from '../metrics/export.js';
import { slowQueryExport } from '../observability/export.js';
import { reportExport } from '../reports/export.js';
import { scheduleExport, scheduleRunExport } from '../schedules/export.js';
import { incidentExport } from '../status/export.js';
import { templateExport, templateVersionExport } from '../templates/export.js';
import { queueExport, taskExport, taskRunExport, workflowExport } from '../workflows/export.js';
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
  'schedule-runs': scheduleRunExport,
  'template-versions': templateVersionExport,
  'task-runs': taskRunExport,
  'alert-rules': alertRuleExport,
  routes: routeExport,
  silences: silenceExport,
  'maintenance-windows': maintenanceWindowExport,
  inhibitions: inhibitionExport,
  'contact-points': contactPointExport,
  report: reportExport,
};

export const EXPORT_PATH = /^\/api\/export\/([a-z][a-z-]*)\.(csv|json)$/;

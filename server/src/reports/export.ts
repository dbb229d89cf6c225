/**
 * The operations report as an export (`/api/export/report.csv?from=…&to=…`): admins only, as
 * `operationsReport(from, to)`. One table: a row per figure (section `summary`), per capacity
 * forecast (`capacity`: metric, service, current value, threshold, days until it) and per slow
 * statement (`slow_query`: statement, mean ms, calls).
 */
import type { Context } from '../app/context.js';
import { badInput } from '../core/errors.js';
import { requireRole, Role } from '../core/viewer.js';
import { dateParam, type ExportList } from '../http/export.js';
import { operationsReport } from './service.js';
import type { OperationsReport } from './types.js';

const FIGURES = [
  'from', 'to', 'errorRatePercent', 'p95Ms', 'p95TrendPercent', 'alertsOpened', 'meanTimeToAcknowledgeSeconds', 'meanTimeToResolveSeconds',
  'diskPercent', 'workflowsSucceeded', 'workflowsFailed',
] as const satisfies ReadonlyArray<keyof OperationsReport>;

function date(params: URLSearchParams, name: string): Date {
  const value = dateParam(params, name);
  if (!value) throw badInput(`${name}: where the report ${name === 'from' ? 'starts' : 'ends'}`, { field: name });
  return value;
}

/** The report's rows, in the export's columns. */
export function reportRows(report: OperationsReport): object[] {
  return [
    ...FIGURES.map((name) => ({ section: 'summary', name, value: report[name] })),
    ...report.capacity.map((c) => ({ section: 'capacity', name: c.metric, service: c.service, value: c.current, threshold: c.threshold, daysUntilThreshold: c.daysUntilThreshold })),
    ...report.slowQueries.map((q) => ({ section: 'slow_query', name: q.query, value: q.meanMs, calls: q.calls })),
  ];
}

export function reportExport(ctx: Context): ExportList {
  return {
    columns: ['section', 'name', 'service', 'value', 'threshold', 'daysUntilThreshold', 'calls'],
    async *pages(params) {
      requireRole(ctx.viewer, Role.ADMIN);
      yield reportRows(await operationsReport(ctx, date(params, 'from'), date(params, 'to')));
    },
    filename: (params) => `operations-report-${date(params, 'from').toISOString().slice(0, 10)}-to-${date(params, 'to').toISOString().slice(0, 10)}`,
  };
}

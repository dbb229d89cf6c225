/**
 * A metric series as an export (`/api/export/metrics.csv?name=…&from=…`): the `metricSeries`
 * field's arguments and its bound (at most 100,000 points, one page), not raw samples.
 */
import type { Context } from '../app/context.js';
import { badInput } from '../core/errors.js';
import { enumList, type ExportList } from '../http/export.js';
import { metricSeries } from './series.js';
import { MetricAggregate } from './types.js';

function date(params: URLSearchParams, name: string): Date | null {
  const given = params.get(name);
  if (given === null || given === '') return null;
  const value = new Date(given);
  if (Number.isNaN(value.getTime())) throw badInput(`${name}: not a date-time (ISO 8601, e.g. 2026-12-01T00:00:00Z)`, { field: name });
  return value;
}

export function metricExport(ctx: Context): ExportList {
  return {
    columns: ['name', 'service', 'instance', 'time', 'value'],
    async *pages(params) {
      const name = params.get('name');
      if (!name) throw badInput('name: which metric to export', { field: 'name' });
      const from = date(params, 'from');
      if (!from) throw badInput('from: where the range starts', { field: 'from' });
      const bucket = params.get('bucketSeconds');
      const bucketSeconds = bucket === null || bucket === '' ? null : Number(bucket);
      const [aggregate = null] = enumList(params, 'aggregate', MetricAggregate) ?? [];
      yield await metricSeries(ctx, { name, service: params.get('service'), instance: params.get('instance'), from, to: date(params, 'to'), bucketSeconds, aggregate });
    },
  };
}

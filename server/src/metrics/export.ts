/**
 * A metric series as an export (`/api/export/metrics.csv?name=…&from=…`): the `metricSeries`
 * field's arguments and its bound (at most 100,000 points, one page), not raw samples.
 */
import type { Context } from '../app/context.js';
import { badInput } from '../core/errors.js';
import { dateParam as date, enumList, type ExportList } from '../http/export.js';
import { metricSeries } from './series.js';
import { MetricAggregate } from './types.js';

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

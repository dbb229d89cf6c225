/**
 * The slow-queries view as an export (`/api/export/slow-queries.csv?since=…`): ADMIN only, the
 * `slowQueries(limit, since)` field (at most 100 statements, one page), with the trend columns.
 */
import type { Context } from '../app/context.js';
import { dateParam, type ExportList } from '../http/export.js';
import { MAX_SLOW_QUERIES, slowQueries } from './slow-queries.js';

export function slowQueryExport(ctx: Context): ExportList {
  return {
    columns: ['queryId', 'query', 'calls', 'meanMs', 'maxMs', 'totalMs', 'rows', 'callsSince', 'meanMsSince', 'previousMeanMs', 'changePercent'],
    async *pages(params) {
      const since = dateParam(params, 'since');
      const limit = params.get('limit') ? Number(params.get('limit')) : MAX_SLOW_QUERIES;
      const rows = await slowQueries(ctx, limit, since);
      yield rows.map(({ trend, ...q }) => ({ ...q, callsSince: trend?.calls, meanMsSince: trend?.meanMs, previousMeanMs: trend?.previousMeanMs, changePercent: trend?.changePercent }));
    },
  };
}

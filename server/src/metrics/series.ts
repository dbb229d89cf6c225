/** Reading metrics back: the names in use, and series bucketed in the database. */
import type { Context } from '../context.js';
import { requireViewer } from '../platform/auth.js';
import type { EntityManager } from '../platform/db.js';
import { badInput } from '../platform/errors.js';
import { toDate } from '../platform/sql.js';
import { MetricAggregate, type MetricPoint, type MetricSeriesArgs } from './types.js';

const DEFAULT_BUCKETS = 1_000;
const MAX_BUCKETS = 10_000;
const MAX_POINTS = 100_000;

const AGGREGATES: Record<MetricAggregate, string> = {
  [MetricAggregate.AVG]: 'avg(value)',
  [MetricAggregate.MIN]: 'min(value)',
  [MetricAggregate.MAX]: 'max(value)',
  [MetricAggregate.P95]: 'percentile_cont(0.95) within group (order by value)',
};

/** Distinct names by skipping through the (name, …) index, not by scanning every sample. */
export async function metricNames(em: EntityManager): Promise<string[]> {
  const rows: Array<{ name: string }> = await em.execute(
    `with recursive names as (
       (select name from metrics order by name limit 1)
       union all
       select (select m.name from metrics m where m.name > names.name order by m.name limit 1) from names where names.name is not null
     )
     select name from names where name is not null`,
  );
  return rows.map((r) => r.name);
}

export function bucketWidth(from: Date, to: Date, bucketSeconds: number | null | undefined): number {
  const rangeSeconds = (to.getTime() - from.getTime()) / 1000;
  if (!(rangeSeconds > 0)) throw badInput('from must be before to', { field: 'from' });
  if (bucketSeconds === null || bucketSeconds === undefined) return Math.max(1, Math.ceil(rangeSeconds / DEFAULT_BUCKETS));
  if (!Number.isInteger(bucketSeconds) || bucketSeconds < 1) throw badInput('bucketSeconds must be at least 1', { field: 'bucketSeconds' });
  if (rangeSeconds / bucketSeconds > MAX_BUCKETS) {
    throw badInput(`the range holds more than ${MAX_BUCKETS} buckets of ${bucketSeconds} s; widen bucketSeconds`, { field: 'bucketSeconds' });
  }
  return bucketSeconds;
}

/**
 * One point per bucket, service and instance, ordered by service, instance, time. Buckets
 * are aligned to multiples of their width since the epoch, so refreshing a chart keeps them.
 */
export async function metricSeries(ctx: Context, args: MetricSeriesArgs): Promise<MetricPoint[]> {
  requireViewer(ctx.viewer);
  const to = args.to ?? new Date();
  const width = bucketWidth(args.from, to, args.bucketSeconds);
  const filters = ['name = ?', 'time >= ?', 'time < ?'];
  const params: unknown[] = [args.name, args.from, to];
  if (args.service) {
    filters.push('service = ?');
    params.push(args.service);
  }
  if (args.instance) {
    filters.push('instance = ?');
    params.push(args.instance);
  }
  const rows: Array<Record<string, any>> = await ctx.em.execute(
    `select to_timestamp(floor(extract(epoch from time) / ?) * ?) as bucket, service, instance,
            ${AGGREGATES[args.aggregate ?? MetricAggregate.AVG]} as value
       from metrics where ${filters.join(' and ')}
      group by 1, service, instance
      order by service, instance nulls first, bucket
      limit ?`,
    [width, width, ...params, MAX_POINTS + 1],
  );
  if (rows.length > MAX_POINTS) throw badInput(`more than ${MAX_POINTS} points; narrow the range or widen bucketSeconds`);
  return rows.map((row) => ({ name: args.name, service: row.service, instance: row.instance, time: toDate(row.bucket), value: Number(row.value) }));
}

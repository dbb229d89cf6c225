/** Reading metrics back: the names in use, and series bucketed in the database. */
import type { Context } from '../app/context.js';
import { requireViewer } from '../core/viewer.js';
import { inTransaction, type EntityManager } from '../db/orm.js';
import { badInput } from '../core/errors.js';
import { MetricAggregate, type MetricPoint, type MetricSeriesArgs } from './types.js';
import { rollupTable, TIER_SECONDS, TIERS, watermarks, type Tier, type Watermarks } from './rollups.js';

const DEFAULT_BUCKETS = 1_000;
const MAX_BUCKETS = 10_000;
export const MAX_POINTS = 100_000;
/** work_mem of a series read (its own transaction): room to hash and sort MAX_POINTS groups in memory */
const SERIES_WORK_MEM = '64MB';
/** metricNames lists this many at most (names are client-chosen, so unbounded otherwise) */
export const MAX_METRIC_NAMES = 1_000;

/** How the per-source rows (one per sample, or one per rollup bucket) of one bucket become its value. */
const AGGREGATES: Record<MetricAggregate, string> = {
  [MetricAggregate.AVG]: 'sum(sum) / sum(samples)',
  [MetricAggregate.MIN]: 'min(min)',
  [MetricAggregate.MAX]: 'max(max)',
  // Each bucket holds either raw samples (p95 = the value) or exactly one rollup bucket (its
  // own exact p95), never both: see `planSeries`.
  [MetricAggregate.P95]: 'percentile_cont(0.95) within group (order by p95)',
};

/** One stretch of a series and where it is read from. */
export interface Segment {
  tier: Tier | 'raw';
  from: Date;
  to: Date;
}

/**
 * Which tier serves which part of [from, to) at bucket width `width`. The oldest part comes
 * from the coarsest tier that can answer exactly (the width is a whole number of its buckets;
 * for P95, exactly one), up to its watermark; then the finer tier up to its own; then raw
 * samples up to `to`. Seams fall on tier boundaries, which are bucket boundaries for every width
 * a tier serves, and the stretches touch: nothing is counted twice or left out. When a tier is
 * used, `from` is moved back to its bucket's start so the first bucket is whole (tier buckets
 * cannot be split).
 */
export function planSeries(from: Date, to: Date, width: number, aggregate: MetricAggregate, marks: Watermarks): Segment[] {
  // the day tier keeps no p95
  const usable = (tier: Tier) => width % TIER_SECONDS[tier] === 0
    && (aggregate !== MetricAggregate.P95 || (tier !== 'day' && width === TIER_SECONDS[tier]));
  const segments: Segment[] = [];
  let cursor = Math.floor(from.getTime() / (width * 1000)) * width * 1000;
  for (const tier of [...TIERS].reverse()) {
    const mark = marks[tier];
    if (!mark || !usable(tier)) continue;
    const tierMs = TIER_SECONDS[tier] * 1000;
    const end = Math.min(mark.getTime(), Math.floor(to.getTime() / tierMs) * tierMs);
    if (end <= cursor) continue;
    segments.push({ tier, from: new Date(cursor), to: new Date(end) });
    cursor = end;
  }
  if (segments.length === 0) cursor = from.getTime();
  if (to.getTime() > cursor) segments.push({ tier: 'raw', from: new Date(cursor), to });
  return segments;
}

/** Distinct names by skipping through the (name, …) index, not by scanning every sample. */
export async function metricNames(em: EntityManager): Promise<string[]> {
  const rows: Array<{ name: string }> = await em.execute(
    `with recursive names as (
       (select name from metrics order by name limit 1)
       union all
       select (select m.name from metrics m where m.name > names.name order by m.name limit 1) from names where names.name is not null
     )
     select name from names where name is not null limit ?`,
    [MAX_METRIC_NAMES],
  );
  return rows.map((r) => r.name);
}

const roundUpTo = (value: number, step: number) => Math.ceil(value / step) * step;

/**
 * The bucket width: the caller's, or the range in at most 1,000 buckets, rounded up to whole
 * minutes (from 60 s), hours (from 1,800 s) or days (from 6 h: at most four times fewer buckets,
 * read from the day tier) so the rollups can serve it. A P95 over a range
 * that starts before the raw samples' retention takes exactly 60 s (when that makes at most
 * 10,000 buckets) or 3,600 s, the widths whose p95 the rollups keep.
 */
export function bucketWidth(from: Date, to: Date, bucketSeconds: number | null | undefined, aggregate = MetricAggregate.AVG, rawSince?: Date): number {
  const rangeSeconds = (to.getTime() - from.getTime()) / 1000;
  if (!(rangeSeconds > 0)) throw badInput('from must be before to', { field: 'from' });
  if (bucketSeconds === null || bucketSeconds === undefined) {
    const width = Math.max(1, Math.ceil(rangeSeconds / DEFAULT_BUCKETS));
    if (aggregate === MetricAggregate.P95 && rawSince && from < rawSince) return rangeSeconds / 60 <= MAX_BUCKETS ? 60 : 3600;
    // from six hours on, whole days (a year: 365 buckets, not 974 of 9 h): the day tier is 24× smaller than the hour tier
    if (width >= 6 * 3600) return roundUpTo(width, 86_400);
    // from half an hour on, whole hours (at most twice as few buckets): the hour tier is 60× smaller
    if (width >= 1800) return roundUpTo(width, 3600);
    return width >= 60 ? roundUpTo(width, 60) : width;
  }
  if (!Number.isInteger(bucketSeconds) || bucketSeconds < 1) throw badInput('bucketSeconds must be at least 1', { field: 'bucketSeconds' });
  if (rangeSeconds / bucketSeconds > MAX_BUCKETS) {
    throw badInput(`the range holds more than ${MAX_BUCKETS} buckets of ${bucketSeconds} s; widen bucketSeconds`, { field: 'bucketSeconds' });
  }
  return bucketSeconds;
}

/** The rows of one segment, as (time, service, instance, samples, sum, min, max, p95). */
function segmentSql(segment: Segment, args: MetricSeriesArgs, params: unknown[]): string {
  const raw = segment.tier === 'raw';
  const time = raw ? 'time' : 'bucket';
  const filters = ['name = ?', `${time} >= ?`, `${time} < ?`];
  params.push(args.name, segment.from, segment.to);
  if (args.service) {
    filters.push('service = ?');
    params.push(args.service);
  }
  if (args.instance) {
    filters.push('instance = ?');
    params.push(args.instance);
  }
  const columns = raw ? 'time, service, instance, 1 as samples, value as sum, value as min, value as max, value as p95' : 'bucket, service, instance, samples, sum, min, max, p95';
  return `select ${columns} from ${raw ? 'metrics' : rollupTable(segment.tier as Tier)} where ${filters.join(' and ')}`;
}

/** A point of `readSeries`: also how many raw samples its bucket holds, so buckets can be merged by weight. */
export interface CountedPoint extends MetricPoint {
  samples: number;
}

/**
 * One point per bucket, service and instance, ordered by service, instance, time. Buckets
 * are aligned to multiples of their width since the epoch (a width of 86,400 s gives UTC
 * days), so refreshing a chart keeps them. Long ranges are read from the rollups (see
 * `planSeries`). No access check: callers decide who may read (`metricSeries`, the status page).
 * `mergeInstances`: one point per bucket and service (instance null), every instance's samples in it.
 */
export async function readSeries(em: EntityManager, args: MetricSeriesArgs, rawRetentionDays: number, now = new Date(), { mergeInstances = false } = {}): Promise<CountedPoint[]> {
  const to = args.to ?? now;
  const aggregate = args.aggregate ?? MetricAggregate.AVG;
  const rawSince = new Date(now.getTime() - rawRetentionDays * 86_400_000);
  const width = bucketWidth(args.from, to, args.bucketSeconds, aggregate, rawSince);
  const segments = planSeries(args.from, to, width, aggregate, await watermarks(em));
  const params: unknown[] = [width];
  const sources = segments.map((segment) => segmentSql(segment, args, params)).join('\n union all\n');
  params.push(MAX_POINTS + 1);
  // Up to MAX_POINTS groups are sorted for the answer: with the default 4 MB of work_mem a year
  // of 50 series at 9 h (48,700 groups from 438,000 hour rows) spilled its sort to disk.
  const rows: Array<{ ms: number; service: string; instance: string | null; value: number; samples: number }> = await inTransaction(em, async (tx) => {
    await tx.execute(`select set_config('work_mem', '${SERIES_WORK_MEM}', true)`);
    return tx.execute(
      // date_bin, not to_timestamp(floor(extract(epoch …))): extract returns numeric, ~3× slower over a year of rollups.
      // The bucket goes out as epoch ms in a float8 and the count as float8: parsed as plain numbers, not as a
      // timestamp text (pg's parser allocates a Date and matches regexes per row) or a numeric text.
      `select extract(epoch from bucket)::float8 * 1000 as ms, service, instance, value, samples from (
       select date_bin(make_interval(secs => ?), time, timestamptz 'epoch') as bucket, service, ${mergeInstances ? 'null::text' : 'instance'} as instance,
              (${AGGREGATES[aggregate]})::float8 as value, sum(samples)::float8 as samples
         from (${sources}) as source (time, service, instance, samples, sum, min, max, p95)
        group by 1, service${mergeInstances ? '' : ', instance'}
        order by service, instance nulls first, bucket
        limit ?) as points`,
      params,
    );
  });
  if (rows.length > MAX_POINTS) throw badInput(`more than ${MAX_POINTS} points; narrow the range or widen bucketSeconds`);
  // The series of one answer share their bucket times: one Date per time, not one per point.
  const times = new Map<number, Date>();
  const points: CountedPoint[] = new Array(rows.length);
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i];
    let time = times.get(row.ms);
    if (!time) times.set(row.ms, (time = new Date(row.ms)));
    points[i] = { name: args.name, service: row.service, instance: row.instance, time, value: row.value, samples: row.samples };
  }
  return points;
}

/** `readSeries` for a signed-in viewer. */
export async function metricSeries(ctx: Context, args: MetricSeriesArgs): Promise<MetricPoint[]> {
  requireViewer(ctx.viewer);
  return readSeries(ctx.em, args, ctx.app.config.metricRetentionDays);
}

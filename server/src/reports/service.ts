/**
 * The operations report: the guide's daily and weekly checklist (error rate, latency and its
 * trend, alerts and how fast they were handled, slow statements, disk, workflow outcomes) and
 * its monthly one (capacity: how many days until each alerting metric reaches its threshold).
 * Metric figures come from `readSeries` at one-hour buckets, so they cover whole hours (the
 * first from the hour `from` falls in) and read the rollups for ranges past the raw retention.
 */
import type { Context } from '../app/context.js';
import { badInput } from '../core/errors.js';
import { requireRole, Role } from '../core/viewer.js';
import type { EntityManager } from '../db/orm.js';
import { readSeries, type CountedPoint } from '../metrics/series.js';
import { MetricAggregate } from '../metrics/types.js';
import { readSlowQueries } from '../observability/slow-queries.js';
import { daysUntilThreshold, type Direction, type HourlyMean } from './forecast.js';
import { MAX_FORECASTS, REPORT_SLOW_QUERIES, type CapacityForecast, type OperationsReport } from './types.js';

/** The longest period a report covers: the hour rollups' default retention. */
export const MAX_REPORT_DAYS = 400;
const HOUR_SECONDS = 3600;
const SERVICE = 'api';

const COMPARATORS: Record<string, { direction: Direction; breaks: (value: number, threshold: number) => boolean }> = {
  '>': { direction: 'up', breaks: (v, t) => v > t },
  '>=': { direction: 'up', breaks: (v, t) => v >= t },
  '<': { direction: 'down', breaks: (v, t) => v < t },
  '<=': { direction: 'down', breaks: (v, t) => v <= t },
};

export interface ReportSettings {
  metricRetentionDays: number;
}

/** One point per hour and service, every instance merged. */
function hourly(em: EntityManager, settings: ReportSettings, name: string, service: string | null, from: Date, to: Date, now: Date): Promise<CountedPoint[]> {
  return readSeries(em, { name, service, from, to, bucketSeconds: HOUR_SECONDS, aggregate: MetricAggregate.AVG }, settings.metricRetentionDays, now, { mergeInstances: true });
}

/** The mean of every sample behind `points` (each point's mean weighted by its sample count). */
function meanOf(points: CountedPoint[]): number | null {
  const samples = points.reduce((n, p) => n + p.samples, 0);
  return samples ? points.reduce((sum, p) => sum + p.value * p.samples, 0) / samples : null;
}

const newest = (points: CountedPoint[]): number | null => (points.length ? points[points.length - 1].value : null);

async function capacity(em: EntityManager, settings: ReportSettings, from: Date, to: Date, now: Date): Promise<CapacityForecast[]> {
  const rules: Array<{ name: string; metric: string; service: string | null; comparator: string; threshold: number }> = await em.execute(
    `select name, metric, service, comparator, threshold from alert_rules
      where deleted_at is null and enabled and comparator in ('>', '>=', '<', '<=') and metric <> 'component_up'
      order by created_at, name`,
  );
  const reads = new Map<string, Promise<CountedPoint[]>>();
  const forecasts: CapacityForecast[] = [];
  for (const rule of rules) {
    const key = `${rule.metric}\u0000${rule.service ?? ''}`;
    if (!reads.has(key)) reads.set(key, hourly(em, settings, rule.metric, rule.service, from, to, now));
    const byService = new Map<string, HourlyMean[]>();
    for (const point of await reads.get(key)!) {
      byService.set(point.service, [...(byService.get(point.service) ?? []), { hour: point.time.getTime(), value: point.value }]);
    }
    const { direction, breaks } = COMPARATORS[rule.comparator];
    for (const [service, points] of byService) {
      if (forecasts.length >= MAX_FORECASTS) return forecasts;
      forecasts.push({
        metric: rule.metric, service, rule: rule.name, threshold: rule.threshold, current: points[points.length - 1].value,
        daysUntilThreshold: daysUntilThreshold(points, to.getTime(), rule.threshold, direction, (v) => breaks(v, rule.threshold)),
      });
    }
  }
  return forecasts;
}

/** The report over [from, to), no access check (the query checks; the weekly mail has no viewer). */
export async function buildOperationsReport(em: EntityManager, settings: ReportSettings, from: Date, to: Date, now = new Date()): Promise<OperationsReport> {
  if (!(from < to)) throw badInput('from must be before to', { field: 'from' });
  if (to.getTime() - from.getTime() > MAX_REPORT_DAYS * 86_400_000) throw badInput(`a report covers at most ${MAX_REPORT_DAYS} days`, { field: 'to' });
  const before = new Date(from.getTime() - (to.getTime() - from.getTime()));
  const [errors, p95, p95Before, disk, alerts, workflows, slowQueries, forecasts] = await Promise.all([
    hourly(em, settings, 'error_rate_percent', SERVICE, from, to, now),
    hourly(em, settings, 'response_time_p95_ms', SERVICE, from, to, now),
    hourly(em, settings, 'response_time_p95_ms', SERVICE, before, from, now),
    hourly(em, settings, 'disk_percent', SERVICE, from, to, now),
    em.execute(
      `select count(*)::int as opened,
              avg(extract(epoch from acknowledged_at - fired_at)) filter (where acknowledged_at is not null) as acknowledge,
              avg(extract(epoch from resolved_at - fired_at)) filter (where resolved_at is not null) as resolve
         from alerts where fired_at >= ? and fired_at < ?`, [from, to]),
    em.execute(
      `select count(*) filter (where status = 'SUCCEEDED')::int as succeeded, count(*) filter (where status = 'FAILED')::int as failed
         from workflows where finished_at >= ? and finished_at < ?`, [from, to]),
    // No pg_stat_statements (CONFLICT): the report goes out without them.
    readSlowQueries(em, REPORT_SLOW_QUERIES, from).catch((error) => {
      if ((error as { extensions?: { code?: string } }).extensions?.code === 'CONFLICT') return [];
      throw error;
    }),
    capacity(em, settings, from, to, now),
  ]);
  const p95Ms = meanOf(p95);
  const previous = meanOf(p95Before);
  const number = (value: unknown) => (value === null || value === undefined ? null : Number(value));
  return {
    from, to,
    errorRatePercent: meanOf(errors),
    p95Ms,
    p95TrendPercent: p95Ms !== null && previous ? ((p95Ms - previous) / previous) * 100 : null,
    alertsOpened: alerts[0].opened,
    meanTimeToAcknowledgeSeconds: number(alerts[0].acknowledge),
    meanTimeToResolveSeconds: number(alerts[0].resolve),
    slowQueries,
    diskPercent: newest(disk),
    capacity: forecasts,
    workflowsSucceeded: workflows[0].succeeded,
    workflowsFailed: workflows[0].failed,
  };
}

/** `operationsReport(from, to)`: admins (it lists statements, services and thresholds). */
export function operationsReport(ctx: Context, from: Date, to: Date): Promise<OperationsReport> {
  requireRole(ctx.viewer, Role.ADMIN);
  return buildOperationsReport(ctx.em, ctx.app.config, from, to);
}

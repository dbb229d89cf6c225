/**
 * The status page's components: what the health check sees now, and each day's uptime from the
 * `component_up` samples the alert evaluator records (alerts/evaluator.ts), read through the
 * metric rollups. Only names and up/down leave this file: no replica ids, instances, latencies
 * or error details.
 *
 * Replicas are grouped into one `api` component: the health report has `api` (the replica that
 * answers) and one `replica:<instance>` per heartbeat; `api` is up when every replica is,
 * degraded when some are down, and its uptime on a day is the share of all those samples
 * (every replica's, from every evaluator instance) that were up.
 */
import type { AppServices } from '../app/context.js';
import { badInput } from '../core/errors.js';
import type { EntityManager } from '../db/orm.js';
import { COMPONENT_METRIC } from '../alerts/evaluator.js';
import { checkHealth, REPLICA_PREFIX } from '../health/service.js';
import { readSeries } from '../metrics/series.js';
import { ComponentStatus, MAX_UPTIME_DAYS, type UptimeDay } from './types.js';

const DAY_MS = 86_400_000;

/** The status page component a health component (or `component_up` service) belongs to. */
export const componentOf = (name: string): string => (name.startsWith(REPLICA_PREFIX) ? 'api' : name);

/** The component names an incident may name: api, database and the configured optional checks. */
export function knownComponents(app: Pick<AppServices, 'healthChecks'>): string[] {
  return ['api', 'database', ...Object.keys(app.healthChecks.optional)];
}

export function checkedDays(days: number | null | undefined): number {
  const value = days ?? MAX_UPTIME_DAYS;
  if (!Number.isInteger(value) || value < 1 || value > MAX_UPTIME_DAYS) throw badInput(`days must be 1 to ${MAX_UPTIME_DAYS}`, { field: 'days' });
  return value;
}

/** The starts of the last `days` UTC days, today last. */
const dayStarts = (days: number, now: Date): number[] => {
  const today = Math.floor(now.getTime() / DAY_MS) * DAY_MS;
  return Array.from({ length: days }, (_, i) => today - (days - 1 - i) * DAY_MS);
};

export type Uptime = (component: string) => UptimeDay[];

/**
 * Uptime per component for the last `days` UTC days (today included, newest last): the
 * average of `component_up` per day, weighted by samples so merging replicas stays exact.
 */
export async function uptimeByComponent(em: EntityManager, rawRetentionDays: number, days: number, now = new Date()): Promise<Uptime> {
  const starts = dayStarts(days, now);
  const points = await readSeries(em, { name: COMPONENT_METRIC, from: new Date(starts[0]), to: now, bucketSeconds: 86_400 }, rawRetentionDays, now);
  const sums = new Map<string, { up: number; samples: number }>();
  for (const point of points) {
    const key = `${componentOf(point.service)}\n${point.time.getTime()}`;
    const day = sums.get(key) ?? { up: 0, samples: 0 };
    day.up += point.value * point.samples;
    day.samples += point.samples;
    sums.set(key, day);
  }
  return (component) => starts.map((start) => {
    const day = sums.get(`${component}\n${start}`);
    return { date: new Date(start).toISOString().slice(0, 10), upPercent: day?.samples ? (100 * day.up) / day.samples : null };
  });
}

/** How long a replica reuses the uptime it read: a status page is read most when something is wrong. */
const UPTIME_CACHE_MS = 60_000;
const uptimeCache = new WeakMap<AppServices, Map<string, { until: number; uptime: Promise<Uptime> }>>();

/** `uptimeByComponent`, read at most once a minute per replica and `days` (and again when the UTC day turns). */
function cachedUptime(app: AppServices, days: number, now: Date): Promise<Uptime> {
  const cache = uptimeCache.get(app) ?? new Map<string, { until: number; uptime: Promise<Uptime> }>();
  uptimeCache.set(app, cache);
  const key = `${days}:${Math.floor(now.getTime() / DAY_MS)}`;
  const hit = cache.get(key);
  if (hit && hit.until > now.getTime()) return hit.uptime;
  for (const [old, entry] of cache) if (entry.until <= now.getTime()) cache.delete(old);
  const uptime = uptimeByComponent(app.orm.em.fork() as EntityManager, app.config.metricRetentionDays, days, now);
  cache.set(key, { until: now.getTime() + UPTIME_CACHE_MS, uptime });
  uptime.catch(() => cache.delete(key));
  return uptime;
}

/** The components now, each able to give its uptime (up to a minute old, see `cachedUptime`). */
export async function currentComponents(app: AppServices, now = new Date()): Promise<ComponentStatus[]> {
  const health = await checkHealth(app, app.healthChecks);
  const history = (days: number) => cachedUptime(app, days, now);
  const statuses = new Map<string, string[]>();
  for (const component of health.components) {
    const name = componentOf(component.name);
    statuses.set(name, [...(statuses.get(name) ?? []), component.status]);
  }
  return [...statuses].map(([name, all]) => Object.assign(new ComponentStatus(), {
    name,
    status: all.every((s) => s === 'up') ? 'up' : all.some((s) => s === 'up') ? 'degraded' : 'down',
    history: async (days: number) => (await history(days))(name),
  }));
}

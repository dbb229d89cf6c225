/**
 * The key metrics the overview charts, with the operations guide's targets. Alert thresholds
 * come from the live alert rules, so a changed rule moves its line.
 */
import type { AlertRuleRowFragment, SeriesPointFragment } from '$lib/graphql/generated/graphql';

export interface KeyMetric {
  name: 'cpu_percent' | 'memory_percent' | 'response_time_p95_ms' | 'error_rate_percent' | 'db_connections_percent';
  title: string;
  unit: string;
  /** the guide's target: healthy below this */
  target: number;
}

export const KEY_METRICS: KeyMetric[] = [
  { name: 'cpu_percent', title: 'CPU', unit: '%', target: 50 },
  { name: 'memory_percent', title: 'Memory', unit: '%', target: 60 },
  { name: 'response_time_p95_ms', title: 'Response time (p95)', unit: 'ms', target: 500 },
  { name: 'error_rate_percent', title: 'Error rate', unit: '%', target: 0.1 },
  { name: 'db_connections_percent', title: 'Database connections (of pool)', unit: '%', target: 50 },
];

export interface Threshold {
  label: string;
  value: number;
  kind: 'target' | 'alert';
}

/** Target line plus one line per enabled rule on the metric that covers the service. */
export function thresholdsFor(metric: string, service: string | null, target: number | null, rules: AlertRuleRowFragment[]): Threshold[] {
  const lines: Threshold[] = target === null ? [] : [{ label: `target ${target}`, value: target, kind: 'target' }];
  for (const rule of rules) {
    if (!rule.enabled || rule.metric !== metric || (rule.service && service && rule.service !== service)) continue;
    lines.push({ label: `${rule.severity.toLowerCase()} alert ${rule.comparator} ${rule.threshold}`, value: rule.threshold, kind: 'alert' });
  }
  return lines;
}

export interface Series {
  label: string;
  points: { time: string; value: number }[];
}

/** One series per service and instance, labelled by what tells them apart. */
export function splitSeries(points: SeriesPointFragment[]): Series[] {
  const byKey = new Map<string, Series>();
  const services = new Set(points.map((p) => p.service));
  for (const point of points) {
    const label = services.size > 1 ? `${point.service}${point.instance ? ` · ${point.instance}` : ''}` : (point.instance ?? point.service);
    let series = byKey.get(label);
    if (!series) byKey.set(label, (series = { label, points: [] }));
    series.points.push({ time: point.time, value: point.value });
  }
  return [...byKey.values()];
}

export interface ShownSeries extends Series {
  /** its last point is old: the replica (or integration) stopped sending */
  stale: boolean;
}

/** A fitted range shows at least this much, so the first two samples are not stretched wide. */
const MIN_FITTED_SPAN_MS = 5 * 60_000;
/** Silent this long (or three of its usual gaps, for bucketed long ranges): stopped. */
const STALE_AFTER_MS = 2 * 60_000;

/**
 * What a chart over [from, to] shows: the series with points in that range, each marked stale
 * or live, and where the x axis starts — `from`, or the first point when the data begins well
 * after it (a fresh start: an hour-wide axis would show a few pixels of data).
 */
export function visibleSeries(series: Series[], from: number, to: number): { series: ShownSeries[]; from: number; fitted: boolean } {
  const shown = series.flatMap((s) => {
    const points = s.points.filter((p) => Date.parse(p.time) >= from && Date.parse(p.time) <= to).sort((a, b) => Date.parse(a.time) - Date.parse(b.time));
    if (points.length === 0) return [];
    const times = points.map((p) => Date.parse(p.time));
    const gaps = times.slice(1).map((t, i) => t - times[i]).sort((a, b) => a - b);
    const usualGap = gaps[Math.floor(gaps.length / 2)] ?? 0;
    return [{ label: s.label, points, stale: to - times.at(-1)! > Math.max(STALE_AFTER_MS, 3 * usualGap) }];
  });
  const earliest = Math.min(...shown.map((s) => Date.parse(s.points[0].time)));
  const fitted = shown.length > 0 && earliest - from > (to - from) / 10;
  return { series: shown, from: fitted ? Math.max(from, Math.min(earliest, to - MIN_FITTED_SPAN_MS)) : from, fitted };
}

export function formatValue(value: number | null | undefined, unit: string): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '—';
  // Three significant digits or so, grouped in the viewer's locale: 0.12, 12.3, 123, 123,457.
  const digits = Math.abs(value) >= 100 ? 0 : Math.abs(value) >= 10 ? 1 : 2;
  const number = value.toLocaleString(undefined, { minimumFractionDigits: digits, maximumFractionDigits: digits });
  return `${number}${unit === '%' ? ' %' : unit ? ` ${unit}` : ''}`;
}

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

export function formatValue(value: number | null | undefined, unit: string): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '—';
  const digits = Math.abs(value) >= 100 ? 0 : Math.abs(value) >= 10 ? 1 : 2;
  return `${value.toFixed(digits)}${unit === '%' ? ' %' : unit ? ` ${unit}` : ''}`;
}

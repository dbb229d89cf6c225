/**
 * `healthChanged`: the current health first, then each change the alert evaluator (one
 * replica, every `ALERT_EVAL_INTERVAL_SECONDS`) publishes when a component changes status,
 * and this replica's own health when the database becomes unreachable or reachable again
 * (the evaluator cannot run without it).
 */
import type { Context } from '../app/context.js';
import { AsyncQueue } from '../core/async-queue.js';
import { requireViewer } from '../core/viewer.js';
import { oncePerMessage } from '../live/bus/bus.js';
import { checkHealth } from './service.js';
import type { Health } from './types.js';

/** `Health` as JSON, so it crosses Redis unchanged: times are ISO strings. */
export interface HealthReport {
  status: string;
  instance: string;
  checkedAt: string;
  components: Array<{ name: string; status: string; latencyMs: number | null; detail: string | null }>;
}

declare module '../live/bus/bus.js' {
  interface Topics {
    /** the cluster's health, published by the alert evaluator when a component changes */
    health: HealthReport;
  }
}

const healthOf = oncePerMessage((report: HealthReport): Health => ({ ...report, checkedAt: new Date(report.checkedAt) }));

export function followHealth(ctx: Context): AsyncIterableIterator<Health> {
  requireViewer(ctx.viewer);
  const offs: Array<() => void> = [];
  const queue = new AsyncQueue<Health>({ limit: 100, onClose: () => offs.forEach((off) => off()) });
  const now = () => checkHealth(ctx.app, ctx.app.healthChecks).then((health) => queue.push(health), () => undefined);
  offs.push(ctx.app.bus.on('health', (report) => queue.push(healthOf(report))), ctx.app.outage.onChange(now));
  now();
  return queue;
}

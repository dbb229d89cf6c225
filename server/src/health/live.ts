/**
 * `healthChanged`: the current health first, then each change the alert evaluator (one
 * replica, every `ALERT_EVAL_INTERVAL_SECONDS`) publishes when a component changes status.
 */
import type { Context } from '../context.js';
import { AsyncQueue } from '../platform/async-queue.js';
import { requireViewer } from '../platform/auth.js';
import { oncePerMessage, type HealthReport } from '../platform/pubsub.js';
import { checkHealth } from './service.js';
import type { Health } from './types.js';

const healthOf = oncePerMessage((report: HealthReport): Health => ({ ...report, checkedAt: new Date(report.checkedAt) }));

export function followHealth(ctx: Context): AsyncIterableIterator<Health> {
  requireViewer(ctx.viewer);
  let off = (): void => undefined;
  const queue = new AsyncQueue<Health>({ limit: 100, onClose: () => off() });
  off = ctx.app.bus.on('health', (report) => queue.push(healthOf(report)));
  checkHealth(ctx.app, ctx.app.healthChecks).then((health) => queue.push(health), () => undefined);
  return queue;
}

/** `metricSampled`: samples as they are stored, on any replica, filtered by name and service. */
import type { Context } from '../context.js';
import { AsyncQueue } from '../platform/async-queue.js';
import { requireViewer } from '../platform/auth.js';
import { badInput } from '../platform/errors.js';
import { oncePerMessage, type MetricBatch } from '../platform/pubsub.js';
import type { MetricPoint } from './types.js';

// A subscriber far behind loses the oldest points (they are in `metricSeries` anyway).
const QUEUE_LIMIT = 10_000;
const MAX_NAMES = 100;

const pointsOf = oncePerMessage((batch: MetricBatch): MetricPoint[] => batch.points.map((point) => ({ ...point, time: new Date(point.time) })));

export function followMetricPoints(ctx: Context, names?: string[] | null, service?: string | null): AsyncIterableIterator<MetricPoint> {
  requireViewer(ctx.viewer);
  if (names && names.length > MAX_NAMES) throw badInput(`at most ${MAX_NAMES} names`, { field: 'names' });
  const wanted = names?.length ? new Set(names) : null;
  let off = (): void => undefined;
  const queue = new AsyncQueue<MetricPoint>({ limit: QUEUE_LIMIT, onClose: () => off() });
  off = ctx.app.bus.on('metrics', (batch) => {
    for (const point of pointsOf(batch)) {
      if (wanted && !wanted.has(point.name)) continue;
      if (service && point.service !== service) continue;
      queue.push(point);
    }
  });
  return queue;
}

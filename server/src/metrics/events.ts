/** `metricSampled`: samples as they are stored, on any replica, filtered by name and service. */
import type { Context } from '../app/context.js';
import { AsyncQueue } from '../core/async-queue.js';
import { requireViewer } from '../core/viewer.js';
import { badInput } from '../core/errors.js';
import { oncePerMessage } from '../live/bus/bus.js';
import type { MetricPoint } from './types.js';

/** Plain JSON, so a batch crosses Redis unchanged: times are ISO strings. */
export interface MetricBatch {
  points: Array<{ name: string; service: string; instance: string | null; time: string; value: number }>;
}

declare module '../live/bus/bus.js' {
  interface Topics {
    /** samples just stored, in batches (one sampler tick, one `recordMetrics` call) */
    metrics: MetricBatch;
  }
}

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

/**
 * The replica's background monitoring: self-sampling, metric retention, the alert evaluator
 * (one leader across replicas) and notification delivery (every replica). `stop()` ends them
 * all, waiting for work in flight, before the app closes its database pool.
 */
import { startEvaluator } from './alerts/evaluator.js';
import { startDelivery } from './alerts/notifications/outbox.js';
import type { AppServices } from './context.js';
import type { RequestStats } from './metrics/request-stats.js';
import { startRetention } from './metrics/retention.js';
import { startSampler } from './metrics/sampler.js';

export function startMonitoring(app: AppServices, requests: RequestStats, databaseUrl: string) {
  const sampler = startSampler(app, requests);
  const retention = startRetention(app);
  const delivery = startDelivery(app);
  const evaluator = startEvaluator(app, databaseUrl, delivery.poke);
  return {
    async stop() {
      await Promise.all([sampler.stop(), retention.stop(), evaluator.stop()]);
      await delivery.stop();
    },
  };
}

/**
 * The replica's background jobs: self-sampling, metric retention, the alert evaluator and the
 * expiry of lost task attempts (each one leader across replicas), notification delivery,
 * schedule firing (a slot's unique row keeps it to one run), delayed starts and the
 * database-down pager (every replica) and the weekly report mail (a slot's unique row again).
 * `stop()` ends them all, waiting for work in flight, before the app closes its database pool.
 */
import { startEvaluator } from '../alerts/evaluator.js';
import { startAuditRetention } from '../audit/service.js';
import { startIdempotencyPruning } from '../graphql/idempotency.js';
import { startDelivery } from '../alerts/notifications/outbox.js';
import { startDatabaseDownPager } from '../alerts/fallback/pager.js';
import type { AppServices } from './context.js';
import type { RequestStats } from '../metrics/request-stats.js';
import { startRetention } from '../metrics/retention.js';
import { startRollups } from '../metrics/rollups.js';
import { startSampler } from '../metrics/sampler.js';
import { startSlowQuerySnapshots } from '../observability/slow-queries.js';
import { startAttemptExpiry } from '../workflows/expiry.js';
import { startScheduleFiring } from '../schedules/firing.js';
import { startDelayedStarts } from '../workflows/delayed-start.js';
import { startReportMail } from '../reports/mail.js';

/** `directUrl` reaches PostgreSQL without a transaction-mode pooler: the leader locks need a session. */
export function startMonitoring(app: AppServices, requests: RequestStats, directUrl: string) {
  const sampler = startSampler(app, requests);
  const retention = startRetention(app);
  const auditRetention = startAuditRetention(app);
  const idempotency = startIdempotencyPruning(app);
  const rollups = startRollups(app, directUrl);
  const snapshots = startSlowQuerySnapshots(app, directUrl);
  const delivery = startDelivery(app, app.senders);
  const evaluator = startEvaluator(app, directUrl, delivery.poke);
  const pager = startDatabaseDownPager(app, delivery.poke);
  const expiry = startAttemptExpiry(app, directUrl);
  const schedules = startScheduleFiring(app);
  const delayedStarts = startDelayedStarts(app);
  const reportMail = startReportMail(app);
  return {
    async stop() {
      await Promise.all([sampler.stop(), retention.stop(), auditRetention.stop(), idempotency.stop(), rollups.stop(), snapshots.stop(), evaluator.stop(), pager.stop(), expiry.stop(), schedules.stop(), delayedStarts.stop(), reportMail.stop()]);
      await delivery.stop();
    },
  };
}

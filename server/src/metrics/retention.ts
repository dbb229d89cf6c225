/**
 * Retention: samples older than `METRIC_RETENTION_DAYS` are deleted, 1-minute and 1-hour
 * rollups older than `METRIC_ROLLUP_MINUTE_DAYS` and `METRIC_ROLLUP_HOUR_DAYS` (1-day rollups with the hours), and heartbeats of
 * replicas gone for a day are forgotten. Every replica tries now and then; a transaction
 * advisory lock lets one prune at a time while the others skip.
 */
import type { AppServices } from '../app/context.js';
import { inTransaction, type EntityManager } from '../db/orm.js';
import { repeat } from '../core/repeat.js';
import { deleteHeartbeatsOlderThan } from '../health/rows.js';
import { pruneRollups, type Tier } from './rollups.js';
import { ADVISORY_LOCKS } from '../db/advisory-locks.js';

const RETENTION_PERIOD_MS = 10 * 60_000;
const HEARTBEAT_FORGET_HOURS = 24;

/** Deletes what is past retention; null when another replica is pruning right now. */
export async function pruneMetrics(em: EntityManager, retentionDays: number, rollupDays?: Record<Tier, number>): Promise<number | null> {
  return inTransaction(em, async (tx) => {
    const [{ locked }] = await tx.execute('select pg_try_advisory_xact_lock(?) as locked', [ADVISORY_LOCKS.metricRetention]);
    if (!locked) return null;
    const deleted = await tx.execute(`delete from metrics where time < now() - make_interval(days => ?)`, [retentionDays], 'run');
    if (rollupDays) await pruneRollups(tx, rollupDays);
    await deleteHeartbeatsOlderThan(tx, HEARTBEAT_FORGET_HOURS);
    return (deleted as unknown as { affectedRows: number }).affectedRows;
  });
}

export function startRetention(app: AppServices) {
  return repeat('metric-retention', RETENTION_PERIOD_MS, async () => {
    const deleted = await pruneMetrics(app.orm.em.fork() as EntityManager, app.config.metricRetentionDays, {
      minute: app.config.metricRollupMinuteDays,
      hour: app.config.metricRollupHourDays,
      day: app.config.metricRollupHourDays,
    });
    if (deleted) app.logger.info({ deleted }, 'pruned old metric samples');
  }, app);
}

/**
 * Keeps the `events` table to its retention window. Every replica runs the timer; a
 * transaction-scoped advisory lock makes sure only one of them prunes at a time.
 */
import type { EntityManager } from '../db/orm.js';
import type { Logger } from '../core/logger.js';
import { ADVISORY_LOCKS } from '../db/advisory-locks.js';


/**
 * Deletes events older than `retentionHours`. Returns how many were deleted, or null when
 * another replica is pruning right now.
 */
export async function pruneExpiredEvents(em: EntityManager, retentionHours: number): Promise<number | null> {
  return em.fork().transactional(async (tx) => {
    const [{ locked }] = await tx.execute('select pg_try_advisory_xact_lock(?) as locked', [ADVISORY_LOCKS.eventPrune]);
    if (!locked) return null;
    const [{ deleted }] = await tx.execute(
      'with gone as (delete from events where created_at < now() - make_interval(hours => ?) returning 1) select count(*)::int as deleted from gone',
      [retentionHours],
    );
    return deleted as number;
  });
}

/** Prunes now and then every `intervalMs`; returns the function that stops it. */
export function schedulePruning(em: EntityManager, retentionHours: number, intervalMs: number, logger: Logger): () => void {
  const prune = () =>
    pruneExpiredEvents(em, retentionHours).then(
      (deleted) => deleted && logger.info({ deleted }, 'pruned expired events'),
      (error) => logger.warn({ err: error }, 'could not prune events'),
    );
  void prune();
  const timer = setInterval(prune, intervalMs).unref();
  return () => clearInterval(timer);
}

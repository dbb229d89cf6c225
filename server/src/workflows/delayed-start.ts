/**
 * Delayed starts (startWorkflow(id, at)): every replica looks every SCHEDULER_INTERVAL_MS for
 * DRAFT workflows whose `scheduled_for` has come and starts each in its own transaction, taken
 * with `FOR UPDATE SKIP LOCKED` so two replicas never start one twice (the start itself refuses
 * anything but DRAFT). The time is stored, so a restart, or every replica down for a while,
 * only makes the start late, never lost; a cancelled or deleted workflow is simply not found.
 */
import type { AppServices } from '../app/context.js';
import { repeat } from '../core/repeat.js';
import type { EntityManager } from '../db/orm.js';
import { mutate } from '../live/mutate.js';
import * as lifecycle from './lifecycle.js';
import { workflowFromRow } from './loaders.js';

/** Starts per look at most; more due ones are taken at once by the next look. */
const BATCH = 500;

/** Starts every workflow due at `now` (up to one batch); returns how many it started and whether more are due. */
export async function startDueWorkflows(app: Pick<AppServices, 'orm' | 'bus'>, now = new Date()): Promise<{ started: number; more: boolean }> {
  const em = app.orm.em.fork() as EntityManager;
  for (let started = 0; started < BATCH; started++) {
    const done = await mutate({ em: em.fork() as EntityManager, app }, async (tx, record) => {
      const [row] = await tx.execute(
        `select * from workflows where status = 'DRAFT' and scheduled_for <= ? order by scheduled_for limit 1 for update skip locked`,
        [now],
      );
      if (!row) return false;
      await lifecycle.startWorkflow(tx, workflowFromRow(row), record);
      return true;
    });
    if (!done) return { started, more: false };
  }
  return { started: BATCH, more: true };
}

export function startDelayedStarts(app: AppServices) {
  const job = repeat('delayed-starts', app.config.schedulerIntervalMs, async () => {
    const { started, more } = await startDueWorkflows(app);
    if (started) app.logger.debug({ started }, 'started delayed workflows');
    if (more) job.poke();
  }, app);
  return job;
}

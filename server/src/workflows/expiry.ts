/**
 * Attempts whose worker is gone: one replica at a time (the holder of the expiry lock,
 * db/leader.ts) looks every TASK_EXPIRY_INTERVAL_MS (1 s) for RUNNING attempts whose lease lapsed (LOST) or that ran
 * past their timeoutSeconds (TIMED_OUT) and ends each as a failed attempt (lifecycle.ts): READY
 * again while attempts remain, else FAILED. Each in its own transaction, with its events, so
 * subscribers hear of it like any other change; nothing stays RUNNING forever.
 * Every STRANDED_SWEEP_MS the leader also finishes workflows left active with no task to run:
 * a completion finishes its workflow after its commit (lifecycle.finishDoneWorkflows), and a
 * replica that died in between leaves it to this sweep.
 */
import type { AppServices } from '../app/context.js';
import { leadership } from '../db/leader.js';
import type { EntityManager } from '../db/orm.js';
import { repeat } from '../core/repeat.js';
import { mutate } from '../live/mutate.js';
import { lockWorkflowRow } from './access.js';
import { AttemptExpiry, expireAttempt, finishStrandedWorkflows } from './lifecycle.js';
import { taskFromRow } from './task-loaders.js';
import { ADVISORY_LOCKS } from '../db/advisory-locks.js';

/** Attempts ended per look. */
const BATCH = 200;
/** How often the leader looks for workflows left unfinished with every task done. */
export const STRANDED_SWEEP_MS = 10_000;

const TIMED_OUT = `t.timeout_seconds is not null and t.started_at + t.timeout_seconds * interval '1 second' <= now()`;

/** Ends every attempt due now (up to one batch; the rest at the next look); returns how many it ended. */
export async function expireDueAttempts(app: Pick<AppServices, 'orm' | 'bus'>): Promise<number> {
  const em = app.orm.em.fork() as EntityManager;
  const due: Array<{ id: string; workflow_id: string; attempts: number }> = await em.execute(
    `select t.id, t.workflow_id, t.attempts from tasks t
      where t.status = 'RUNNING' and (t.lease_expires_at <= now() or (${TIMED_OUT}))
      order by t.lease_expires_at limit ?`,
    [BATCH],
  );
  let ended = 0;
  for (const candidate of due) {
    const expired = await mutate({ em: em.fork() as EntityManager, app }, async (tx, record) => {
      const workflow = await lockWorkflowRow(tx, candidate.workflow_id);
      if (!workflow) return false;
      // Checked again under the locks: a heartbeat, completion or cancellation may have come first.
      const [row] = await tx.execute(
        `select t.*, case when ${TIMED_OUT} then 'TIMED_OUT' when t.lease_expires_at <= now() then 'LOST' end as expiry
           from tasks t where t.id = ? and t.status = 'RUNNING' and t.attempts = ? for update`,
        [candidate.id, candidate.attempts],
      );
      if (!row?.expiry) return false;
      await expireAttempt(tx, workflow, taskFromRow(row), row.expiry as AttemptExpiry, record);
      return true;
    });
    if (expired) ended++;
  }
  return ended;
}

/** Starts trying to lead; while leading, ends due attempts at every look. */
export function startAttemptExpiry(app: AppServices, directUrl: string) {
  const lock = leadership(directUrl, ADVISORY_LOCKS.taskExpiry, app.logger);
  let sweptAt = 0;
  const job = repeat('task-expiry', app.config.taskExpiryIntervalMs, async () => {
    if (!(await lock.isLeader())) return;
    const ended = await expireDueAttempts(app);
    if (ended) app.logger.info({ attempts: ended }, 'ended lost or timed-out task attempts');
    if (Date.now() - sweptAt >= STRANDED_SWEEP_MS) {
      sweptAt = Date.now();
      const finished = await finishStrandedWorkflows({ em: app.orm.em.fork() as EntityManager, app });
      if (finished.length) app.logger.warn({ workflows: finished.length }, 'finished workflows left active with every task done');
    }
  }, app);
  return {
    async stop() {
      await job.stop();
      await lock.release();
    },
  };
}

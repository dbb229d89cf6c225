/**
 * `taskCancelled(workerId:)`: a worker hears at once that the server stopped a task it runs —
 * cancelled, or its attempt ended LOST or TIMED_OUT by the expiry leader — instead of at its
 * next heartbeat. It follows the workflow events (the event log, so a change on any replica
 * reaches a worker connected to any other) for the TASK_UPDATED events that lifecycle.ts writes
 * when it stops a RUNNING attempt: they name the worker, the attempt and why.
 */
import type { Context } from '../app/context.js';
import { AsyncQueue } from '../core/async-queue.js';
import { badInput } from '../core/errors.js';
import { requireViewer } from '../core/viewer.js';
import { WorkflowEventKind } from './events.js';
import { TaskCancellation } from './task-entity.js';
import { validLabel, WORKER_LIMITS } from './validation.js';
import { workflowScope } from './visibility.js';

/** Cancellations held for a worker that does not read them; the oldest go first. */
const BUFFER = 1_000;

export async function followCancelledTasks(ctx: Context, workerId: string): Promise<AsyncIterableIterator<TaskCancellation>> {
  const viewer = requireViewer(ctx.viewer);
  const worker = validLabel(workerId, 'workerId', WORKER_LIMITS.workerIdLength);
  if (!worker) throw badInput('workerId must not be empty', { field: 'workerId' });
  const stream = await ctx.app.feed.follow('workflow', { filter: { ownerId: workflowScope(viewer) } });
  const queue = new AsyncQueue<TaskCancellation>({ limit: BUFFER, onClose: () => void stream.return?.() });
  void (async () => {
    try {
      for await (const event of stream) {
        const payload = event.payload as { taskStatus?: string; stoppedWorkerId?: string | null; stoppedAttempt?: number; stoppedReason?: string };
        if (event.kind !== WorkflowEventKind.TASK_UPDATED || payload.stoppedAttempt === undefined || payload.stoppedWorkerId !== worker) continue;
        // Events written before stops had reasons were cancellations.
        const reason = payload.stoppedReason ?? 'CANCELLED';
        queue.push(Object.assign(new TaskCancellation(), { taskId: event.taskId!, workflowId: event.workflowId!, attempt: payload.stoppedAttempt, reason }));
      }
    } catch (error) {
      ctx.app.logger.warn({ err: error }, 'taskCancelled lost its event stream');
    } finally {
      queue.close();
    }
  })();
  return queue;
}

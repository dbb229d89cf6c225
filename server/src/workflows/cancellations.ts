/**
 * `taskCancelled(workerId:)`: a worker hears at once that a task it runs was cancelled, instead
 * of at its next heartbeat. It follows the workflow events (the event log, so a cancellation on
 * any replica reaches a worker connected to any other) for the TASK_UPDATED events that
 * lifecycle.ts writes when a RUNNING task is cancelled: they name the worker and the attempt.
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
        const payload = event.payload as { taskStatus?: string; stoppedWorkerId?: string | null; stoppedAttempt?: number };
        if (event.kind !== WorkflowEventKind.TASK_UPDATED || payload.taskStatus !== 'CANCELLED' || payload.stoppedWorkerId !== worker) continue;
        queue.push(Object.assign(new TaskCancellation(), { taskId: event.taskId!, workflowId: event.workflowId!, attempt: payload.stoppedAttempt! }));
      }
    } catch (error) {
      ctx.app.logger.warn({ err: error }, 'taskCancelled lost its event stream');
    } finally {
      queue.close();
    }
  })();
  return queue;
}

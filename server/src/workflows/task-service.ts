/**
 * What workers and users do to tasks: claim the next READY one, complete or fail an attempt,
 * retry a finished task. Each checks who asks and locks what it changes; the transitions
 * themselves are lifecycle.ts.
 */
import type { Context } from '../app/context.js';
import { Role, requireWriter } from '../core/viewer.js';
import { workflowScope } from './visibility.js';
import { badInput } from '../core/errors.js';
import { mutate } from '../live/mutate.js';
import { truncate } from '../core/text.js';
import { lockTask } from './access.js';
import * as lifecycle from './lifecycle.js';
import { validQueue } from './validation.js';
import type { Task } from './task-entity.js';

const MAX_ERROR_LENGTH = 10_000;

/**
 * Hands the oldest READY task (of `queue`, if given) of an active workflow the viewer may
 * change to the calling worker. SKIP LOCKED means concurrent workers never get the same task.
 */
export async function claimTask(ctx: Context, queueName: string | null | undefined): Promise<Task | null> {
  const viewer = requireWriter(ctx.viewer);
  const queue = queueName == null ? null : validQueue(queueName, 'queue');
  const scope = viewer.role === Role.ADMIN ? null : workflowScope(viewer);
  return mutate(ctx, async (tx, record) => {
    const params: unknown[] = [];
    if (queue) params.push(queue);
    if (scope) params.push(scope);
    const [candidate] = await tx.execute(
      `select t.id, t.workflow_id from tasks t join workflows w on w.id = t.workflow_id
        where t.status = 'READY' and w.status in ('PENDING', 'RUNNING')
          ${queue ? 'and t.queue = ?' : ''} ${scope ? 'and w.owner_id = ?' : ''}
        order by t.ready_at, t.position
        limit 1
        for update of t skip locked`,
      params,
    );
    return candidate ? lifecycle.startAttempt(tx, candidate.id, record) : null;
  });
}

export async function completeTask(ctx: Context, taskId: string): Promise<Task> {
  const viewer = requireWriter(ctx.viewer);
  return mutate(ctx, async (tx, record) => {
    const { task, workflow } = await lockTask(tx, viewer, taskId);
    return lifecycle.completeAttempt(tx, workflow, task, record);
  });
}

export async function failTask(ctx: Context, taskId: string, error: string): Promise<Task> {
  const viewer = requireWriter(ctx.viewer);
  if (!error.trim()) throw badInput('error must not be empty', { field: 'error' });
  const message = truncate(error, MAX_ERROR_LENGTH);
  return mutate(ctx, async (tx, record) => {
    const { task, workflow } = await lockTask(tx, viewer, taskId);
    return lifecycle.failAttempt(tx, workflow, task, message, record);
  });
}

export async function retryTask(ctx: Context, taskId: string): Promise<Task> {
  const viewer = requireWriter(ctx.viewer);
  return mutate(ctx, async (tx, record) => {
    const { task, workflow } = await lockTask(tx, viewer, taskId);
    return lifecycle.retryTask(tx, workflow, task, record);
  });
}

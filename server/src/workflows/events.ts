/** The events workflows and their tasks emit, on the `workflow` topic, and following them live. */
import type { Context } from '../app/context.js';
import { requireViewer } from '../core/viewer.js';
import { workflowScope } from './visibility.js';
import { notFound } from '../core/errors.js';
import type { EventFilter } from '../live/event-feed.js';
import type { NewEvent, StoredEvent } from '../live/event-log.js';
import { idOf } from '../core/ids.js';
import type { LogTopic } from '../live/bus/bus.js';

declare module '../live/bus/bus.js' {
  interface Topics {
    /** an event-log topic: rows of `events` with topic 'workflow' */
    workflow: StoredEvent;
  }
}

/** The event-log topic of workflows and their tasks. */
export const WORKFLOW_TOPIC = 'workflow' satisfies LogTopic;

export enum WorkflowEventKind {
  CREATED = 'CREATED',
  UPDATED = 'UPDATED',
  DELETED = 'DELETED',
  TASK_UPDATED = 'TASK_UPDATED',
}

/**
 * A task's event names its queue, so queue watches (queues.ts) know which backlog changed; a
 * task the server stopped while it ran (cancelled with its workflow, or its attempt ended LOST or
 * TIMED_OUT) also names the worker and attempt that held it and why (`stopped`), so that worker
 * hears of it at once (cancellations.ts).
 */
export function workflowEvent(
  kind: WorkflowEventKind,
  workflow: { id: string; ownerId: string; status?: string },
  task?: { id: string; status: string; queue: string },
  stopped?: { workerId: string | null; attempt: number; reason: 'CANCELLED' | 'LOST' | 'TIMED_OUT' },
): NewEvent {
  return {
    topic: WORKFLOW_TOPIC,
    kind,
    workflowId: workflow.id,
    ownerId: workflow.ownerId,
    taskId: task?.id ?? null,
    payload: task
      ? { taskStatus: task.status, queue: task.queue, ...(stopped && { stoppedWorkerId: stopped.workerId, stoppedAttempt: stopped.attempt, stoppedReason: stopped.reason }) }
      : workflow.status ? { status: workflow.status } : {},
  };
}

/** A deleted workflow, with the queues whose backlog lost its READY or RUNNING tasks. */
export function workflowDeleted(workflow: { id: string; ownerId: string }, queues: string[]): NewEvent {
  return { ...workflowEvent(WorkflowEventKind.DELETED, workflow), payload: { queues } };
}

/**
 * The workflow events `viewer` may see, optionally of one workflow, resumed `after` a cursor.
 * A MEMBER only ever gets events of its own workflows (DELETED ones included: the owner is
 * stored on the event). A workflow the viewer may not see is NOT_FOUND — unless the viewer has
 * events of it, so a subscriber can still resume across the workflow's deletion.
 */
export async function followWorkflowEvents(ctx: Context, workflowId?: string | null, after?: string | null): Promise<AsyncIterable<StoredEvent>> {
  const viewer = requireViewer(ctx.viewer);
  const ownerId = workflowScope(viewer);
  const filter: EventFilter = { ownerId };
  if (workflowId) {
    filter.workflowId = idOf('Workflow', workflowId);
    if (!(await ctx.loaders.workflowById.load(filter.workflowId))) {
      const seen = await ctx.em.execute(
        `select 1 from events where topic = 'workflow' and workflow_id = ? ${ownerId ? 'and owner_id = ?' : ''} limit 1`,
        ownerId ? [filter.workflowId, ownerId] : [filter.workflowId],
      );
      if (!seen.length) throw notFound('Workflow');
    }
  }
  return ctx.app.feed.follow('workflow', { after, filter });
}

/** The events workflows and their tasks emit, on the `workflow` topic. */
import type { NewEvent } from '../platform/event-log.js';

export enum WorkflowEventKind {
  CREATED = 'CREATED',
  UPDATED = 'UPDATED',
  DELETED = 'DELETED',
  TASK_UPDATED = 'TASK_UPDATED',
}

export function workflowEvent(
  kind: WorkflowEventKind,
  workflow: { id: string; ownerId: string; status?: string },
  task?: { id: string; status: string },
): NewEvent {
  return {
    topic: 'workflow',
    kind,
    workflowId: workflow.id,
    ownerId: workflow.ownerId,
    taskId: task?.id ?? null,
    payload: task ? { taskStatus: task.status } : workflow.status ? { status: workflow.status } : {},
  };
}

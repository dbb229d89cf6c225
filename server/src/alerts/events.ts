/** The events alerts emit, on the `alert` topic: the kind is the status the alert moved to. */
import type { Context } from '../context.js';
import { requireViewer } from '../platform/auth.js';
import type { NewEvent, StoredEvent } from '../platform/event-log.js';
import type { AlertStatus } from './types.js';

export function alertEvent(kind: AlertStatus, alert: { id: string; ruleId: string; service: string }): NewEvent {
  return {
    topic: 'alert',
    kind,
    workflowId: null,
    taskId: null,
    ownerId: null,
    payload: { alertId: alert.id, ruleId: alert.ruleId, service: alert.service },
  };
}

/** Every alert change from now on, or every one after `after` first: alerts are shared, so no filter. */
export function followAlertEvents(ctx: Context, after?: string | null): Promise<AsyncIterableIterator<StoredEvent>> {
  requireViewer(ctx.viewer);
  return ctx.app.feed.follow('alert', { after });
}

/** The events alerts emit, on the `alert` topic: the kind is the status the alert moved to. */
import type { Context } from '../app/context.js';
import { requireViewer } from '../core/viewer.js';
import type { NewEvent, StoredEvent } from '../live/event-log.js';
import type { LogTopic } from '../live/bus/bus.js';
import type { AlertStatus } from './types.js';

declare module '../live/bus/bus.js' {
  interface Topics {
    /** an event-log topic: rows of `events` with topic 'alert' */
    alert: StoredEvent;
  }
}

/** The event-log topic of alerts. */
export const ALERT_TOPIC = 'alert' satisfies LogTopic;

export function alertEvent(kind: AlertStatus, alert: { id: string; ruleId: string; service: string }): NewEvent {
  return {
    topic: ALERT_TOPIC,
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

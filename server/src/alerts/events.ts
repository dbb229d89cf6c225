/** The events alerts emit, on the `alert` topic: the kind is the status the alert moved to. */
import type { NewEvent } from '../platform/event-log.js';
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

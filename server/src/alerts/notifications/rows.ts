/** Rows of contact points and notifications as the API shows them: secrets redacted. */
import type { Queryable } from '../../db/read-routing.js';
import { toDate, uuidArray } from '../../db/sql.js';
import type { ContactKind, ContactSettings } from './channels.js';
import { ContactPoint, Notification } from './types.js';

const REDACTED = '••••••';

/** Which settings each kind takes, and which of them are secret. */
export const FIELDS: Record<ContactKind, Record<string, { required: boolean; secret: boolean }>> = {
  SLACK: { url: { required: true, secret: true } },
  WEBHOOK: { url: { required: true, secret: false }, secret: { required: false, secret: true } },
  EMAIL: { to: { required: true, secret: false } },
  PAGERDUTY: { routingKey: { required: true, secret: true } },
};

export interface StoredContactPoint {
  id: string;
  name: string;
  kind: ContactKind;
  enabled: boolean;
  settings: ContactSettings;
  /** the message template (templates.ts); null: the channel's default */
  template: string | null;
  deletedAt: Date | null;
}

/** Redacted: a Slack URL keeps its host, a webhook URL loses its query and credentials, keys keep their last 4 characters. */
export function redact(kind: ContactKind, settings: ContactSettings): ContactSettings {
  const shown: ContactSettings = {};
  for (const [name, value] of Object.entries(settings)) {
    if (kind === 'SLACK' && name === 'url') shown[name] = `${new URL(value).origin}/${REDACTED}`;
    else if (kind === 'WEBHOOK' && name === 'url') shown[name] = `${new URL(value).origin}${new URL(value).pathname}`;
    else if (FIELDS[kind][name]?.secret) shown[name] = name === 'routingKey' ? `${REDACTED}${value.slice(-4)}` : REDACTED;
    else shown[name] = value;
  }
  return shown;
}

export function contactPointFromRow(row: Record<string, any>, open: (sealed: string) => string): StoredContactPoint {
  return {
    id: row.id,
    name: row.name,
    kind: row.kind,
    enabled: row.enabled,
    settings: JSON.parse(open(row.settings_sealed)) as ContactSettings,
    template: row.template ?? null,
    deletedAt: toDate(row.deleted_at),
  };
}

export function shownContactPoint(point: StoredContactPoint): ContactPoint {
  return Object.assign(new ContactPoint(), { ...point, settings: redact(point.kind, point.settings) });
}

export function notificationFromRow(row: Record<string, any>): Notification & { alertId: string | null; contactPointId: string } {
  return Object.assign(new Notification(), {
    id: row.id,
    alertId: row.alert_id,
    contactPointId: row.contact_point_id,
    channel: row.channel,
    groupKey: row.group_key ?? '',
    event: row.event,
    status: row.status,
    attempts: row.attempts,
    error: row.last_error,
    response: row.response,
    createdAt: toDate(row.created_at),
    nextAttemptAt: row.status === 'PENDING' ? toDate(row.next_attempt_at) : null,
    sentAt: toDate(row.delivered_at),
  });
}

/** Which of these contact points exist and are not deleted, share-locked for this transaction (a route names them). */
export async function liveContactPointIds(tx: Queryable, ids: readonly string[]): Promise<Set<string>> {
  const rows = await tx.execute('select id from contact_points where id = any(?::uuid[]) and deleted_at is null for share', [uuidArray(ids)]);
  return new Set(rows.map((row) => row.id as string));
}

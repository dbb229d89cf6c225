/**
 * The notification outbox. Messages are queued in the transaction that decided them (dispatch.ts);
 * every replica delivers: it claims due rows with `FOR UPDATE SKIP LOCKED` (so two replicas
 * never send the same row at once), leases them, sends, and on failure retries with
 * exponential backoff (or later, when a 429 says so; a refusal for good, such as a 400, is
 * not retried). A receiver that is down for a while gets everything once it is
 * back; a replica that dies mid-send leaves a lease that runs out, and the row is retried.
 */
import type { AppServices } from '../../app/context.js';
import type { EntityManager } from '../../db/orm.js';
import { repeat } from '../../core/repeat.js';
import { truncate } from '../../core/text.js';
import { uuidArray } from '../../db/sql.js';
import { DeliveryError, type ContactKind, type Senders } from './channels.js';
import type { AlertMessage } from './message.js';

const CLAIM_BATCH = 20;
const LEASE_SECONDS = 120;
const BACKOFF_BASE_MS = 1_000;
const BACKOFF_MAX_MS = 5 * 60_000;
// About an hour and a half of retrying before giving up.
export const MAX_ATTEMPTS = 25;

export function backoffMs(attempts: number): number {
  return Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** Math.max(0, attempts - 1));
}

/**
 * Queues a group's message for each of `contactPointIds` that is enabled (null: every enabled
 * contact point, the default policy), inside the caller's transaction. ACKNOWLEDGED only
 * concerns PagerDuty, whose incident it acknowledges. Returns how many were queued.
 */
export async function enqueueGroupMessage(
  tx: EntityManager, contactPointIds: readonly string[] | null, message: AlertMessage, alertIds: readonly string[],
): Promise<number> {
  if (contactPointIds?.length === 0) return 0;
  const rows = await tx.execute(
    `insert into alert_notifications (contact_point_id, channel, event, payload, group_key, alert_ids)
     select id, lower(kind), ?, ?::jsonb, ?, ?::uuid[] from contact_points
      where enabled and deleted_at is null and (?::uuid[] is null or id = any(?::uuid[])) and (? <> 'ACKNOWLEDGED' or kind = 'PAGERDUTY')
      order by created_at returning id`,
    [message.event, JSON.stringify(message), message.groupKey, uuidArray(alertIds),
      contactPointIds && uuidArray(contactPointIds), contactPointIds && uuidArray(contactPointIds), message.event],
  );
  return rows.length;
}

interface Claimed {
  id: string;
  kind: ContactKind;
  settings_sealed: string;
  template: string | null;
  attempts: number;
  payload: AlertMessage;
}

/**
 * Due rows, leased. A row waits while an older one for the same contact point and group is
 * still pending, so a receiver never hears RESOLVED before the FIRING it resolves.
 */
async function claimDue(em: EntityManager): Promise<Claimed[]> {
  return em.execute(
    `with claimed as (
       update alert_notifications set attempts = attempts + 1, next_attempt_at = now() + make_interval(secs => ?)
        where id in (select n.id from alert_notifications n
                      where n.status = 'PENDING' and n.next_attempt_at <= now() and n.contact_point_id is not null
                        and not exists (select 1 from alert_notifications e
                                         where e.status = 'PENDING' and e.group_key = n.group_key
                                           and e.contact_point_id = n.contact_point_id and e.created_at < n.created_at)
                      order by n.next_attempt_at limit ? for update skip locked)
        returning id, contact_point_id, attempts, payload)
     select claimed.*, c.kind, c.settings_sealed, c.template from claimed join contact_points c on c.id = claimed.contact_point_id`,
    [LEASE_SECONDS, CLAIM_BATCH],
  );
}

/** Sends what is due once; returns how many were delivered. Exported for tests and `poke`. */
export async function deliverDue(app: AppServices, senders: Senders): Promise<number> {
  const em = app.orm.em.fork() as EntityManager;
  const claimed = await claimDue(em);
  const results = await Promise.all(claimed.map(async (row) => {
    try {
      const response = await senders.send(row.kind, JSON.parse(app.secrets.open(row.settings_sealed)), row.payload, row.id, row.template);
      await em.execute(`update alert_notifications set status = 'DELIVERED', delivered_at = now(), last_error = null, response = ? where id = ?`, [response, row.id]);
      return true;
    } catch (error) {
      const message = truncate(error instanceof Error ? error.message : String(error), 500);
      const refused = error instanceof DeliveryError ? error : null;
      const gaveUp = row.attempts >= MAX_ATTEMPTS || Boolean(refused?.permanent);
      // A receiver that says when to come back (429 Retry-After) is heard, but not sooner than the backoff.
      const waitMs = Math.max(backoffMs(row.attempts), refused?.retryAfterMs ?? 0);
      await em.execute(
        `update alert_notifications set status = ?, last_error = ?, response = ?, next_attempt_at = now() + make_interval(secs => ?) where id = ?`,
        [gaveUp ? 'FAILED' : 'PENDING', message, refused?.answer ?? null, waitMs / 1000, row.id],
      );
      app.logger.warn({ kind: row.kind, attempts: row.attempts, gaveUp, err: message }, 'alert notification not delivered');
      return false;
    }
  }));
  return results.filter(Boolean).length;
}

export function startDelivery(app: AppServices, senders: Senders) {
  const job = repeat('alert-notifications', app.config.alertDeliveryIntervalMs, async () => {
    // A full batch means more may be due: go again at once.
    while ((await deliverDue(app, senders)) >= CLAIM_BATCH);
  }, app);
  return { poke: job.poke, stop: job.stop };
}

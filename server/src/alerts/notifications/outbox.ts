/**
 * The notification outbox. Messages are queued in the transaction that moved the alert;
 * every replica delivers: it claims due rows with `FOR UPDATE SKIP LOCKED` (so two replicas
 * never send the same row at once), leases them, sends, and on failure retries with
 * exponential backoff. A receiver that is down for a while gets everything once it is
 * back; a replica that dies mid-send leaves a lease that runs out, and the row is retried.
 */
import type { Config } from '../../app/config.js';
import type { AppServices } from '../../app/context.js';
import type { EntityManager } from '../../db/orm.js';
import { repeat } from '../../core/repeat.js';
import { truncate } from '../../core/text.js';
import type { Alert, AlertRule } from '../types.js';
import { configuredChannels, createSenders, type Channel } from './channels.js';
import { alertMessage, type AlertMessage, type NotificationEvent } from './message.js';

const POLL_MS = 1_000;
const CLAIM_BATCH = 20;
const LEASE_SECONDS = 120;
const BACKOFF_BASE_MS = 1_000;
const BACKOFF_MAX_MS = 5 * 60_000;
// About an hour and a half of retrying before giving up.
export const MAX_ATTEMPTS = 25;

export function backoffMs(attempts: number): number {
  return Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** Math.max(0, attempts - 1));
}

/** Queues one message per configured channel, inside the caller's transaction. */
export async function enqueueNotifications(
  tx: EntityManager, config: Config, event: NotificationEvent, alert: Alert, rule: AlertRule,
): Promise<void> {
  const channels = configuredChannels(config);
  if (channels.length === 0) return;
  const payload = JSON.stringify(alertMessage(event, alert, rule));
  await tx.execute(
    `insert into alert_notifications (alert_id, channel, event, payload)
     select ?, channel, ?, ?::jsonb from unnest(?::text[]) as channel`,
    [alert.id, event, payload, `{${channels.join(',')}}`],
  );
}

interface Claimed {
  id: string;
  channel: Channel;
  attempts: number;
  payload: AlertMessage;
}

async function claimDue(em: EntityManager): Promise<Claimed[]> {
  return em.execute(
    `update alert_notifications set attempts = attempts + 1, next_attempt_at = now() + make_interval(secs => ?)
      where id in (select id from alert_notifications where status = 'PENDING' and next_attempt_at <= now()
                    order by next_attempt_at limit ? for update skip locked)
      returning id, channel, attempts, payload`,
    [LEASE_SECONDS, CLAIM_BATCH],
  );
}

/** Sends what is due once; returns how many were delivered. Exported for tests and `poke`. */
export async function deliverDue(app: AppServices, senders: ReturnType<typeof createSenders>): Promise<number> {
  const em = app.orm.em.fork() as EntityManager;
  const claimed = await claimDue(em);
  const results = await Promise.all(claimed.map(async (row) => {
    try {
      await senders.send(row.channel, row.payload);
      await em.execute(`update alert_notifications set status = 'DELIVERED', delivered_at = now(), last_error = null where id = ?`, [row.id]);
      return true;
    } catch (error) {
      const message = truncate(error instanceof Error ? error.message : String(error), 500);
      const gaveUp = row.attempts >= MAX_ATTEMPTS;
      await em.execute(
        `update alert_notifications set status = ?, last_error = ?, next_attempt_at = now() + make_interval(secs => ?) where id = ?`,
        [gaveUp ? 'FAILED' : 'PENDING', message, backoffMs(row.attempts) / 1000, row.id],
      );
      app.logger.warn({ channel: row.channel, attempts: row.attempts, gaveUp, err: message }, 'alert notification not delivered');
      return false;
    }
  }));
  return results.filter(Boolean).length;
}

export function startDelivery(app: AppServices) {
  // With no channel set, nothing is ever queued: no need to poll.
  if (configuredChannels(app.config).length === 0) return { poke() {}, async stop() {} };
  const senders = createSenders(app.config);
  const job = repeat('alert-notifications', POLL_MS, async () => {
    // A full batch means more may be due: go again at once.
    while ((await deliverDue(app, senders)) >= CLAIM_BATCH);
  }, app);
  return {
    poke: job.poke,
    async stop() {
      await job.stop();
      senders.close();
    },
  };
}

/**
 * The alert that matters most must not depend on what failed. With PostgreSQL unreachable the
 * evaluator cannot lead, record `component_up{database} = 0` nor queue anything, so the normal
 * path pages nobody. Every replica therefore keeps a snapshot (snapshot.ts) and, when an
 * outage starts (db/outage.ts) and outlasts the route's group wait, pages from memory:
 *
 * - agreement: with Redis, the replica that takes `alert-fallback:database-down` (SET NX with a
 *   10-minute lease it renews while the outage lasts) sends; the others try again every few
 *   seconds, so one takes over if the sender dies (and sends again: a second page rather than
 *   none). Without Redis, or when Redis cannot answer either, each replica sends on its own,
 *   once per outage;
 * - each message goes to the contact points today's policy names for the database-down alert,
 *   unless a silence or maintenance window matches it, and is retried with the outbox's backoff
 *   until delivered, refused for good, or the database is back;
 * - once the database answers, the sender records it: a RESOLVED alert (its id is the one the
 *   messages named) with every message and its delivery state (one still undelivered goes on
 *   retrying through the outbox), and queues the RESOLVED messages to the same contact points.
 */
import { randomUUID } from 'node:crypto';
import type { AppServices } from '../../app/context.js';
import { connectRedis } from '../../core/redis.js';
import { repeat } from '../../core/repeat.js';
import { truncate } from '../../core/text.js';
import type { EntityManager } from '../../db/orm.js';
import { uuidArray } from '../../db/sql.js';
import { mutate } from '../../live/mutate.js';
import { alertEvent } from '../events.js';
import { alertFromRow } from '../rows.js';
import { DeliveryError } from '../notifications/channels.js';
import { groupMessage, messageAlert, type AlertMessage } from '../notifications/message.js';
import { backoffMs, enqueueGroupMessage } from '../notifications/outbox.js';
import type { StoredContactPoint } from '../notifications/rows.js';
import { Alert, AlertStatus } from '../types.js';
import { DATABASE_COMPONENT, takeSnapshot, type FallbackDelivery, type OutageSnapshot } from './snapshot.js';

const CLAIM_TTL_MS = 10 * 60_000;
const CLAIM_RETRY_MS = 3_000;
const RECORD_TRIES = 5;

interface Sent {
  id: string;
  point: StoredContactPoint;
  delivery: FallbackDelivery;
  message: AlertMessage;
  firstAt: Date;
  attempts: number;
  status: 'PENDING' | 'DELIVERED' | 'FAILED';
  sentAt: Date | null;
  error: string | null;
  response: string | null;
}

interface Outage {
  startedAt: Date;
  /** the id the messages give the alert, and its row once recorded */
  alertId: string;
  snapshot: OutageSnapshot;
  sending: boolean;
  sends: Sent[];
  inFlight: Set<Promise<void>>;
  timers: Set<NodeJS.Timeout>;
  over: boolean;
}

/** Who sends: true when this replica should (it holds the claim, or there is no one to agree with). */
interface Claim {
  take(): Promise<boolean>;
  release(): Promise<void>;
  close(): void;
}

function redisClaim(app: AppServices): Claim {
  const redis = connectRedis(app.config.redis!, { offlineQueue: false, maxRetriesPerRequest: 1, commandTimeoutMs: 1_000 });
  redis.on('error', () => undefined);
  const key = `${app.config.redisPrefix}alert-fallback:database-down`;
  const me = app.config.instanceId;
  return {
    async take() {
      try {
        if ((await redis.set(key, me, 'PX', CLAIM_TTL_MS, 'NX')) === 'OK') return true;
        if ((await redis.get(key)) !== me) return false;
        await redis.pexpire(key, CLAIM_TTL_MS);
        return true;
      } catch (error) {
        app.logger.warn({ err: error }, 'database down and Redis unreachable too: this replica pages on its own');
        return true;
      }
    },
    async release() {
      await redis.eval('if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("DEL", KEYS[1]) end return 0', 1, key, me).catch(() => undefined);
    },
    close: () => redis.disconnect(),
  };
}

const alone: Claim = { take: async () => true, release: async () => undefined, close: () => undefined };

function firingAlert(outage: Outage, firedAt: Date): Alert {
  const { rule, labels } = outage.snapshot;
  return Object.assign(new Alert(), {
    id: outage.alertId, ruleId: rule.id, service: DATABASE_COMPONENT, status: AlertStatus.FIRING, severity: rule.severity, value: 0,
    startedAt: outage.startedAt, firedAt, acknowledgedAt: null, acknowledgedById: null, resolvedAt: null, labels,
  });
}

/** Writes what the outage sent, and queues its RESOLVED messages, in one transaction. */
async function recordOutage(app: AppServices, outage: Outage): Promise<void> {
  const { rule, labels } = outage.snapshot;
  await mutate({ em: app.orm.em.fork() as EntityManager, app }, async (tx, record) => {
    const [row] = await tx.execute(
      `insert into alerts (id, rule_id, service, status, severity, value, started_at, fired_at, resolved_at, updated_at, labels)
       values (?, ?, ?, 'RESOLVED', ?, 0, ?, ?, now(), now(), ?::jsonb) returning *`,
      [outage.alertId, rule.id, DATABASE_COMPONENT, rule.severity, outage.startedAt, outage.sends[0].firstAt, JSON.stringify(labels)],
    );
    const alert = alertFromRow(row);
    record(alertEvent(AlertStatus.RESOLVED, alert));
    for (const sent of outage.sends) {
      // created_at is when it was first tried, so the RESOLVED queued below waits for it (outbox order).
      await tx.execute(
        `insert into alert_notifications (id, contact_point_id, channel, event, payload, group_key, alert_ids, status, attempts, last_error, response, delivered_at, created_at)
         values (?, ?, ?, 'FIRING', ?::jsonb, ?, ?::uuid[], ?, ?, ?, ?, ?, ?)`,
        [sent.id, sent.point.id, sent.point.kind.toLowerCase(), JSON.stringify(sent.message), sent.delivery.groupKey, uuidArray([alert.id]),
          sent.status, sent.attempts, sent.error, sent.response, sent.sentAt, sent.firstAt],
      );
    }
    for (const delivery of new Set(outage.sends.map((s) => s.delivery))) {
      const message = groupMessage('RESOLVED', 'resolved', delivery.groupKey, delivery.groupLabels, [], [messageAlert(alert, rule)]);
      const pointIds = outage.sends.filter((s) => s.delivery === delivery).map((s) => s.point.id);
      await enqueueGroupMessage(tx, pointIds, message, [alert.id]);
    }
  });
}

/**
 * Starts the snapshots and listens for outages; `onQueued` hears when the RESOLVED messages
 * were queued (the outbox's poke).
 */
export function startDatabaseDownPager(app: AppServices, onQueued: () => void) {
  let snapshot: OutageSnapshot | null = null;
  const refresh = repeat('alert-fallback-snapshot', app.config.alertEvalIntervalSeconds * 1000, async () => {
    if (!app.outage.down) snapshot = await takeSnapshot(app);
  }, app);
  refresh.poke();
  const claim = app.config.redis ? redisClaim(app) : alone;
  let current: Outage | null = null;

  const later = (outage: Outage, ms: number, work: () => void) => {
    const timer = setTimeout(() => {
      outage.timers.delete(timer);
      work();
    }, ms);
    timer.unref();
    outage.timers.add(timer);
  };

  const attempt = (outage: Outage, sent: Sent): void => {
    if (outage.over) return;
    sent.attempts++;
    const run = app.senders.send(sent.point.kind, sent.point.settings, sent.message, sent.id, sent.point.template).then((response) => {
      Object.assign(sent, { status: 'DELIVERED', sentAt: new Date(), error: null, response });
      app.logger.info({ contactPoint: sent.point.name, attempts: sent.attempts }, 'database down: paged from memory');
    }, (error) => {
      const refused = error instanceof DeliveryError ? error : null;
      Object.assign(sent, { error: truncate(error instanceof Error ? error.message : String(error), 500), response: refused?.answer ?? null });
      app.logger.warn({ contactPoint: sent.point.name, attempts: sent.attempts, err: sent.error }, 'database down: page not delivered');
      if (refused?.permanent) sent.status = 'FAILED';
      else later(outage, Math.max(backoffMs(sent.attempts), refused?.retryAfterMs ?? 0), () => attempt(outage, sent));
    }).finally(() => outage.inFlight.delete(run));
    outage.inFlight.add(run);
  };

  const send = (outage: Outage): void => {
    const now = new Date();
    if (outage.snapshot.mutedAt(now)) {
      app.logger.info({ rule: outage.snapshot.rule.name }, 'database down: muted by a silence or maintenance window, nobody paged');
      return;
    }
    const alert = messageAlert(firingAlert(outage, now), outage.snapshot.rule);
    for (const delivery of outage.snapshot.deliveries) {
      const message = groupMessage('FIRING', 'first', delivery.groupKey, delivery.groupLabels, [alert], []);
      message.summary += ' (sent from memory: the database is unreachable)';
      for (const point of delivery.contactPoints) {
        const sent: Sent = { id: randomUUID(), point, delivery, message, firstAt: now, attempts: 0, status: 'PENDING', sentAt: null, error: null, response: null };
        outage.sends.push(sent);
        attempt(outage, sent);
      }
    }
  };

  /** Tries to be the sender; the sender renews its claim, the others watch for it to lapse. */
  const claimAndSend = async (outage: Outage): Promise<void> => {
    if (outage.over) return;
    const mine = await claim.take();
    if (outage.over) return;
    if (mine && !outage.sending) {
      outage.sending = true;
      send(outage);
    }
    later(outage, mine ? CLAIM_TTL_MS / 3 : CLAIM_RETRY_MS, () => void claimAndSend(outage));
  };

  const begin = (): void => {
    if (current) return;
    if (!snapshot) {
      app.logger.warn('database down before this replica knew whom to page: nobody paged from memory');
      return;
    }
    const outage: Outage = { startedAt: new Date(), alertId: randomUUID(), snapshot, sending: false, sends: [], inFlight: new Set(), timers: new Set(), over: false };
    current = outage;
    const waitMs = Math.min(...snapshot.deliveries.map((d) => d.groupWaitSeconds)) * 1000;
    later(outage, waitMs, () => void claimAndSend(outage));
  };

  const end = async (): Promise<void> => {
    const outage = current;
    current = null;
    if (!outage) return;
    outage.over = true;
    for (const timer of outage.timers) clearTimeout(timer);
    await Promise.allSettled([...outage.inFlight]);
    if (outage.sends.length === 0) {
      if (outage.sending) await claim.release();
      return;
    }
    for (let attempt = 1; ; attempt++) {
      try {
        await recordOutage(app, outage);
        break;
      } catch (error) {
        if (attempt >= RECORD_TRIES) {
          app.logger.error({ err: error }, 'database back, but the page sent while it was down could not be recorded');
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, 1_000 * attempt));
      }
    }
    await claim.release();
    onQueued();
  };

  const off = app.outage.onChange((down) => {
    if (down) begin();
    else void end();
  });
  return {
    async stop() {
      off();
      if (current) {
        current.over = true;
        for (const timer of current.timers) clearTimeout(timer);
      }
      await refresh.stop();
      claim.close();
    },
  };
}

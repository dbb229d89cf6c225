/**
 * `GET /api/metrics` in Prometheus text format (prom-client): HTTP and GraphQL operation
 * durations, live WebSocket connections and subscription fan-out, published bus events, the
 * DB pool, and Node's own process metrics. One registry per app, so apps in one process (tests) stay apart.
 */
import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { MikroORM } from '@mikro-orm/postgresql';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { bearerToken } from '../core/viewer.js';
import { poolUsage } from '../db/orm.js';
import { sendJson } from '../http/replies.js';
import type { LiveConnections } from '../live/ws/connections.js';
import type { EventBus } from '../live/bus/bus.js';
import type { SubscriptionGroups } from '../live/ws/groups.js';

const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export type ServerMetrics = ReturnType<typeof createServerMetrics>;

export function createServerMetrics(orm: MikroORM, liveConnections: LiveConnections, subscriptionGroups: SubscriptionGroups) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const http = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP requests by route, method and status',
    labelNames: ['route', 'method', 'status'] as const,
    buckets: DURATION_BUCKETS,
    registers: [registry],
  });
  const operations = new Histogram({
    name: 'graphql_operation_duration_seconds',
    help: 'GraphQL operations by name, type and outcome (ok, client_error, error)',
    labelNames: ['operation', 'type', 'outcome'] as const,
    buckets: DURATION_BUCKETS,
    registers: [registry],
  });
  const published = new Counter({
    name: 'events_published_total',
    help: 'Messages published on the event bus, by topic',
    labelNames: ['topic'] as const,
    registers: [registry],
  });
  const subscriptionEvents = new Counter({
    name: 'graphql_subscription_events_total',
    help: 'Subscription events: executed (once per group of equal subscriptions) and sent (once per subscriber)',
    labelNames: ['stage'] as const,
    registers: [registry],
  });
  new Gauge({
    name: 'websocket_connections',
    help: 'Open WebSocket (graphql-ws) connections on this replica',
    registers: [registry],
    collect() {
      this.set(liveConnections.count);
    },
  });
  new Gauge({
    name: 'graphql_subscriptions',
    help: 'Subscriptions following events on this replica',
    registers: [registry],
    collect() {
      this.set(subscriptionGroups.members);
    },
  });
  new Gauge({
    name: 'graphql_subscription_groups',
    help: 'Groups of equal subscriptions on this replica (each event is executed once per group)',
    registers: [registry],
    collect() {
      this.set(subscriptionGroups.size);
    },
  });
  new Gauge({
    name: 'db_pool_connections',
    help: 'Database pool connections in use, and the pool maximum',
    labelNames: ['state'] as const,
    registers: [registry],
    collect() {
      const pool = poolUsage(orm);
      this.set({ state: 'used' }, pool.used);
      this.set({ state: 'max' }, pool.max);
    },
  });
  return {
    registry, http, operations, published,
    subscriptionEventExecuted: subscriptionEvents.labels({ stage: 'executed' }),
    subscriptionEventSent: subscriptionEvents.labels({ stage: 'sent' }),
  };
}

function tokenMatches(given: string | null, expected: string): boolean {
  if (!given) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Open unless `METRICS_TOKEN` is set; then it needs `Authorization: Bearer <token>`. */
export async function metricsRoute(req: IncomingMessage, res: ServerResponse, metrics: ServerMetrics, token: string | undefined): Promise<void> {
  if (req.method !== 'GET' && req.method !== 'HEAD') return sendJson(res, 405, { error: 'Use GET' }, { allow: 'GET, HEAD' });
  if (token && !tokenMatches(bearerToken(req.headers.authorization), token)) {
    return sendJson(res, 401, { error: 'Send Authorization: Bearer <METRICS_TOKEN>' }, { 'www-authenticate': 'Bearer' });
  }
  const body = await metrics.registry.metrics();
  res.writeHead(200, { 'content-type': metrics.registry.contentType, 'cache-control': 'no-store' });
  res.end(req.method === 'HEAD' ? undefined : body);
}

/** The bus, counting each publish by topic. */
export function countingPublishes(bus: EventBus, metrics: ServerMetrics): EventBus {
  return {
    ...bus,
    publish(topic, payload) {
      metrics.published.inc({ topic });
      bus.publish(topic, payload);
    },
  };
}

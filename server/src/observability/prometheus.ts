/**
 * `GET /api/metrics` in Prometheus text format (prom-client): HTTP and GraphQL operation
 * durations, live WebSocket connections and SSE streams, subscription fan-out, published bus events, the
 * DB pool, and Node's own process metrics. One registry per app, so apps in one process (tests) stay apart.
 */
import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { MikroORM } from '@mikro-orm/postgresql';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { bearerToken } from '../core/viewer.js';
import { poolUsage } from '../db/orm.js';
import { sendJson } from '../http/replies.js';
import type { LiveConnections } from '../live/connections.js';
import type { EventBus } from '../live/bus/bus.js';
import type { SubscriptionGroups } from '../live/groups.js';

const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export type ServerMetrics = ReturnType<typeof createServerMetrics>;

export function createServerMetrics(orm: MikroORM, liveConnections: LiveConnections, subscriptionGroups: SubscriptionGroups, eventStreams: LiveConnections) {
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
    name: 'sse_streams',
    help: 'Open Server-Sent Events (graphql-sse) subscription streams on this replica',
    registers: [registry],
    collect() {
      this.set(eventStreams.count);
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

/** One queue's backlog as the gauges report it (workflows/queues.ts defines the counts). */
export interface QueueBacklog {
  name: string;
  ready: number;
  running: number;
  delayed: number;
  oldestReadyAgeSeconds: number | null;
}

export interface QueueBacklogSource {
  /** every queue's backlog, of every workflow: one statement */
  read(): Promise<QueueBacklog[]>;
  /** backlog reads made for taskQueueChanged subscribers so far */
  reads(): number;
}

/** Queues with a label of their own; the rest are summed under OTHER_QUEUE (no queue can be named so). */
export const MAX_QUEUE_LABELS = 100;
export const OTHER_QUEUE = '(other)';
/** A queue that drained keeps reporting 0 this long, so an autoscaler sees 0 rather than no data. */
export const DRAINED_QUEUE_KEPT_MS = 10 * 60_000;
/** Gauges collected within this share one read (a scrape collects every gauge at once). */
const SNAPSHOT_MS = 1_000;

/**
 * The labelled queues: the MAX_QUEUE_LABELS with the most ready (then running) tasks, by name,
 * plus OTHER_QUEUE summing the others (the oldest age across them).
 */
export function boundedQueues(queues: QueueBacklog[], max = MAX_QUEUE_LABELS): QueueBacklog[] {
  if (queues.length <= max) return queues;
  const ranked = [...queues].sort((a, b) => b.ready - a.ready || b.running - a.running || (a.name < b.name ? -1 : 1));
  const rest = ranked.slice(max);
  const ages = rest.map((q) => q.oldestReadyAgeSeconds).filter((age): age is number => age !== null);
  const sum = (field: 'ready' | 'running' | 'delayed') => rest.reduce((total, q) => total + q[field], 0);
  return [...ranked.slice(0, max), { name: OTHER_QUEUE, ready: sum('ready'), running: sum('running'), delayed: sum('delayed'), oldestReadyAgeSeconds: ages.length ? Math.max(...ages) : null }];
}

/**
 * workflow_tasks_ready / _running / _delayed and workflow_task_oldest_ready_age_seconds by
 * queue: cluster-wide figures (every replica reports the same; aggregate with max, not sum),
 * one statement per scrape, at most MAX_QUEUE_LABELS + 1 queue labels. A read that fails
 * (the database is down) leaves the gauges without samples for that scrape.
 */
export function registerQueueGauges(metrics: ServerMetrics, source: QueueBacklogSource, logger: { warn(data: object, message: string): void }, now = Date.now): void {
  const registers = [metrics.registry];
  /** drained queues still reported as 0, until when (ms) */
  const drained = new Map<string, number>();
  let labelled = new Set<string>();
  let snapshot: { at: number; queues: Promise<QueueBacklog[]> } | null = null;
  const read = async (): Promise<QueueBacklog[]> => {
    const queues = boundedQueues(await source.read().catch((error) => {
      logger.warn({ err: error }, 'could not read the task queue backlog for /api/metrics');
      return null;
    }) ?? []);
    const at = now();
    const current = new Set(queues.map((q) => q.name));
    for (const name of labelled) if (!current.has(name)) drained.set(name, at + DRAINED_QUEUE_KEPT_MS);
    for (const [name, until] of drained) if (current.has(name) || until <= at) drained.delete(name);
    labelled = current;
    const idle = [...drained.keys()].slice(0, Math.max(0, MAX_QUEUE_LABELS + 1 - queues.length));
    return [...queues, ...idle.map((name) => ({ name, ready: 0, running: 0, delayed: 0, oldestReadyAgeSeconds: null }))];
  };
  const queues = (): Promise<QueueBacklog[]> => {
    if (!snapshot || now() - snapshot.at >= SNAPSHOT_MS) snapshot = { at: now(), queues: read() };
    return snapshot.queues;
  };
  const gauge = (name: string, help: string, value: (q: QueueBacklog) => number | null) =>
    new Gauge({
      name, help, labelNames: ['queue'] as const, registers,
      async collect() {
        const all = await queues();
        this.reset();
        for (const queue of all) {
          const v = value(queue);
          if (v !== null) this.set({ queue: queue.name }, v);
        }
      },
    });
  gauge('workflow_tasks_ready', 'READY tasks claimable now, by queue (cluster-wide: every replica reports the same)', (q) => q.ready);
  gauge('workflow_tasks_running', 'RUNNING tasks, by queue (cluster-wide)', (q) => q.running);
  gauge('workflow_tasks_delayed', 'READY tasks backing off after a failed attempt (nextAttemptAt ahead), by queue (cluster-wide)', (q) => q.delayed);
  gauge('workflow_task_oldest_ready_age_seconds', 'Seconds since the oldest claimable READY task of the queue became claimable; 0 when none is', (q) => q.oldestReadyAgeSeconds ?? 0);
  new Counter({
    name: 'workflow_task_queue_reads_total',
    help: 'Backlog reads this replica made for taskQueueChanged subscribers (bursts of changes are coalesced into one)',
    registers,
    collect() {
      this.reset();
      this.inc(source.reads());
    },
  });
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

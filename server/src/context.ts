/**
 * What every resolver receives: who is asking, a forked entity manager, fresh DataLoaders,
 * and the app-wide services. Made once per HTTP request and once per subscription event.
 */
import type { MikroORM } from '@mikro-orm/postgresql';
import type { Config } from './config.js';
import type { HealthChecks } from './health/service.js';
import { createAlertLoaders } from './alerts/loaders.js';
import type { Viewer } from './platform/auth.js';
import type { EntityManager } from './platform/db.js';
import type { LiveConnections } from './platform/live-connections.js';
import type { Logger } from './platform/logger.js';
import type { ErrorReporter } from './observability/sentry.js';
import type { Queryable, ReadRouting } from './platform/read-routing.js';
import type { EventFeed } from './platform/event-feed.js';
import type { EventBus } from './platform/pubsub.js';
import type { RateLimiter } from './platform/rate-limit.js';
import { createTaskLoaders } from './tasks/loaders.js';
import { createUserLoaders } from './users/loaders.js';
import { createWorkflowLoaders } from './workflows/loaders.js';

export interface AppServices {
  config: Config;
  logger: Logger;
  orm: MikroORM;
  bus: EventBus;
  /** resumable streams over the events table (subscriptions) */
  feed: EventFeed;
  healthChecks: HealthChecks;
  /** reports unexpected errors (Sentry when SENTRY_DSN is set, else nothing) */
  errors: ErrorReporter;
  /** open WebSocket connections of this replica (the live transport counts them) */
  liveConnections: LiveConnections;
  limiter: RateLimiter;
  /** where reads go: the read replica when it is fresh enough, else the primary */
  reads: ReadRouting;
}

export function createLoaders(db: Queryable, viewer: Viewer | null) {
  return { ...createUserLoaders(db), ...createWorkflowLoaders(db, viewer), ...createTaskLoaders(db, viewer), ...createAlertLoaders(db) };
}

export type Loaders = ReturnType<typeof createLoaders>;

export interface Context {
  requestId: string;
  viewer: Viewer | null;
  /** the primary, for writes (and reads inside them) */
  em: EntityManager;
  /** reads of queries: the read replica when one is set and fresh enough, else the primary */
  read: Queryable;
  /** set for mutations: their reads, and what they return, come from the primary */
  readsFromPrimary: boolean;
  loaders: Loaders;
  app: AppServices;
  /** the client's address, for per-IP limits ('unknown' where the transport does not tell) */
  clientIp: string;
}

export function createContext(app: AppServices, viewer: Viewer | null, requestId: string, clientIp = 'unknown'): Context {
  const em = app.orm.em.fork() as EntityManager;
  const context = { requestId, viewer, em, readsFromPrimary: false, app, clientIp } as Context;
  context.read = app.reads.reader(em, () => context.readsFromPrimary);
  context.loaders = createLoaders(context.read, viewer);
  return context;
}

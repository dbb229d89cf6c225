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
}

export function createLoaders(em: EntityManager, viewer: Viewer | null) {
  return { ...createUserLoaders(em), ...createWorkflowLoaders(em, viewer), ...createTaskLoaders(em, viewer), ...createAlertLoaders(em) };
}

export type Loaders = ReturnType<typeof createLoaders>;

export interface Context {
  requestId: string;
  viewer: Viewer | null;
  em: EntityManager;
  loaders: Loaders;
  app: AppServices;
  /** the client's address, for per-IP limits ('unknown' where the transport does not tell) */
  clientIp: string;
}

export function createContext(app: AppServices, viewer: Viewer | null, requestId: string, clientIp = 'unknown'): Context {
  const em = app.orm.em.fork() as EntityManager;
  return { requestId, viewer, em, loaders: createLoaders(em, viewer), app, clientIp };
}

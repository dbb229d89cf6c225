/**
 * What every resolver receives: who is asking, a forked entity manager, fresh DataLoaders,
 * and the app-wide services. Made once per HTTP request and once per subscription event.
 */
import type { MikroORM } from '@mikro-orm/postgresql';
import type { Config } from './config.js';
import type { DatabaseOutage } from '../db/outage.js';
import type { HealthChecks } from '../health/types.js';
import { createAlertLoaders } from '../alerts/loaders.js';
import type { Senders } from '../alerts/notifications/channels.js';
import type { SecretBox } from '../core/secret-box.js';
import type { AudienceOf, Viewer } from '../core/viewer.js';
import type { EntityManager } from '../db/orm.js';
import type { LiveConnections } from '../live/connections.js';
import type { Logger } from '../core/logger.js';
import type { ErrorReporter } from '../observability/sentry.js';
import type { Queryable, ReadRouting } from '../db/read-routing.js';
import type { EventFeed } from '../live/event-feed.js';
import type { EventBus } from '../live/bus/bus.js';
import type { MutationHook } from '../live/mutate.js';
import type { RateLimiter } from '../http/rate-limit.js';
import type { SelectedFields } from '../graphql/selection.js';
import { createStatusLoaders } from '../status/loaders.js';
import { createTemplateLoaders } from '../templates/loaders.js';
import { createScheduleLoaders } from '../schedules/loaders.js';
import { createTaskLoaders } from '../workflows/task-loaders.js';
import { createUserLoaders } from '../users/loaders.js';
import { createWorkflowLoaders } from '../workflows/loaders.js';
import { workflowAudience } from '../workflows/visibility.js';

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
  /** whether the database is unreachable right now; errors that say so are noted here, not logged */
  outage: DatabaseOutage;
  /** open WebSocket connections of this replica (the live transport counts them) */
  liveConnections: LiveConnections;
  limiter: RateLimiter;
  /** where reads go: the read replica when it is fresh enough, else the primary */
  reads: ReadRouting;
  /** seals and opens contact points' settings (core/secret-box.ts) */
  secrets: SecretBox;
  /** sends alert messages (one per contact point kind), for the outbox and test messages */
  senders: Senders;
}

/** `selected`: what the operation asks of each type, when known (queries), for loaders that read only those columns. */
export function createLoaders(db: Queryable, viewer: Viewer | null, secrets: SecretBox, selected: () => SelectedFields | undefined = () => undefined) {
  const tasks = createTaskLoaders(db, viewer, () => selected()?.get('Task'));
  return {
    ...createUserLoaders(db),
    ...createWorkflowLoaders(db, viewer, tasks, () => selected()?.get('Workflow')?.has('tasks') === true),
    ...tasks,
    ...createAlertLoaders(db, secrets.open),
    ...createStatusLoaders(db),
    ...createTemplateLoaders(db, viewer),
    ...createScheduleLoaders(db, viewer),
  };
}

export type Loaders = ReturnType<typeof createLoaders>;

/** Who sees the same data as a viewer (core/viewer.ts): today only workflows differ by viewer. */
export const audienceOf: AudienceOf = workflowAudience;

/**
 * Apollo executes each operation with a shallow copy of the context, so what its plugins set
 * lives in this object, which the copy shares with the closures made here (the reader, the
 * loaders); set on the copy itself, they would never see it.
 */
export interface OperationState {
  /** set for mutations: their reads, and what they return, come from the primary */
  readsFromPrimary: boolean;
  /** set for queries: the fields their document selects per type (graphql/selection.ts) */
  selected?: SelectedFields;
}

export interface Context {
  requestId: string;
  viewer: Viewer | null;
  /** the primary, for writes (and reads inside them) */
  em: EntityManager;
  /** reads of queries: the read replica when one is set and fresh enough, else the primary */
  read: Queryable;
  /** what the plugins learn of the operation once Apollo has resolved it */
  operation: OperationState;
  loaders: Loaders;
  app: AppServices;
  /** the client's address, for per-IP limits ('unknown' where the transport does not tell) */
  clientIp: string;
  /** set while a mutation runs: what `mutate` adds to its transaction (audit row, idempotency key) */
  hooks?: readonly MutationHook[];
  /** the request's `Idempotency-Key` header (graphql/idempotency.ts) */
  idempotencyKey?: string;
}

export function createContext(app: AppServices, viewer: Viewer | null, requestId: string, clientIp = 'unknown', idempotencyKey?: string): Context {
  const em = app.orm.em.fork() as EntityManager;
  const operation: OperationState = { readsFromPrimary: false };
  const read = app.reads.reader(em, () => operation.readsFromPrimary);
  return { requestId, viewer, em, read, operation, loaders: createLoaders(read, viewer, app.secrets, () => operation.selected), app, clientIp, idempotencyKey };
}

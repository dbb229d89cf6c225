/**
 * Puts one replica together: database (embedded or external), migrations, the bootstrap
 * admin, the GraphQL schema, and the HTTP routes. `main.ts` and the tests both start the
 * product through `startApp`, so tests exercise exactly what runs in production.
 */
import 'reflect-metadata';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ApolloServer } from '@apollo/server';
import type { MikroORM } from '@mikro-orm/postgresql';
import type { Config } from './config.js';
import { createContext, type AppServices, type Context } from './context.js';
import { demoWanted } from './demo/seed.js';
import { startDemo, type DemoWorker } from './demo/worker.js';
import { healthRoute, readyRoute } from './health/routes.js';
import type { HealthChecks } from './health/service.js';
import { bearerToken, type Viewer } from './platform/auth.js';
import { applyMigrations, openDatabase } from './platform/db.js';
import { startEmbeddedPostgres, type EmbeddedDatabase } from './platform/embedded-postgres.js';
import { createEventFeed } from './platform/event-feed.js';
import { EventRecord } from './platform/event-log.js';
import { schedulePruning } from './platform/event-retention.js';
import { EXPLORER_ASSETS, sendExplorer, sendExplorerAsset, wantsExplorer } from './platform/explorer.js';
import { handleGraphQLRequest, startApollo } from './platform/graphql.js';
import { dashboardRoute } from './platform/dashboard.js';
import { cookie, requestIdOf, sendGraphQLError, sendJson } from './platform/http.js';
import { clientIp, handleCors, setSecurityHeaders } from './platform/http-security.js';
import type { Logger } from './platform/logger.js';
import { createLiveConnections } from './platform/live-connections.js';
import { createReadRouting, mutationsReadPrimary } from './platform/read-routing.js';
import { createResponseCache } from './platform/response-cache.js';
import { createEventBus } from './platform/pubsub.js';
import { createRequestStats } from './metrics/request-stats.js';
import { startMonitoring } from './monitoring.js';
import { countingPublishes, createServerMetrics, metricsRoute } from './observability/prometheus.js';
import { createRequestObserver } from './observability/requests.js';
import { createErrorReporter } from './observability/sentry.js';
import { queryLimitsPlugin } from './platform/query-limits.js';
import { createRateLimiter, overBudget, retryAfterPlugin, sendRateLimited, tokenKey } from './platform/rate-limit.js';
import { createSubscriptionGroups } from './platform/subscription-groups.js';
import { startSubscriptionServer } from './platform/subscriptions.js';
import { buildAppSchema } from './schema.js';
import { Task, TaskDependency } from './tasks/entity.js';
import { ApiToken, Session, User } from './users/entity.js';
import { authenticate, ensureAdmin, type BootstrapResult } from './users/service.js';
import { SESSION_COOKIE, sessionRoute } from './users/session-routes.js';
import { Workflow } from './workflows/entity.js';

export const ENTITIES = [User, Session, ApiToken, Workflow, Task, TaskDependency, EventRecord];
export { SESSION_COOKIE };
const SHUTDOWN_GRACE_MS = 8_000;
const EVENT_PRUNE_INTERVAL_MS = 10 * 60_000;

export interface App {
  services: AppServices;
  server: Server;
  url: string;
  port: number;
  orm: MikroORM;
  /** set when the admin's password was generated at this start and must be shown once */
  bootstrap: BootstrapResult | null;
  stop(): Promise<void>;
}

/**
 * Who is asking, once the rate limit lets the request in: the budget is per token when one is
 * sent, else per IP. A token that turns out invalid also spends its IP's budget, so guessing
 * tokens is limited like anything else an anonymous caller does.
 */
function credentialOf(req: IncomingMessage): string | null {
  return bearerToken(req.headers.authorization) ?? cookie(req, SESSION_COOKIE);
}

async function resolveViewer(services: AppServices, req: IncomingMessage): Promise<Viewer | null> {
  const token = credentialOf(req);
  return token ? authenticate(services.orm.em.fork(), token) : null;
}

async function admit(services: AppServices, req: IncomingMessage): Promise<{ viewer: Viewer | null; ip: string } | { retryAfter: number }> {
  const { config, limiter } = services;
  const ip = clientIp(req, config.trustProxyHops);
  const token = credentialOf(req);
  let retryAfter = await overBudget(limiter, token ? tokenKey(token) : `ip:${ip}`, config.rateLimitPerMinute);
  if (retryAfter !== null) return { retryAfter };
  const viewer = token ? await authenticate(services.orm.em.fork(), token) : null;
  if (token && !viewer) retryAfter = await overBudget(limiter, `ip:${ip}`, config.rateLimitPerMinute);
  return retryAfter === null ? { viewer, ip } : { retryAfter };
}

export async function startApp(config: Config, logger: Logger): Promise<App> {
  let embedded: EmbeddedDatabase | undefined;
  let databaseUrl = config.databaseUrl;
  if (!databaseUrl) {
    embedded = await startEmbeddedPostgres(config.dataDir, config.embeddedPostgresPort, logger);
    databaseUrl = embedded.url;
  }

  const orm = await openDatabase({
    url: databaseUrl,
    readUrl: config.databaseReadUrl,
    poolMin: config.dbPoolMin,
    poolMax: config.dbPoolMax,
    entities: ENTITIES,
  });
  // What needs a session (the migration lock, leader election) bypasses a transaction-mode pooler.
  const directUrl = config.databaseDirectUrl ?? databaseUrl;
  const applied = await applyMigrations(orm, directUrl);
  if (applied.length) logger.info({ migrations: applied }, 'applied migrations');

  const generateAdmin = !config.databaseUrl;
  const bootstrap = config.adminEmail || generateAdmin ? await ensureAdmin(orm.em.fork(), config.adminEmail, config.adminPassword) : null;

  const liveConnections = createLiveConnections();
  const subscriptionGroups = createSubscriptionGroups();
  const serverMetrics = createServerMetrics(orm, liveConnections, subscriptionGroups);
  const bus = countingPublishes(createEventBus({ logger, redisUrl: config.redisUrl, redisPrefix: config.redisPrefix }), serverMetrics);
  const feed = createEventFeed({
    query: (sql, params) => orm.em.getConnection().execute(sql, params),
    bus,
    logger,
    pollIntervalMs: config.eventPollIntervalMs,
  });
  const healthChecks: HealthChecks = { optional: {} };
  if (config.redisUrl) healthChecks.optional.redis = () => bus.check();
  const limiter = createRateLimiter({ redisUrl: config.redisUrl, redisPrefix: config.redisPrefix, logger });
  const reporter = await createErrorReporter(config.sentryDsn, config.instanceId, logger);
  const reads = await createReadRouting(orm);
  if (reads.hasReplica) for (const topic of ['workflow', 'alert'] as const) bus.on(topic, (event) => reads.noteWrite(event.lsn));
  const services: AppServices = { config, logger, orm, bus, feed, healthChecks, liveConnections, limiter, errors: reporter, reads };
  const schema = await buildAppSchema(bus);
  const requestStats = createRequestStats();
  const observer = createRequestObserver(requestStats, serverMetrics, reporter, logger);
  const responseCache = config.cacheTtlSeconds > 0
    ? createResponseCache({ ttlSeconds: config.cacheTtlSeconds, logger, redisUrl: config.redisUrl, redisPrefix: config.redisPrefix })
    : null;
  if (responseCache) {
    bus.on('workflow', (event) => responseCache.workflowChanged(event.ownerId));
    bus.onResync(() => responseCache.retireAll());
  }
  const apollo: ApolloServer<Context> = await startApollo<Context>({
    schema,
    logger,
    maxTokens: config.limits.queryTokens,
    plugins: [observer.plugin, queryLimitsPlugin<Context>(config.limits), retryAfterPlugin<Context>(), mutationsReadPrimary<Context>(), ...(responseCache ? [responseCache.plugin<Context>()] : [])],
    onInternalError: (error, context, operationName) => observer.internalError(error, context?.requestId, operationName),
  });

  const dashboard = dashboardRoute(config.clientBuildDir, logger);
  let draining = false;
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const requestId = requestIdOf(req);
    res.setHeader('x-request-id', requestId);
    observer.watch(req, res, requestId);
    setSecurityHeaders(res);
    if (url.pathname === '/graphql') {
      if (handleCors(req, res, config.corsOrigins)) return;
      if (wantsExplorer(req)) return sendExplorer(req, res);
      const admitted = await admit(services, req);
      if ('retryAfter' in admitted) return sendRateLimited(res, admitted.retryAfter);
      return handleGraphQLRequest(apollo, req, res, {
        bodyLimit: config.limits.bodyBytes,
        variablesLimit: config.limits.variablesBytes,
        context: async () => createContext(services, admitted.viewer, requestId, admitted.ip),
      });
    }
    if (url.pathname.startsWith(EXPLORER_ASSETS) && req.method === 'GET') {
      if (await sendExplorerAsset(res, url.pathname.slice(EXPLORER_ASSETS.length))) return;
    }
    if (url.pathname === '/api/health') return healthRoute(services, healthChecks, res);
    if (url.pathname === '/api/ready') return readyRoute(services, healthChecks, res, draining);
    if (url.pathname === '/api/metrics') return metricsRoute(req, res, serverMetrics, config.metricsToken);
    if (url.pathname === '/api/session') return sessionRoute(services, req, res, () => resolveViewer(services, req), requestId);
    if (url.pathname === '/api' || url.pathname.startsWith('/api/')) return sendJson(res, 404, { error: 'Not found' });
    return dashboard(req, res);
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((error) => {
      logger.error({ err: error, url: req.url }, 'request failed');
      observer.internalError(error, res.getHeader('x-request-id') as string | undefined, undefined);
      if (!res.headersSent) sendGraphQLError(res, 500, 'INTERNAL_SERVER_ERROR', 'Internal server error');
      else res.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const monitoring = startMonitoring(services, requestStats, directUrl);
  const subscriptions = startSubscriptionServer({
    server,
    schema,
    logger,
    connections: liveConnections,
    groups: subscriptionGroups,
    limits: config.limits,
    sessionCookie: SESSION_COOKIE,
    authenticate: (token) => authenticate(orm.em.fork(), token),
    overBudget: (token) => overBudget(limiter, tokenKey(token), config.rateLimitPerMinute),
    createContext: (viewer, requestId) => createContext(services, viewer, requestId),
    onInternalError: (error, requestId) => reporter.report(error, { requestId, operationName: 'websocket' }),
    onOperation: (operation) => observer.webSocketOperation(operation),
    onEventExecuted: () => serverMetrics.subscriptionEventExecuted.inc(),
    onEventSent: () => serverMetrics.subscriptionEventSent.inc(),
  });
  bus.on('credential', (credential) => subscriptions.credentialRevoked(credential));
  const stopPruning = schedulePruning(orm.em, config.eventRetentionHours, EVENT_PRUNE_INTERVAL_MS, logger);
  const demo: DemoWorker | null = (await demoWanted(services)) ? await startDemo(services) : null;

  const stop = async (): Promise<void> => {
    draining = true;
    await demo?.stop();
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    // Keep-alive connections go as soon as their in-flight request is answered.
    const idle = setInterval(() => server.closeIdleConnections(), 50);
    server.closeIdleConnections();
    const forced = setTimeout(() => server.closeAllConnections(), SHUTDOWN_GRACE_MS);
    await subscriptions.stop();
    await closed;
    clearInterval(idle);
    clearTimeout(forced);
    logger.debug('http server closed');
    await monitoring.stop();
    stopPruning();
    feed.close();
    await bus.close();
    await responseCache?.close();
    await apollo.stop();
    await limiter.close();
    await reporter.close();
    await orm.close();
    logger.debug('database pool closed');
    await embedded?.stop();
  };

  return { services, server, url: `http://127.0.0.1:${port}`, port, orm, bootstrap, stop };
}

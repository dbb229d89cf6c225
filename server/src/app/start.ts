/**
 * Puts one replica together: database (embedded or external), migrations, the bootstrap
 * admin, the GraphQL schema, and the HTTP routes. `main.ts` and the tests both start the
 * product through `startApp`, so tests exercise exactly what runs in production.
 */
import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { ApolloServer } from '@apollo/server';
import type { MikroORM } from '@mikro-orm/postgresql';
import type { Config } from './config.js';
import { audienceOf, createContext, type AppServices, type Context } from './context.js';
import { EXPORT_PATH, EXPORTS } from './exports.js';
import { demoWanted } from '../demo/seed.js';
import { startDemo, type DemoWorker } from '../demo/worker.js';
import { healthRoute, liveRoute, readyRoute } from '../health/routes.js';
import type { HealthChecks } from '../health/types.js';
import { deleteOtherHeartbeats } from '../health/rows.js';
import { statusRoute } from '../status/routes.js';
import { bearerToken, type Viewer } from '../core/viewer.js';
import { watchDatabaseOutage } from '../db/outage.js';
import { applyMigrations, openDatabase } from '../db/orm.js';
import { startEmbeddedPostgres, type EmbeddedDatabase } from '../db/embedded-postgres.js';
import { createEventFeed } from '../live/event-feed.js';
import { schedulePruning } from '../live/retention.js';
import { EXPLORER_ASSETS, explorerAssets, sendExplorer, wantsExplorer } from '../http/explorer.js';
import { handleGraphQLRequest, startApollo } from '../http/graphql.js';
import { dashboardRoute, sendClientSettings } from '../http/dashboard.js';
import { cookie, requestUrl, sendGraphQLError, sendJson, sendUnavailable } from '../http/replies.js';
import { sendExport, type ExportFormat } from '../http/export.js';
import { clientIp, handleCors, servedOverHttps, setSecurityHeaders } from '../http/security.js';
import type { Logger } from '../core/logger.js';
import { createLiveConnections } from '../live/connections.js';
import { createReadRouting, mutationsReadPrimary } from '../db/read-routing.js';
import { createResponseCache } from '../http/response-cache.js';
import { createTrustedDocuments } from '../http/trusted-documents.js';
import { selectionPlugin } from '../graphql/selection.js';
import { createEventBus } from '../live/bus/bus.js';
import { createRequestStats } from '../metrics/request-stats.js';
import { startMonitoring } from './background.js';
import { loadSecretKey, secretBox } from '../core/secret-box.js';
import { createSenders } from '../alerts/notifications/channels.js';
import { ensureContactPointsFromEnvironment } from '../alerts/notifications/contact-points.js';
import { ensureDefaultRoutes } from '../alerts/routing/defaults.js';
import { countingPublishes, createServerMetrics, metricsRoute, registerQueueGauges } from '../observability/prometheus.js';
import { dashboardOperationNames, operationLabels } from '../observability/operation-labels.js';
import { createRequestObserver } from '../observability/requests.js';
import { createErrorReporter } from '../observability/sentry.js';
import { mayIntrospect, queryLimitsPlugin } from '../graphql/query-limits.js';
import { createRateLimiter, overBudget, retryAfterPlugin, sendRateLimited, tokenKey } from '../http/rate-limit.js';
import { createSubscriptionGroups } from '../live/groups.js';
import { startSubscriptionServer } from '../live/ws/server.js';
import { createEventStreams, STREAM_PATH } from '../live/sse/server.js';
import { buildAppSchema } from './schema.js';
import { authenticate, ensureAdmin, type BootstrapResult } from '../users/service.js';
import { SESSION_COOKIE, sessionCookie, sessionRoute } from '../users/session-routes.js';
import { ENTITIES } from './entities.js';
import { ALERT_TOPIC } from '../alerts/events.js';
import { WORKFLOW_TOPIC } from '../workflows/events.js';
import type { LogTopic } from '../live/bus/bus.js';
import { workflowCachePolicy } from '../workflows/cache.js';
import { backlogRecomputes, clusterBacklog } from '../workflows/queues.js';


/** The domains' event-log topics: a topic a domain adds and this does not list fails to compile. */
const LOG_TOPICS = Object.keys({ [WORKFLOW_TOPIC]: true, [ALERT_TOPIC]: true } satisfies Record<LogTopic, true>) as LogTopic[];
export { SESSION_COOKIE };
/** Connections still open this long after SIGTERM are cut; the deployments in deploy/ and railway.json wait longer before SIGKILL. */
export const SHUTDOWN_GRACE_MS = 8_000;
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

/** What a request signs in with: a bearer token, else the session cookie. */
interface Credential {
  /** null: an `Authorization: Bearer` header with no token in it */
  token: string | null;
  from: 'authorization' | 'cookie';
}

/** How this process reaches its own listener (the demo worker does): a wildcard means loopback. */
function loopbackHost(host: string): string {
  if (host === '0.0.0.0' || host === '') return '127.0.0.1';
  if (host === '::') return '[::1]';
  return host.includes(':') ? `[${host}]` : host;
}

function credentialOf(req: IncomingMessage): Credential | null {
  const authorization = req.headers.authorization;
  // Other schemes (Basic, from a proxy in front) are not ours to judge.
  if (authorization && /^bearer(\s|$)/i.test(authorization)) return { token: bearerToken(authorization), from: 'authorization' };
  const session = cookie(req, SESSION_COOKIE);
  return session ? { token: session, from: 'cookie' } : null;
}

async function resolveViewer(services: AppServices, req: IncomingMessage): Promise<Viewer | null> {
  const token = credentialOf(req)?.token;
  return token ? authenticate(services.orm.em.fork(), token) : null;
}

/**
 * Who is asking, once the rate limit lets the request in: the budget is per token when one is
 * sent, else per IP. A credential that does not authenticate is refused (never anonymous, so
 * the client knows to sign in again) and also spends its IP's budget, so guessing tokens is
 * limited like anything else an anonymous caller does.
 */
async function admit(services: AppServices, req: IncomingMessage): Promise<{ viewer: Viewer | null; ip: string; credential: Credential | null } | { retryAfter: number } | { refused: Credential }> {
  const { config, limiter } = services;
  const ip = clientIp(req, config.trustProxyHops);
  const credential = credentialOf(req);
  const token = credential?.token;
  let retryAfter = await overBudget(limiter, token ? tokenKey(token) : `ip:${ip}`, config.rateLimitPerMinute);
  if (retryAfter !== null) return { retryAfter };
  const viewer = token ? await authenticate(services.orm.em.fork(), token) : null;
  if (!credential || viewer) return { viewer, ip, credential };
  if (token) retryAfter = await overBudget(limiter, `ip:${ip}`, config.rateLimitPerMinute);
  return retryAfter === null ? { refused: credential } : { retryAfter };
}

/** 401 for a credential that does not authenticate; a stale session cookie is cleared too. */
function sendUnauthenticated(req: IncomingMessage, res: ServerResponse, credential: Credential): void {
  const description = credential.token === null ? 'Authorization: Bearer has no token' : 'The credential is unknown, expired or revoked';
  const headers: Record<string, string> = { 'www-authenticate': `Bearer realm="workflow-factory", error="invalid_token", error_description="${description}"` };
  if (credential.from === 'cookie') headers['set-cookie'] = sessionCookie(req, '', 0);
  sendJson(res, 401, { errors: [{ message: `${description}: sign in again`, extensions: { code: 'UNAUTHENTICATED' } }] }, headers);
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
    logger,
  });
  // What needs a session (the migration lock, leader election) bypasses a transaction-mode pooler.
  const directUrl = config.databaseDirectUrl ?? databaseUrl;
  const applied = await applyMigrations(orm, directUrl);
  if (applied.length) logger.info({ migrations: applied }, 'applied migrations');

  const generateAdmin = !config.databaseUrl;
  const bootstrap = config.adminEmail || generateAdmin ? await ensureAdmin(orm.em.fork(), config.adminEmail, config.adminPassword, config.adminPasswordReset) : null;
  if (bootstrap?.promoted) logger.warn({ account: bootstrap.email }, 'ADMIN_EMAIL made this existing account an admin');
  if (bootstrap?.password === 'kept') {
    logger.warn({ account: bootstrap.email }, 'ADMIN_PASSWORD differs from this admin\'s password, which was kept (ADMIN_PASSWORD only sets the password of a new account; ADMIN_PASSWORD_RESET=1 resets it)');
  }
  if (bootstrap?.password === 'reset') logger.warn({ account: bootstrap.email }, 'reset this admin\'s password to ADMIN_PASSWORD and signed its sessions out (ADMIN_PASSWORD_RESET=1; unset it now)');

  const liveConnections = createLiveConnections();
  const subscriptionGroups = createSubscriptionGroups();
  const eventStreamCount = createLiveConnections();
  const serverMetrics = createServerMetrics(orm, liveConnections, subscriptionGroups, eventStreamCount);
  const bus = countingPublishes(createEventBus({ logger, redis: config.redis, redisPrefix: config.redisPrefix }), serverMetrics);
  const feed = createEventFeed({
    query: (sql, params) => orm.em.getConnection().execute(sql, params),
    bus,
    logger,
    pollIntervalMs: config.eventPollIntervalMs,
  });
  const healthChecks: HealthChecks = { optional: {} };
  if (config.redis) healthChecks.optional.redis = () => bus.check();
  const limiter = createRateLimiter({ redis: config.redis, redisPrefix: config.redisPrefix, logger });
  const reporter = await createErrorReporter(config.sentryDsn, config.instanceId, logger);
  const outage = watchDatabaseOutage({
    logger,
    probe: () => orm.em.getConnection().execute('select 1'),
    report: (error) => reporter.report(error, { operationName: 'database-outage' }),
  });
  const reads = await createReadRouting(orm);
  if (reads.hasReplica) for (const topic of LOG_TOPICS) bus.on(topic, (event) => reads.noteWrite(event.lsn));
  const secretKey = await loadSecretKey(config.secretsKey, config.dataDir);
  if (secretKey.file && config.databaseUrl) logger.warn({ file: secretKey.file }, 'SECRETS_KEY is not set: contact point secrets are sealed with a key kept in DATA_DIR; set SECRETS_KEY, the same on every replica');
  const services: AppServices = {
    config, logger, orm, bus, feed, healthChecks, liveConnections, limiter, errors: reporter, outage, reads,
    secrets: secretBox(secretKey.key),
    senders: createSenders(config, (error) => logger.warn({ err: error.message }, 'message template failed: sent the default text instead')),
  };
  await ensureContactPointsFromEnvironment(services);
  await ensureDefaultRoutes(services);
  registerQueueGauges(serverMetrics, { read: () => clusterBacklog(services), reads: () => backlogRecomputes(services) }, logger);
  const schema = await buildAppSchema(bus);
  const requestStats = createRequestStats();
  const observer = createRequestObserver(requestStats, serverMetrics, reporter, logger, operationLabels(await dashboardOperationNames()), config.logFormat === 'pretty' ? 'debug' : 'info');
  const responseCache = config.cacheTtlSeconds > 0
    ? createResponseCache({ ttlSeconds: config.cacheTtlSeconds, logger, redis: config.redis, redisPrefix: config.redisPrefix, policies: [workflowCachePolicy(bus)], audienceOf })
    : null;
  if (responseCache) bus.onResync(() => responseCache.retireAll());
  const trusted = await createTrustedDocuments({ mode: config.trustedDocuments, redis: config.redis, redisPrefix: config.redisPrefix });
  const apollo: ApolloServer<Context> = await startApollo<Context>({
    schema,
    logger,
    maxTokens: config.limits.queryTokens,
    persistedQueries: trusted.persistedQueries,
    queryPlans: config.queryPlans,
    plugins: [observer.plugin, trusted.plugin<Context>(), queryLimitsPlugin<Context>(config.limits), retryAfterPlugin<Context>(), mutationsReadPrimary<Context>(), selectionPlugin<Context>(), ...(responseCache ? [responseCache.plugin<Context>()] : [])],
    onInternalError: (error, context, operationName) => observer.internalError(error, context?.requestId, operationName),
    onUnavailable: (error) => outage.noted(error),
    suggestions: (context) => mayIntrospect(context.viewer, config.limits),
  });

  /** What both live transports (WebSocket, Server-Sent Events) run operations with. */
  const live = {
    schema,
    logger,
    groups: subscriptionGroups,
    limits: config.limits,
    authenticate: (token: string) => authenticate(orm.em.fork(), token),
    createContext: (viewer: Viewer | null, requestId: string) => createContext(services, viewer, requestId),
    audienceOf,
    onUnavailable: (error: unknown) => outage.noted(error),
    refusal: trusted.refusal,
    onEventExecuted: () => serverMetrics.subscriptionEventExecuted.inc(),
    onEventSent: (count: number) => serverMetrics.subscriptionEventSent.inc(count),
  };
  const eventStreams = createEventStreams({
    ...live,
    connections: eventStreamCount,
    onInternalError: (error, requestId) => reporter.report(error, { requestId, operationName: 'sse' }),
    onOperation: (operation) => observer.liveOperation(operation, 'sse'),
  });

  const dashboard = dashboardRoute(config.clientBuildDir, logger, config.sentryDsnBrowser ? [new URL(config.sentryDsnBrowser).origin] : []);
  const explorerFiles = explorerAssets(path.join(config.dataDir, 'cache'), logger);
  let draining = false;
  // Responses not yet sent: told to close their connection when draining starts.
  const unanswered = new Set<ServerResponse>();
  const closeWhenDone = (res: ServerResponse) => {
    if (!res.headersSent) res.setHeader('connection', 'close');
  };
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const requestId = randomUUID();
    res.setHeader('x-request-id', requestId);
    observer.watch(req, res, requestId);
    setSecurityHeaders(req, res, config.trustProxyHops);
    const url = requestUrl(req);
    if (!url) return sendGraphQLError(res, 400, 'BAD_REQUEST', 'Malformed request target');
    if (url.pathname === '/graphql') {
      if (handleCors(req, res, config.corsOrigins)) return;
      const admitted = await admit(services, req);
      if ('retryAfter' in admitted) return sendRateLimited(res, admitted.retryAfter);
      // A stale cookie still gets the explorer, with the sign-in hint rather than a 401.
      if (wantsExplorer(req)) return sendExplorer(req, res, { secure: servedOverHttps(req, config.trustProxyHops), signedIn: 'viewer' in admitted && admitted.viewer !== null });
      if ('refused' in admitted) return sendUnauthenticated(req, res, admitted.refused);
      return handleGraphQLRequest(apollo, req, res, {
        bodyLimit: config.limits.bodyBytes,
        variablesLimit: config.limits.variablesBytes,
        limits: config.limits,
        // A page on another site cannot send an Authorization header without a CORS preflight:
        // a bearer caller needs no CSRF guard, so its GET queries (curl -G, urql) pass.
        preflighted: admitted.credential?.from === 'authorization',
        context: async () => createContext(services, admitted.viewer, requestId, admitted.ip, [req.headers['idempotency-key']].flat()[0]),
      });
    }
    if (url.pathname === STREAM_PATH) {
      if (handleCors(req, res, config.corsOrigins)) return;
      const admitted = await admit(services, req);
      if ('retryAfter' in admitted) return sendRateLimited(res, admitted.retryAfter);
      if ('refused' in admitted) return sendUnauthenticated(req, res, admitted.refused);
      // Like a WebSocket, a stream needs someone to follow events for.
      if (!admitted.viewer || !admitted.credential?.token) return sendJson(res, 401, { errors: [{ message: 'Sign in: send Authorization: Bearer <token> or the session cookie', extensions: { code: 'UNAUTHENTICATED' } }] }, { 'www-authenticate': 'Bearer realm="workflow-factory"' });
      return eventStreams.serve(req, res, admitted.viewer, admitted.credential.token);
    }
    if (url.pathname.startsWith(EXPLORER_ASSETS) && (req.method === 'GET' || req.method === 'HEAD')) {
      if (await explorerFiles(req, res, url.pathname.slice(EXPLORER_ASSETS.length))) return;
    }
    if (url.pathname === '/api/live') return liveRoute(res);
    if (url.pathname === '/api/client-settings') return sendClientSettings(res, { sentryDsn: config.sentryDsnBrowser ?? null });
    if (url.pathname === '/api/health') return healthRoute(services, healthChecks, res);
    if (url.pathname === '/api/ready') return readyRoute(services, healthChecks, res, draining);
    if (url.pathname === '/api/status') return statusRoute(services, req, res, 'json', () => resolveViewer(services, req));
    if (url.pathname === '/status') return statusRoute(services, req, res, 'html', () => resolveViewer(services, req));
    if (url.pathname === '/api/metrics') return metricsRoute(req, res, serverMetrics, config.metricsToken);
    if (url.pathname === '/api/session') return sessionRoute(services, req, res, () => resolveViewer(services, req), requestId);
    const exported = url.pathname.match(EXPORT_PATH);
    // Own names only: `constructor.csv` is not a list.
    if (exported && Object.hasOwn(EXPORTS, exported[1])) {
      if (req.method !== 'GET') return sendJson(res, 405, { error: 'Use GET' }, { allow: 'GET' });
      const admitted = await admit(services, req);
      if ('retryAfter' in admitted) return sendRateLimited(res, admitted.retryAfter);
      if ('refused' in admitted) return sendUnauthenticated(req, res, admitted.refused);
      const ctx = createContext(services, admitted.viewer, requestId, admitted.ip);
      // Nothing is "selected": no list counts its total once per page.
      ctx.operation.selected = new Map();
      return sendExport(res, exported[1], EXPORTS[exported[1]](ctx), exported[2] as ExportFormat, url.searchParams);
    }
    if (url.pathname === '/api' || url.pathname.startsWith('/api/')) return sendJson(res, 404, { error: 'Not found' });
    return dashboard(req, res);
  };

  const server = createServer((req, res) => {
    // Draining: a keep-alive client must not send its next request on this connection.
    if (draining) closeWhenDone(res);
    unanswered.add(res);
    res.once('close', () => unanswered.delete(res));
    handle(req, res).catch((error) => {
      if (outage.noted(error)) return sendUnavailable(res);
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
  if (embedded) {
    // Only one server runs on an embedded database: any other heartbeat is a replica that was
    // killed rather than stopped, and will not come back.
    const forgotten = await deleteOtherHeartbeats(orm.em.getConnection(), config.instanceId);
    if (forgotten.length) logger.warn({ replicas: forgotten }, 'forgot the heartbeats of earlier servers on this DATA_DIR that did not stop cleanly');
  }
  const monitoring = startMonitoring(services, requestStats, directUrl);
  const subscriptions = startSubscriptionServer({
    ...live,
    server,
    connections: liveConnections,
    sessionCookie: SESSION_COOKIE,
    overBudget: (token) => overBudget(limiter, tokenKey(token), config.rateLimitPerMinute),
    onInternalError: (error, requestId) => reporter.report(error, { requestId, operationName: 'websocket' }),
    onOperation: (operation) => observer.liveOperation(operation, 'websocket'),
  });
  bus.on('credential', (credential) => {
    subscriptions.credentialRevoked(credential);
    eventStreams.credentialRevoked(credential);
  });
  const stopPruning = schedulePruning(orm.em, config.eventRetentionHours, EVENT_PRUNE_INTERVAL_MS, logger);
  const demoChoice = await demoWanted(services);
  logger.info({ demo: demoChoice.on }, `demo ${demoChoice.on ? 'on' : 'off'}: ${demoChoice.reason}`);
  const url = `http://${loopbackHost(config.host)}:${port}`;
  const demo: DemoWorker | null = demoChoice.on ? await startDemo(services, url) : null;

  const stop = async (): Promise<void> => {
    draining = true;
    unanswered.forEach(closeWhenDone);
    await demo?.stop();
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    // Keep-alive connections go as soon as their in-flight request is answered.
    const idle = setInterval(() => server.closeIdleConnections(), 50);
    server.closeIdleConnections();
    const forced = setTimeout(() => server.closeAllConnections(), SHUTDOWN_GRACE_MS);
    eventStreams.stop();
    await subscriptions.stop();
    await closed;
    clearInterval(idle);
    clearTimeout(forced);
    logger.debug('http server closed');
    await monitoring.stop();
    services.senders.close();
    outage.stop();
    stopPruning();
    feed.close();
    await bus.close();
    await responseCache?.close();
    await trusted.close();
    await apollo.stop();
    await limiter.close();
    await reporter.close();
    await orm.close();
    logger.debug('database pool closed');
    await embedded?.stop();
  };

  return { services, server, url, port, orm, bootstrap, stop };
}

/**
 * Every setting the server reads, parsed and validated once at start.
 * `main.ts` passes `process.env` in; nothing else reads the environment, so tests build
 * configs from plain objects. A bad value throws a `ConfigError` whose message is one line
 * naming the variable.
 */
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export interface Config {
  port: number;
  host: string;
  /** unset: embedded PostgreSQL in `dataDir` */
  databaseUrl?: string;
  /**
   * PostgreSQL itself, for the work that needs a session (the migration lock, leader
   * election) when `databaseUrl` goes through a transaction-mode pooler; defaults to `databaseUrl`
   */
  databaseDirectUrl?: string;
  databaseReadUrl?: string;
  dataDir: string;
  /** port of the embedded PostgreSQL (never 5432, which the machine's own server may use) */
  embeddedPostgresPort: number;
  redisUrl?: string;
  /** prefix of every Redis key and channel, so replicas of one deployment share them and nothing else does */
  redisPrefix: string;
  /** how often each replica re-reads new events even without news from the bus (lost messages) */
  eventPollIntervalMs: number;
  adminEmail?: string;
  adminPassword?: string;
  sentryDsn?: string;
  logLevel: LogLevel;
  dbPoolMin: number;
  dbPoolMax: number;
  sampleIntervalSeconds: number;
  alertEvalIntervalSeconds: number;
  rateLimitPerMinute: number;
  loginAttemptsPer15Min: number;
  cacheTtlSeconds: number;
  metricsToken?: string;
  slackWebhookUrl?: string;
  alertWebhookUrl?: string;
  alertWebhookSecret?: string;
  smtpUrl?: string;
  alertEmailTo?: string;
  /** sender of alert e-mails */
  alertEmailFrom: string;
  /** undefined: on for an empty embedded database, off otherwise */
  demo?: boolean;
  sessionTtlHours: number;
  eventRetentionHours: number;
  metricRetentionDays: number;
  corsOrigins: string[];
  /** id of this replica: metrics `instance`, health components, logs */
  instanceId: string;
  /** where the built dashboard lives (default: the repository's client/build); missing: the API alone is served */
  clientBuildDir: string;
  /** proxies in front of the server whose X-Forwarded-For entries are trusted (0: the socket's address) */
  trustProxyHops: number;
  limits: RequestLimits;
}

/** What one client request may ask for; see platform/query-limits.ts and platform/http-guard.ts. */
export interface RequestLimits {
  bodyBytes: number;
  variablesBytes: number;
  queryDepth: number;
  queryAliases: number;
  queryTokens: number;
  queryDirectives: number;
  queryCost: number;
  /** signed-in users may introspect the schema unless this is false; anonymous never */
  introspection: boolean;
  /** a WebSocket that has not sent connection_init by then is closed (4408) */
  wsInitTimeoutMs: number;
  /** operations one WebSocket may run at once */
  wsMaxSubscriptions: number;
  /** how often an open WebSocket's credential is checked again (revoked or expired: closed with 4403) */
  wsCredentialRecheckMs: number;
  /** every open WebSocket is pinged this often; one that has not answered the previous ping is cut off */
  wsKeepaliveMs: number;
  /** a WebSocket whose unsent messages exceed this many bytes (a client that stopped reading) is cut off */
  wsMaxBufferedBytes: number;
}

export class ConfigError extends Error {
  constructor(variable: string, problem: string) {
    super(`Invalid setting ${variable}: ${problem}`);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

function text(env: Env, name: string): string | undefined {
  const value = env[name]?.trim();
  return value ? value : undefined;
}

function integer(env: Env, name: string, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const raw = text(env, name);
  if (raw === undefined) return fallback;
  if (!/^-?\d+$/.test(raw)) throw new ConfigError(name, `expected a whole number, got "${raw}"`);
  const value = Number(raw);
  if (value < min || value > max) throw new ConfigError(name, `expected ${min} to ${max}, got ${value}`);
  return value;
}

function url(env: Env, name: string, protocols: string[]): string | undefined {
  const raw = text(env, name);
  if (raw === undefined) return undefined;
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    throw new ConfigError(name, 'not a valid URL');
  }
  if (!protocols.includes(parsed.protocol)) {
    throw new ConfigError(name, `expected a ${protocols.join(' or ')} URL, got ${parsed.protocol}`);
  }
  return raw;
}

function flag(env: Env, name: string): boolean | undefined {
  const raw = text(env, name);
  if (raw === undefined) return undefined;
  if (['1', 'true', 'yes', 'on'].includes(raw.toLowerCase())) return true;
  if (['0', 'false', 'no', 'off'].includes(raw.toLowerCase())) return false;
  throw new ConfigError(name, `expected 1 or 0, got "${raw}"`);
}

function redisPrefix(env: Env): string {
  const prefix = text(env, 'REDIS_PREFIX') ?? 'wf:';
  if (!/^[\w:.-]{1,64}$/.test(prefix)) throw new ConfigError('REDIS_PREFIX', 'expected 1 to 64 letters, digits or _ : . -');
  return prefix;
}

const DEFAULT_CLIENT_BUILD_DIR = fileURLToPath(new URL('../../client/build', import.meta.url));
const LOG_LEVELS: LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
const POSTGRES = ['postgres:', 'postgresql:'];

export function loadConfig(env: Env): Config {
  const logLevel = (text(env, 'LOG_LEVEL') ?? 'info').toLowerCase() as LogLevel;
  if (!LOG_LEVELS.includes(logLevel)) throw new ConfigError('LOG_LEVEL', `expected one of ${LOG_LEVELS.join(', ')}`);

  const adminEmail = text(env, 'ADMIN_EMAIL');
  if (adminEmail !== undefined && !/^[^@\s]+@[^@\s]+$/.test(adminEmail)) {
    throw new ConfigError('ADMIN_EMAIL', 'not an e-mail address');
  }
  const adminPassword = env.ADMIN_PASSWORD;
  if (adminPassword !== undefined && adminPassword.length < 8) {
    throw new ConfigError('ADMIN_PASSWORD', 'must be at least 8 characters');
  }
  if ((adminEmail === undefined) !== (adminPassword === undefined)) {
    throw new ConfigError(adminEmail ? 'ADMIN_PASSWORD' : 'ADMIN_EMAIL', 'ADMIN_EMAIL and ADMIN_PASSWORD go together');
  }

  const dbPoolMin = integer(env, 'DB_POOL_MIN', 2, 0, 1000);
  const dbPoolMax = integer(env, 'DB_POOL_MAX', 10, 1, 1000);
  if (dbPoolMin > dbPoolMax) throw new ConfigError('DB_POOL_MIN', `must not exceed DB_POOL_MAX (${dbPoolMax})`);

  const alertWebhookUrl = url(env, 'ALERT_WEBHOOK_URL', ['http:', 'https:']);
  const smtpUrl = url(env, 'SMTP_URL', ['smtp:', 'smtps:']);
  const alertEmailTo = text(env, 'ALERT_EMAIL_TO');
  if (smtpUrl && !alertEmailTo) throw new ConfigError('ALERT_EMAIL_TO', 'required when SMTP_URL is set');

  const databaseUrl = url(env, 'DATABASE_URL', POSTGRES);
  const databaseDirectUrl = url(env, 'DATABASE_DIRECT_URL', POSTGRES);
  // The embedded PostgreSQL is reached directly already; a direct URL beside it would name another server.
  if (databaseDirectUrl && !databaseUrl) throw new ConfigError('DATABASE_DIRECT_URL', 'needs DATABASE_URL');

  const clientBuildDir = text(env, 'CLIENT_BUILD_DIR');

  return {
    port: integer(env, 'PORT', 4000, 0, 65535),
    host: text(env, 'HOST') ?? '0.0.0.0',
    databaseUrl,
    databaseDirectUrl: databaseDirectUrl ?? databaseUrl,
    databaseReadUrl: url(env, 'DATABASE_READ_URL', POSTGRES),
    dataDir: path.resolve(text(env, 'DATA_DIR') ?? './.data'),
    embeddedPostgresPort: integer(env, 'EMBEDDED_POSTGRES_PORT', 5433, 1, 65535),
    redisUrl: url(env, 'REDIS_URL', ['redis:', 'rediss:']),
    redisPrefix: redisPrefix(env),
    eventPollIntervalMs: integer(env, 'EVENT_POLL_INTERVAL_MS', 5_000, 50, 600_000),
    adminEmail: adminEmail?.toLowerCase(),
    adminPassword,
    sentryDsn: url(env, 'SENTRY_DSN', ['http:', 'https:']),
    logLevel,
    dbPoolMin,
    dbPoolMax,
    sampleIntervalSeconds: integer(env, 'SAMPLE_INTERVAL_SECONDS', 10, 1, 86400),
    alertEvalIntervalSeconds: integer(env, 'ALERT_EVAL_INTERVAL_SECONDS', 15, 1, 86400),
    rateLimitPerMinute: integer(env, 'RATE_LIMIT_PER_MINUTE', 1200, 0),
    loginAttemptsPer15Min: integer(env, 'LOGIN_ATTEMPTS_PER_15_MIN', 10, 1),
    cacheTtlSeconds: integer(env, 'CACHE_TTL_SECONDS', 30, 0, 86400),
    metricsToken: text(env, 'METRICS_TOKEN'),
    slackWebhookUrl: url(env, 'SLACK_WEBHOOK_URL', ['http:', 'https:']),
    alertWebhookUrl,
    alertWebhookSecret: text(env, 'ALERT_WEBHOOK_SECRET'),
    smtpUrl,
    alertEmailTo,
    alertEmailFrom: text(env, 'ALERT_EMAIL_FROM') ?? 'Workflow Factory <alerts@workflow-factory.localhost>',
    demo: flag(env, 'DEMO'),
    sessionTtlHours: integer(env, 'SESSION_TTL_HOURS', 24 * 7, 1, 24 * 365),
    eventRetentionHours: integer(env, 'EVENT_RETENTION_HOURS', 24, 1, 24 * 365),
    metricRetentionDays: integer(env, 'METRIC_RETENTION_DAYS', 7, 1, 3650),
    corsOrigins: (text(env, 'CORS_ORIGINS') ?? '').split(',').map((o) => o.trim()).filter(Boolean),
    instanceId: text(env, 'INSTANCE_ID') ?? `${os.hostname()}-${process.pid}`,
    clientBuildDir: clientBuildDir ? path.resolve(clientBuildDir) : DEFAULT_CLIENT_BUILD_DIR,
    trustProxyHops: integer(env, 'TRUST_PROXY_HOPS', 0, 0, 10),
    limits: {
      bodyBytes: integer(env, 'MAX_BODY_BYTES', 1024 * 1024, 1024, 100 * 1024 * 1024),
      variablesBytes: integer(env, 'MAX_VARIABLES_BYTES', 1024 * 1024, 16, 100 * 1024 * 1024),
      queryDepth: integer(env, 'QUERY_MAX_DEPTH', 10, 1, 1000),
      queryAliases: integer(env, 'QUERY_MAX_ALIASES', 30, 0, 100_000),
      queryTokens: integer(env, 'QUERY_MAX_TOKENS', 5000, 10, 1_000_000),
      queryDirectives: integer(env, 'QUERY_MAX_DIRECTIVES', 20, 0, 100_000),
      queryCost: integer(env, 'QUERY_MAX_COST', 100_000, 1),
      introspection: flag(env, 'INTROSPECTION') ?? true,
      wsInitTimeoutMs: integer(env, 'WS_INIT_TIMEOUT_MS', 3_000, 100, 600_000),
      wsMaxSubscriptions: integer(env, 'WS_MAX_SUBSCRIPTIONS', 100, 1, 10_000),
      wsCredentialRecheckMs: integer(env, 'WS_CREDENTIAL_RECHECK_MS', 30_000, 50, 3_600_000),
      wsKeepaliveMs: integer(env, 'WS_KEEPALIVE_MS', 12_000, 50, 3_600_000),
      wsMaxBufferedBytes: integer(env, 'WS_MAX_BUFFERED_BYTES', 4 * 1024 * 1024, 1024),
    },
  };
}

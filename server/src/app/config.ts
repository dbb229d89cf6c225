/**
 * Every setting the server reads, parsed and validated once at start.
 * `main.ts` passes `process.env` in; nothing else reads the environment, so tests build
 * configs from plain objects. A bad value throws a `ConfigError` whose message is one line
 * naming the variable.
 */
import os from 'node:os';
import path from 'node:path';
import type { RedisNode, RedisTarget } from '../core/redis.js';
import type { RequestLimits } from '../core/limits.js';
import type { LogFormat, LogLevel } from '../core/logger.js';
import { codePoints } from '../core/text.js';
import { inRepository } from '../core/paths.js';
import type { TrustedDocumentsMode } from '../http/trusted-documents.js';
import { validCron, validTimezone } from '../schedules/cron.js';

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
  /** unset: no Redis (in-process bus, limiter and cache) */
  redis?: RedisTarget;
  /** prefix of every Redis key and channel, so replicas of one deployment share them and nothing else does */
  redisPrefix: string;
  /** how often each replica re-reads new events even without news from the bus (lost messages) */
  eventPollIntervalMs: number;
  adminEmail?: string;
  adminPassword?: string;
  /** ADMIN_PASSWORD replaces the password of an admin that exists already (else only a new account gets it) */
  adminPasswordReset: boolean;
  sentryDsn?: string;
  /** the dashboard reports its own errors (release and route, no personal data) to this Sentry DSN */
  sentryDsnBrowser?: string;
  /** OTLP endpoint traces go to (OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, else OTEL_EXPORTER_OTLP_ENDPOINT); unset: no tracing at all. The SDK reads the other OTEL_* variables itself */
  otlpEndpoint?: string;
  /** how spans are sent (OTEL_EXPORTER_OTLP_TRACES_PROTOCOL, else OTEL_EXPORTER_OTLP_PROTOCOL): protobuf (the default) or JSON over HTTP; gRPC is not shipped */
  otlpProtocol: OtlpProtocol;
  logLevel: LogLevel;
  logFormat: LogFormat;
  dbPoolMin: number;
  dbPoolMax: number;
  sampleIntervalSeconds: number;
  alertEvalIntervalSeconds: number;
  /** the default policy's timing (alerts no notification route takes) */
  alertDefaultGroupWaitSeconds: number;
  alertDefaultGroupIntervalSeconds: number;
  alertDefaultRepeatIntervalSeconds: number;
  /** the first start makes the guide's notification routes (routing/defaults.ts); off: no routes */
  alertDefaultRoutes: boolean;
  /** how often the leading replica ends task attempts whose lease lapsed or that timed out */
  taskExpiryIntervalMs: number;
  /** how often each replica fires due schedule slots and delayed starts */
  schedulerIntervalMs: number;
  alertDeliveryIntervalMs: number;
  /** cron expressions may carry a leading seconds field (six fields); off: five, minute precision */
  scheduleSeconds: boolean;
  rateLimitPerMinute: number;
  loginAttemptsPer15Min: number;
  cacheTtlSeconds: number;
  /** QUERY_PLANS: queries run by their plan where one covers them (graphql/planned.ts); off: always graphql-jit */
  queryPlans: boolean;
  metricsToken?: string;
  slackWebhookUrl?: string;
  alertWebhookUrl?: string;
  alertWebhookSecret?: string;
  smtpUrl?: string;
  alertEmailTo?: string;
  /** sender of alert e-mails */
  alertEmailFrom: string;
  /** the weekly operations report goes here (comma-separated addresses); none: no report mail */
  reportEmailTo?: string;
  /** when the report goes out, a cron expression read in `reportTimezone` (default Monday 08:00) */
  reportCron: string;
  /** the IANA time zone REPORT_CRON is read in (default UTC) */
  reportTimezone: string;
  /** a failed report send is tried again after this many seconds (at most 5 attempts) */
  reportRetrySeconds: number;
  /** PagerDuty routing key: makes a PagerDuty contact point on first start */
  pagerdutyRoutingKey?: string;
  /** where PagerDuty events go (Events API v2) */
  pagerdutyEventsUrl: string;
  /** 32-byte AES key for contact points' secrets; unset: `<dataDir>/secrets.key`, made once */
  secretsKey?: Buffer;
  /** undefined: on for an empty embedded database, off otherwise */
  demo?: boolean;
  sessionTtlHours: number;
  eventRetentionHours: number;
  metricRetentionDays: number;
  /** audit entries older than this are deleted */
  auditRetentionDays: number;
  /** how long an Idempotency-Key answers with its first result */
  idempotencyHours: number;
  /** 1-minute and 1-hour metric rollups older than these are pruned */
  metricRollupMinuteDays: number;
  metricRollupHourDays: number;
  corsOrigins: string[];
  /** id of this replica: metrics `instance`, health components, logs */
  instanceId: string;
  /** processes serving the one port (node:cluster), each a replica of its own; 1: this process serves */
  workers: number;
  /** where the built dashboard lives (default: the repository's client/build); missing: the API alone is served */
  clientBuildDir: string;
  /** proxies in front of the server whose X-Forwarded-For entries are trusted (0: the socket's address) */
  trustProxyHops: number;
  /** who sees `/status` and `/api/status`: anyone, signed-in users, or nobody (404) */
  statusPage: StatusPageMode;
  /** `only`: just the dashboard's and the SDK's documents run (any for ADMINs); `allow`: any */
  trustedDocuments: TrustedDocumentsMode;
  limits: RequestLimits;
}

export type StatusPageMode = 'public' | 'private' | 'off';
const STATUS_PAGE_MODES: StatusPageMode[] = ['public', 'private', 'off'];


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

const redisUrlSetting = (env: Env) => url(env, 'REDIS_URL', ['redis:', 'rediss:']);

function redisNodes(env: Env, name: string): RedisNode[] | undefined {
  const raw = text(env, name);
  if (raw === undefined) return undefined;
  return raw.split(',').map((entry) => {
    const match = entry.trim().match(/^(\[[0-9a-fA-F:]+\]|[^\s:/]+):(\d{1,5})$/);
    const port = Number(match?.[2]);
    if (!match || port < 1 || port > 65535) throw new ConfigError(name, `expected host:port,host:port…, got "${entry.trim()}"`);
    return { host: match[1].replace(/^\[|\]$/g, ''), port };
  });
}

/** One of REDIS_URL, REDIS_SENTINELS (+ REDIS_SENTINEL_NAME) or REDIS_CLUSTER_NODES, or none. */
function redisTarget(env: Env): RedisTarget | undefined {
  const url = redisUrlSetting(env);
  const sentinels = redisNodes(env, 'REDIS_SENTINELS');
  const cluster = redisNodes(env, 'REDIS_CLUSTER_NODES');
  const name = text(env, 'REDIS_SENTINEL_NAME');
  const password = env.REDIS_PASSWORD || undefined;
  const given = [url && 'REDIS_URL', sentinels && 'REDIS_SENTINELS', cluster && 'REDIS_CLUSTER_NODES'].filter(Boolean);
  if (given.length > 1) throw new ConfigError(given[1] as string, `set only one of ${given.join(' and ')}`);
  if (name && !sentinels) throw new ConfigError('REDIS_SENTINEL_NAME', 'needs REDIS_SENTINELS');
  if (password && url) throw new ConfigError('REDIS_PASSWORD', 'put the password in REDIS_URL (redis://:password@host:port)');
  if (url) return { kind: 'server', url };
  if (sentinels) {
    if (!name) throw new ConfigError('REDIS_SENTINEL_NAME', 'required with REDIS_SENTINELS (the name the sentinels monitor the primary by)');
    return { kind: 'sentinel', sentinels, name, password };
  }
  return cluster ? { kind: 'cluster', nodes: cluster, password } : undefined;
}

const DEFAULT_CLIENT_BUILD_DIR = inRepository('client', 'build');
const LOG_LEVELS: LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
const LOG_FORMATS: LogFormat[] = ['json', 'pretty'];
const POSTGRES = ['postgres:', 'postgresql:'];

/** 32 bytes, as 64 hex digits or base64. */
function secretsKey(env: Env): Buffer | undefined {
  const raw = text(env, 'SECRETS_KEY');
  if (raw === undefined) return undefined;
  const key = /^[0-9a-fA-F]{64}$/.test(raw) ? Buffer.from(raw, 'hex') : Buffer.from(raw, 'base64');
  if (key.length !== 32) throw new ConfigError('SECRETS_KEY', 'expected 32 bytes as 64 hex digits or base64 (openssl rand -base64 32)');
  return key;
}

/** Monday 08:00 (in REPORT_TIMEZONE) */
const DEFAULT_REPORT_CRON = '0 8 * * 1';

/** An IANA time zone (canonical spelling), or the default. */
function timezoneSetting(env: Env, name: string, fallback: string): string {
  const value = text(env, name);
  if (value === undefined) return fallback;
  try {
    return validTimezone(value, name);
  } catch {
    throw new ConfigError(name, 'expected an IANA time zone such as Europe/Berlin or UTC');
  }
}

/** A cron expression in `timezone` (six fields with SCHEDULE_SECONDS), or the default. */
function cronSetting(env: Env, name: string, fallback: string, seconds: boolean, timezone = 'UTC'): string {
  const value = text(env, name);
  if (value === undefined) return fallback;
  try {
    return validCron(value, timezone, seconds, name);
  } catch (error) {
    throw new ConfigError(name, (error as Error).message.replace(`${name} `, ''));
  }
}

const OTLP_PROTOCOLS = ['http/protobuf', 'http/json'] as const;
export type OtlpProtocol = (typeof OTLP_PROTOCOLS)[number];

function otlpProtocol(env: Env): OtlpProtocol {
  const traces = text(env, 'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL');
  const name = traces !== undefined ? 'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL' : 'OTEL_EXPORTER_OTLP_PROTOCOL';
  const protocol = (traces ?? text(env, 'OTEL_EXPORTER_OTLP_PROTOCOL') ?? 'http/protobuf').toLowerCase();
  if (protocol === 'grpc') throw new ConfigError(name, 'gRPC is not supported: use http/protobuf (port 4318) or http/json');
  if (!(OTLP_PROTOCOLS as readonly string[]).includes(protocol)) throw new ConfigError(name, `expected one of ${OTLP_PROTOCOLS.join(', ')}`);
  return protocol as OtlpProtocol;
}

/** `terminal`: whether stdout is one (logs are then pretty unless LOG_FORMAT says otherwise). */
export function loadConfig(env: Env, terminal = false): Config {
  const logLevel = (text(env, 'LOG_LEVEL') ?? 'info').toLowerCase() as LogLevel;
  if (!LOG_LEVELS.includes(logLevel)) throw new ConfigError('LOG_LEVEL', `expected one of ${LOG_LEVELS.join(', ')}`);
  const logFormat = (text(env, 'LOG_FORMAT') ?? (terminal ? 'pretty' : 'json')).toLowerCase() as LogFormat;
  if (!LOG_FORMATS.includes(logFormat)) throw new ConfigError('LOG_FORMAT', `expected one of ${LOG_FORMATS.join(', ')}`);

  const otlpEndpoint = flag(env, 'OTEL_SDK_DISABLED') ? undefined : url(env, 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', ['http:', 'https:']) ?? url(env, 'OTEL_EXPORTER_OTLP_ENDPOINT', ['http:', 'https:']);

  const adminEmail = text(env, 'ADMIN_EMAIL');
  if (adminEmail !== undefined && !/^[^@\s]+@[^@\s]+$/.test(adminEmail)) {
    throw new ConfigError('ADMIN_EMAIL', 'not an e-mail address');
  }
  const adminPassword = env.ADMIN_PASSWORD;
  if (adminPassword !== undefined && codePoints(adminPassword) < 8) {
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
  const reportEmailTo = text(env, 'REPORT_EMAIL_TO');
  if (reportEmailTo && !smtpUrl) throw new ConfigError('REPORT_EMAIL_TO', 'needs SMTP_URL');
  const scheduleSeconds = flag(env, 'SCHEDULE_SECONDS') ?? false;
  const reportTimezone = timezoneSetting(env, 'REPORT_TIMEZONE', 'UTC');
  const reportCron = cronSetting(env, 'REPORT_CRON', DEFAULT_REPORT_CRON, scheduleSeconds, reportTimezone);

  const databaseUrl = url(env, 'DATABASE_URL', POSTGRES);
  const databaseDirectUrl = url(env, 'DATABASE_DIRECT_URL', POSTGRES);
  // The embedded PostgreSQL is reached directly already; a direct URL beside it would name another server.
  if (databaseDirectUrl && !databaseUrl) throw new ConfigError('DATABASE_DIRECT_URL', 'needs DATABASE_URL');

  const statusPage = (text(env, 'STATUS_PAGE') ?? 'private').toLowerCase() as StatusPageMode;
  if (!STATUS_PAGE_MODES.includes(statusPage)) throw new ConfigError('STATUS_PAGE', `expected one of ${STATUS_PAGE_MODES.join(', ')}`);

  const trustedDocuments = (text(env, 'TRUSTED_DOCUMENTS') ?? 'allow').toLowerCase() as TrustedDocumentsMode;
  if (trustedDocuments !== 'allow' && trustedDocuments !== 'only') throw new ConfigError('TRUSTED_DOCUMENTS', 'expected allow or only');

  const clientBuildDir = text(env, 'CLIENT_BUILD_DIR');
  const redis = redisTarget(env);
  const workers = integer(env, 'WORKERS', 1, 1, 64);
  // Each worker is a replica: what replicas share (events, the response cache, rate limits)
  // goes through Redis, and the embedded PostgreSQL belongs to one process.
  if (workers > 1 && !redis) throw new ConfigError('WORKERS', 'more than 1 needs Redis: REDIS_URL, REDIS_SENTINELS or REDIS_CLUSTER_NODES (workers share events, the response cache and rate limits through it)');
  if (workers > 1 && !databaseUrl) throw new ConfigError('WORKERS', 'more than 1 needs DATABASE_URL (the embedded PostgreSQL serves one process)');

  return {
    port: integer(env, 'PORT', 4000, 0, 65535),
    host: text(env, 'HOST') ?? '0.0.0.0',
    databaseUrl,
    databaseDirectUrl: databaseDirectUrl ?? databaseUrl,
    databaseReadUrl: url(env, 'DATABASE_READ_URL', POSTGRES),
    dataDir: path.resolve(text(env, 'DATA_DIR') ?? './.data'),
    embeddedPostgresPort: integer(env, 'EMBEDDED_POSTGRES_PORT', 5433, 1, 65535),
    redis,
    redisPrefix: redisPrefix(env),
    eventPollIntervalMs: integer(env, 'EVENT_POLL_INTERVAL_MS', 5_000, 50, 600_000),
    adminEmail: adminEmail?.toLowerCase(),
    adminPassword,
    adminPasswordReset: flag(env, 'ADMIN_PASSWORD_RESET') ?? false,
    sentryDsn: url(env, 'SENTRY_DSN', ['http:', 'https:']),
    sentryDsnBrowser: url(env, 'SENTRY_DSN_BROWSER', ['http:', 'https:']),
    otlpEndpoint,
    otlpProtocol: otlpEndpoint ? otlpProtocol(env) : 'http/protobuf',
    logLevel,
    logFormat,
    dbPoolMin,
    dbPoolMax,
    sampleIntervalSeconds: integer(env, 'SAMPLE_INTERVAL_SECONDS', 10, 1, 86400),
    alertEvalIntervalSeconds: integer(env, 'ALERT_EVAL_INTERVAL_SECONDS', 15, 1, 86400),
    alertDefaultGroupWaitSeconds: integer(env, 'ALERT_DEFAULT_GROUP_WAIT_SECONDS', 30, 0, 86400),
    alertDefaultGroupIntervalSeconds: integer(env, 'ALERT_DEFAULT_GROUP_INTERVAL_SECONDS', 300, 1, 86400),
    alertDefaultRepeatIntervalSeconds: integer(env, 'ALERT_DEFAULT_REPEAT_INTERVAL_SECONDS', 14400, 1, 30 * 86400),
    alertDefaultRoutes: flag(env, 'ALERT_DEFAULT_ROUTES') ?? true,
    taskExpiryIntervalMs: integer(env, 'TASK_EXPIRY_INTERVAL_MS', 1000, 100, 3_600_000),
    schedulerIntervalMs: integer(env, 'SCHEDULER_INTERVAL_MS', 1000, 50, 3_600_000),
    alertDeliveryIntervalMs: integer(env, 'ALERT_DELIVERY_INTERVAL_MS', 1000, 50, 3_600_000),
    scheduleSeconds,
    rateLimitPerMinute: integer(env, 'RATE_LIMIT_PER_MINUTE', 1200, 0),
    loginAttemptsPer15Min: integer(env, 'LOGIN_ATTEMPTS_PER_15_MIN', 10, 1),
    cacheTtlSeconds: integer(env, 'CACHE_TTL_SECONDS', 30, 0, 86400),
    queryPlans: flag(env, 'QUERY_PLANS') ?? true,
    metricsToken: text(env, 'METRICS_TOKEN'),
    slackWebhookUrl: url(env, 'SLACK_WEBHOOK_URL', ['http:', 'https:']),
    alertWebhookUrl,
    alertWebhookSecret: text(env, 'ALERT_WEBHOOK_SECRET'),
    smtpUrl,
    alertEmailTo,
    alertEmailFrom: text(env, 'ALERT_EMAIL_FROM') ?? 'Workflow Factory <alerts@workflow-factory.localhost>',
    reportEmailTo,
    reportCron,
    reportTimezone,
    reportRetrySeconds: integer(env, 'REPORT_RETRY_SECONDS', 300, 1, 86_400),
    pagerdutyRoutingKey: text(env, 'PAGERDUTY_ROUTING_KEY'),
    pagerdutyEventsUrl: url(env, 'PAGERDUTY_EVENTS_URL', ['http:', 'https:']) ?? 'https://events.pagerduty.com/v2/enqueue',
    secretsKey: secretsKey(env),
    demo: flag(env, 'DEMO'),
    sessionTtlHours: integer(env, 'SESSION_TTL_HOURS', 24 * 7, 1, 24 * 365),
    eventRetentionHours: integer(env, 'EVENT_RETENTION_HOURS', 24, 1, 24 * 365),
    metricRetentionDays: integer(env, 'METRIC_RETENTION_DAYS', 7, 1, 3650),
    auditRetentionDays: integer(env, 'AUDIT_RETENTION_DAYS', 365, 1, 3650),
    idempotencyHours: integer(env, 'IDEMPOTENCY_HOURS', 24, 1, 24 * 30),
    metricRollupMinuteDays: integer(env, 'METRIC_ROLLUP_MINUTE_DAYS', 35, 1, 3650),
    metricRollupHourDays: integer(env, 'METRIC_ROLLUP_HOUR_DAYS', 400, 1, 36500),
    corsOrigins: (text(env, 'CORS_ORIGINS') ?? '').split(',').map((o) => o.trim()).filter(Boolean),
    instanceId: text(env, 'INSTANCE_ID') ?? `${os.hostname()}-${process.pid}`,
    workers,
    clientBuildDir: clientBuildDir ? path.resolve(clientBuildDir) : DEFAULT_CLIENT_BUILD_DIR,
    trustProxyHops: integer(env, 'TRUST_PROXY_HOPS', 0, 0, 10),
    statusPage,
    trustedDocuments,
    limits: {
      bodyBytes: integer(env, 'MAX_BODY_BYTES', 1024 * 1024, 1024, 100 * 1024 * 1024),
      variablesBytes: integer(env, 'MAX_VARIABLES_BYTES', 1024 * 1024, 16, 100 * 1024 * 1024),
      queryDepth: integer(env, 'QUERY_MAX_DEPTH', 10, 1, 1000),
      queryAliases: integer(env, 'QUERY_MAX_ALIASES', 30, 0, 100_000),
      queryTokens: integer(env, 'QUERY_MAX_TOKENS', 5000, 10, 1_000_000),
      queryDirectives: integer(env, 'QUERY_MAX_DIRECTIVES', 20, 0, 100_000),
      // A worst case, not what runs: 100 workflows with their tasks and dependencies bound at
      // ~1e8 and are ordinary; a task's workflow's tasks' workflow's tasks (~1e9) is refused.
      // What an admitted query really builds is held by MAX_RESPONSE_BYTES and QUERY_TIMEOUT_MS.
      queryCost: integer(env, 'QUERY_MAX_COST', 200_000_000, 1),
      responseBytes: integer(env, 'MAX_RESPONSE_BYTES', 16 * 1024 * 1024, 1024),
      queryTimeoutMs: integer(env, 'QUERY_TIMEOUT_MS', 15_000, 10, 3_600_000),
      introspection: flag(env, 'INTROSPECTION') ?? true,
      wsInitTimeoutMs: integer(env, 'WS_INIT_TIMEOUT_MS', 3_000, 100, 600_000),
      wsMaxSubscriptions: integer(env, 'WS_MAX_SUBSCRIPTIONS', 100, 1, 10_000),
      wsCredentialRecheckMs: integer(env, 'WS_CREDENTIAL_RECHECK_MS', 30_000, 50, 3_600_000),
      wsKeepaliveMs: integer(env, 'WS_KEEPALIVE_MS', 12_000, 50, 3_600_000),
      wsMaxBufferedBytes: integer(env, 'WS_MAX_BUFFERED_BYTES', 4 * 1024 * 1024, 1024),
      sseMaxStreams: integer(env, 'SSE_MAX_STREAMS', 100, 1, 10_000),
    },
  };
}

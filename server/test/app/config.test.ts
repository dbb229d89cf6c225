import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/app/config.js';

describe('loadConfig', () => {
  it('should apply the documented defaults', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      port: 4000, host: '0.0.0.0', databaseUrl: undefined, redis: undefined, logLevel: 'info',
      dbPoolMin: 2, dbPoolMax: 10, sampleIntervalSeconds: 10, alertEvalIntervalSeconds: 15,
      rateLimitPerMinute: 1200, loginAttemptsPer15Min: 10, cacheTtlSeconds: 30, demo: undefined, workers: 1,
    });
    expect(config.dataDir).toMatch(/\.data$/);
  });

  it('should take DATABASE_DIRECT_URL for the work that needs a session, defaulting to DATABASE_URL', () => {
    expect(loadConfig({ DATABASE_URL: 'postgres://db/app' }).databaseDirectUrl).toBe('postgres://db/app');
    expect(loadConfig({ DATABASE_URL: 'postgres://pooler:6432/app', DATABASE_DIRECT_URL: 'postgresql://db:5432/app' }))
      .toMatchObject({ databaseUrl: 'postgres://pooler:6432/app', databaseDirectUrl: 'postgresql://db:5432/app' });
    expect(loadConfig({}).databaseDirectUrl).toBeUndefined();
  });

  it('should trace only with an OTLP endpoint, the traces\' own first, and never with OTEL_SDK_DISABLED', () => {
    expect(loadConfig({}).otlpEndpoint).toBeUndefined();
    expect(loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' }).otlpEndpoint).toBe('http://collector:4318');
    expect(loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://apm/v1/traces' }).otlpEndpoint).toBe('https://apm/v1/traces');
    expect(loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', OTEL_SDK_DISABLED: 'true' }).otlpEndpoint).toBeUndefined();
    expect(() => loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318' })).toThrow(ConfigError);
  });

  it('should send spans as protobuf or JSON over HTTP, the traces\' own protocol first, and refuse gRPC (not shipped) only when tracing', () => {
    const endpoint = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' };
    expect(loadConfig(endpoint).otlpProtocol).toBe('http/protobuf');
    expect(loadConfig({ ...endpoint, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' }).otlpProtocol).toBe('http/json');
    expect(loadConfig({ ...endpoint, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json', OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/protobuf' }).otlpProtocol).toBe('http/protobuf');
    expect(() => loadConfig({ ...endpoint, OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' })).toThrow(/OTEL_EXPORTER_OTLP_PROTOCOL.*gRPC is not supported/);
    expect(() => loadConfig({ ...endpoint, OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'thrift' })).toThrow(ConfigError);
    expect(loadConfig({ OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' }).otlpProtocol).toBe('http/protobuf');
  });

  it('should take TRUSTED_DOCUMENTS allow (default) or only', () => {
    expect(loadConfig({}).trustedDocuments).toBe('allow');
    expect(loadConfig({ TRUSTED_DOCUMENTS: 'ONLY' }).trustedDocuments).toBe('only');
    expect(() => loadConfig({ TRUSTED_DOCUMENTS: 'some' })).toThrow('Invalid setting TRUSTED_DOCUMENTS: expected allow or only');
  });

  it('should take one Redis topology: a server, Sentinels or a Cluster', () => {
    expect(loadConfig({ REDIS_URL: 'redis://r:6379' }).redis).toEqual({ kind: 'server', url: 'redis://r:6379' });
    expect(loadConfig({ REDIS_SENTINELS: 's1:26379, [::1]:26380', REDIS_SENTINEL_NAME: 'main', REDIS_PASSWORD: 'pw' }).redis).toEqual({
      kind: 'sentinel', name: 'main', password: 'pw', sentinels: [{ host: 's1', port: 26379 }, { host: '::1', port: 26380 }],
    });
    expect(loadConfig({ REDIS_CLUSTER_NODES: 'n1:7000,n2:7001' }).redis).toEqual({ kind: 'cluster', password: undefined, nodes: [{ host: 'n1', port: 7000 }, { host: 'n2', port: 7001 }] });
  });

  it.each([
    [{ PORT: 'abc' }, 'PORT'],
    [{ PORT: '70000' }, 'PORT'],
    [{ DATABASE_URL: 'mysql://x' }, 'DATABASE_URL'],
    [{ DATABASE_URL: 'not a url' }, 'DATABASE_URL'],
    [{ DATABASE_URL: 'postgres://pooler/app', DATABASE_DIRECT_URL: 'mysql://x' }, 'DATABASE_DIRECT_URL'],
    [{ DATABASE_URL: 'postgres://pooler/app', DATABASE_DIRECT_URL: 'not a url' }, 'DATABASE_DIRECT_URL'],
    [{ DATABASE_DIRECT_URL: 'postgres://db/app' }, 'DATABASE_DIRECT_URL'],
    [{ REDIS_URL: 'http://localhost' }, 'REDIS_URL'],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL'],
    [{ DB_POOL_MIN: '5', DB_POOL_MAX: '2' }, 'DB_POOL_MIN'],
    [{ DB_POOL_MAX: '0' }, 'DB_POOL_MAX'],
    [{ SAMPLE_INTERVAL_SECONDS: '0' }, 'SAMPLE_INTERVAL_SECONDS'],
    [{ ALERT_EVAL_INTERVAL_SECONDS: '1.5' }, 'ALERT_EVAL_INTERVAL_SECONDS'],
    [{ RATE_LIMIT_PER_MINUTE: '-1' }, 'RATE_LIMIT_PER_MINUTE'],
    [{ CACHE_TTL_SECONDS: 'soon' }, 'CACHE_TTL_SECONDS'],
    [{ ADMIN_EMAIL: 'admin@x.y' }, 'ADMIN_PASSWORD'],
    [{ ADMIN_EMAIL: 'nope', ADMIN_PASSWORD: 'password-1' }, 'ADMIN_EMAIL'],
    [{ ADMIN_EMAIL: 'a@x.y', ADMIN_PASSWORD: 'short' }, 'ADMIN_PASSWORD'],
    [{ DEMO: 'maybe' }, 'DEMO'],
    [{ SMTP_URL: 'smtp://localhost:25' }, 'ALERT_EMAIL_TO'],
    [{ SLACK_WEBHOOK_URL: 'ftp://x' }, 'SLACK_WEBHOOK_URL'],
    [{ REDIS_PREFIX: 'has space' }, 'REDIS_PREFIX'],
    [{ EVENT_POLL_INTERVAL_MS: '10' }, 'EVENT_POLL_INTERVAL_MS'],
    [{ WS_KEEPALIVE_MS: '10' }, 'WS_KEEPALIVE_MS'],
    [{ WS_MAX_BUFFERED_BYTES: '1k' }, 'WS_MAX_BUFFERED_BYTES'],
    [{ REDIS_SENTINELS: 'a:26379,b' }, 'REDIS_SENTINELS'],
    [{ REDIS_SENTINELS: 'a:26379' }, 'REDIS_SENTINEL_NAME'],
    [{ REDIS_SENTINEL_NAME: 'main' }, 'REDIS_SENTINEL_NAME'],
    [{ REDIS_CLUSTER_NODES: 'a:99999' }, 'REDIS_CLUSTER_NODES'],
    [{ REDIS_URL: 'redis://r:6379', REDIS_CLUSTER_NODES: 'a:7000' }, 'REDIS_CLUSTER_NODES'],
    [{ REDIS_URL: 'redis://r:6379', REDIS_PASSWORD: 'x' }, 'REDIS_PASSWORD'],
    [{ WORKERS: '0' }, 'WORKERS'],
    // More than one worker: only with what replicas share (Redis, an external PostgreSQL).
    [{ WORKERS: '2', DATABASE_URL: 'postgres://localhost/x' }, 'WORKERS'],
    [{ WORKERS: '2', REDIS_URL: 'redis://localhost:6379' }, 'WORKERS'],
  ])('should refuse %o naming %s', (env, variable) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(new RegExp(`^Invalid setting ${variable}: `));
  });

  it('should stop the server at start with one line naming the bad setting', async () => {
    const child = spawn(process.execPath, ['--import', '@swc-node/register/esm-register', 'src/main.ts'], {
      env: { ...process.env, PORT: 'eighty' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const code = await new Promise((resolve) => child.on('exit', resolve));
    expect(code).toBe(78);
    expect(stderr.trim()).toBe('Invalid setting PORT: expected a whole number, got "eighty"');
  });
});

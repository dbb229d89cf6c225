/** Starts one replica from the environment (or WORKERS of them on one port); stops it cleanly on SIGINT / SIGTERM. */
import 'reflect-metadata';
import cluster from 'node:cluster';
import { ConfigError, loadConfig } from './app/config.js';
import { createLogger } from './core/logger.js';
import { superviseWorkers } from './app/workers.js';

const startedAt = performance.now();
let config;
try {
  config = loadConfig(process.env, process.stdout.isTTY === true);
} catch (error) {
  if (error instanceof ConfigError) {
    console.error(error.message);
    process.exit(78); // EX_CONFIG
  }
  throw error;
}
// WORKERS > 1: this process only supervises the workers, each of which runs what follows.
const supervisor = config.workers > 1 && cluster.isPrimary;
// Before the app is loaded, so the instrumentations patch what it imports.
const tracing = config.otlpEndpoint && !supervisor ? (await import('./observability/tracing.js')).startTracing(config.instanceId, config.otlpProtocol) : null;
const logger = createLogger(config.logLevel, undefined, config.logFormat, tracing?.logFields);

if (supervisor) await superviseWorkers(config.workers, logger, process.env.INSTANCE_ID?.trim() || undefined);
// Loaded here, not above: a supervisor does not load the app it never runs.
const { startApp } = await import('./app/start.js');
const { EmbeddedPostgresError } = await import('./db/embedded-postgres.js');

// Listening before startup finishes (the port is bound, then monitoring and the demo start):
// a signal in that gap must stop the replica cleanly too, once it can be stopped.
let stopSignal: NodeJS.Signals | null = null;
let app: Awaited<ReturnType<typeof startApp>> | null = null;
// SIGHUP: the terminal closed. The embedded PostgreSQL, in its own session, hears none of these.
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(signal, () => {
    if (stopSignal) return;
    stopSignal = signal;
    logger.info({ signal }, 'shutting down');
    if (app) stop(app, signal);
  });
}

function stop(started: NonNullable<typeof app>, signal: NodeJS.Signals): void {
  const stopStartedAt = performance.now();
  const deadline = setTimeout(() => process.exit(1), 10_000);
  deadline.unref();
  // The last spans are sent; an unreachable collector does not make the stop a failure.
  started.stop().then(() => tracing?.shutdown().catch((error) => logger.warn({ err: error }, 'could not send the last spans'))).then(
    () => {
      logger.info({ signal, shutdownMs: Math.round(performance.now() - stopStartedAt) }, 'stopped');
      process.exit(0);
    },
    (error) => {
      logger.error({ err: error }, 'shutdown failed');
      process.exit(1);
    },
  );
}

app = await startApp(config, logger).catch((error) => {
  if (error instanceof EmbeddedPostgresError) {
    // Something the user must do: said in one line, without a stack trace.
    console.error(error.message);
    process.exit(1);
  }
  logger.fatal({ err: error }, `could not start: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});

if (app.bootstrap?.generatedPassword) {
  // Shown once: only its hash is stored.
  console.log(`\n  Admin account created: ${app.bootstrap.email} / ${app.bootstrap.generatedPassword}\n`);
}
logger.info({ url: `http://localhost:${app.port}`, instance: config.instanceId, startupMs: Math.round(performance.now() - startedAt) }, 'Workflow Factory is serving');
if (stopSignal) stop(app, stopSignal);

/** Starts one replica from the environment; stops it cleanly on SIGINT / SIGTERM. */
import 'reflect-metadata';
import { startApp } from './app.js';
import { ConfigError, loadConfig } from './config.js';
import { createLogger } from './platform/logger.js';

const startedAt = performance.now();
let config;
try {
  config = loadConfig(process.env);
} catch (error) {
  if (error instanceof ConfigError) {
    console.error(error.message);
    process.exit(78); // EX_CONFIG
  }
  throw error;
}
const logger = createLogger(config.logLevel);
const app = await startApp(config, logger).catch((error) => {
  logger.fatal({ err: error }, `could not start: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});

if (app.bootstrap?.generatedPassword) {
  // Shown once: only its hash is stored.
  console.log(`\n  Admin account created: ${app.bootstrap.email} / ${app.bootstrap.generatedPassword}\n`);
}
logger.info({ url: `http://localhost:${app.port}`, instance: config.instanceId, startupMs: Math.round(performance.now() - startedAt) }, 'Workflow Factory is serving');

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    const deadline = setTimeout(() => process.exit(1), 10_000);
    deadline.unref();
    app.stop().then(
      () => process.exit(0),
      (error) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  });
}

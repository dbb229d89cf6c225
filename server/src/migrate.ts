/** `npm run migrate`: applies pending migrations to DATABASE_URL (or the embedded database). */
import 'reflect-metadata';
import { ENTITIES } from './app.js';
import { loadConfig } from './config.js';
import { applyMigrations, openDatabase } from './platform/db.js';
import { startEmbeddedPostgres } from './platform/embedded-postgres.js';
import { createLogger } from './platform/logger.js';

const config = loadConfig(process.env);
const logger = createLogger(config.logLevel);
const embedded = config.databaseUrl ? undefined : await startEmbeddedPostgres(config.dataDir, config.embeddedPostgresPort, logger);
const url = config.databaseUrl ?? embedded!.url;
const orm = await openDatabase({ url, poolMin: 0, poolMax: 2, entities: ENTITIES });
const applied = await applyMigrations(orm, config.databaseDirectUrl ?? url);
console.log(applied.length ? `applied: ${applied.join(', ')}` : 'no pending migrations');
await orm.close();
await embedded?.stop();

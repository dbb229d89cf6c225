/** `npm run migrate`: applies pending migrations to DATABASE_URL (or the embedded database). */
import 'reflect-metadata';
import { ENTITIES } from './app/entities.js';
import { loadConfig } from './app/config.js';
import { applyMigrations, openDatabase } from './db/orm.js';
import { startEmbeddedPostgres } from './db/embedded-postgres.js';
import { createLogger } from './core/logger.js';

const config = loadConfig(process.env, process.stdout.isTTY === true);
const logger = createLogger(config.logLevel, undefined, config.logFormat);
const embedded = config.databaseUrl ? undefined : await startEmbeddedPostgres(config.dataDir, config.embeddedPostgresPort, logger);
const url = config.databaseUrl ?? embedded!.url;
const orm = await openDatabase({ url, poolMin: 0, poolMax: 2, entities: ENTITIES });
const applied = await applyMigrations(orm, config.databaseDirectUrl ?? url);
console.log(applied.length ? `applied: ${applied.join(', ')}` : 'no pending migrations');
await orm.close();
await embedded?.stop();

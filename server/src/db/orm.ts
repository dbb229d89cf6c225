/**
 * MikroORM on PostgreSQL: opening the pool, applying migrations once across replicas, and
 * the transaction helper every service uses.
 */
import { MikroORM, PostgreSqlDriver, type EntityManager, type Options } from '@mikro-orm/postgresql';
import { Migrator } from '@mikro-orm/migrations';
import pg from 'pg';
import { migrationsList } from '../../../migrations/index.js';
import type { Logger } from '../core/logger.js';
import { ADVISORY_LOCKS } from './advisory-locks.js';

export type { EntityManager };

export interface DatabaseOptions {
  url: string;
  readUrl?: string;
  poolMin: number;
  poolMax: number;
  entities: NonNullable<Options['entities']>;
  /** where the query builder's own warnings go (else the console); dead pooled connections during an outage are debug news */
  logger?: Logger;
}

export async function openDatabase(options: DatabaseOptions): Promise<MikroORM> {
  return MikroORM.init({
    driver: PostgreSqlDriver,
    clientUrl: options.url,
    replicas: options.readUrl ? [{ name: 'read-replica', clientUrl: options.readUrl }] : [],
    // The ORM's own reads (bootstrap, services) stay on the primary; queries reach the
    // replica only through read-routing.ts, which knows when it is fresh enough.
    preferReadReplicas: false,
    entities: options.entities,
    discovery: { warnWhenNoEntities: false },
    pool: { min: options.poolMin, max: options.poolMax },
    extensions: [Migrator],
    migrations: { migrationsList, transactional: true, allOrNothing: true, snapshot: false, silent: true },
    // No session state is relied on, so a pooler in transaction mode (PgBouncer) works.
    forceUtcTimezone: true,
    // Entities are persisted explicitly, in an order the foreign keys accept.
    persistOnCreate: false,
    debug: false,
    ...(options.logger ? { driverOptions: { log: knexLog(options.logger) } } : {}),
  });
}

function knexLog(logger: Logger) {
  const debug = (message: unknown) => logger.debug({ component: 'knex' }, String(message));
  return { warn: debug, deprecate: debug, debug, error: (message: unknown) => logger.warn({ component: 'knex' }, String(message)) };
}

/**
 * Applies pending migrations (through the ORM's pool, in one transaction) while holding a
 * session advisory lock on a connection of its own to `directUrl`: PostgreSQL itself, never a
 * transaction-mode pooler, which would leave the lock on a server connection others reuse.
 */
export async function applyMigrations(orm: MikroORM, directUrl: string): Promise<string[]> {
  const lockClient = new pg.Client({ connectionString: directUrl });
  // A connection dropped mid-start surfaces in the queries below, not as an uncaught 'error'.
  lockClient.on('error', () => undefined);
  await lockClient.connect();
  try {
    // On its own connection, so two replicas starting together never migrate at once.
    await lockClient.query('select pg_advisory_lock($1)', [ADVISORY_LOCKS.migrations]);
    const applied = await orm.getMigrator().up();
    return applied.map((m) => m.name);
  } finally {
    await lockClient.query('select pg_advisory_unlock($1)', [ADVISORY_LOCKS.migrations]).catch(() => undefined);
    await lockClient.end();
  }
}

const RETRYABLE = new Set(['40001', '40P01']); // serialization failure, deadlock

/**
 * Runs `work` in one transaction, retrying a few times when PostgreSQL aborts it for a
 * deadlock or serialization failure (workers claiming while someone cancels, say).
 */
export async function inTransaction<T>(em: EntityManager, work: (tx: EntityManager) => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await em.fork().transactional((tx) => work(tx as EntityManager));
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (attempt >= 5 || !code || !RETRYABLE.has(code)) throw error;
      await new Promise((resolve) => setTimeout(resolve, 5 * attempt + Math.random() * 10));
    }
  }
}

/** A unique constraint refused the row (SQLSTATE 23505): the caller answers CONFLICT. */
export function isUniqueViolation(error: unknown): boolean {
  return (error as { code?: string } | null)?.code === '23505';
}

/** Connections in use and the pool's maximum, for the DB pool metric and readiness. */
export function poolUsage(orm: MikroORM): { used: number; max: number } {
  const pool = orm.em.getConnection().getKnex().client.pool;
  return { used: pool?.numUsed?.() ?? 0, max: pool?.max ?? 0 };
}

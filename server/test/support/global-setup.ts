/**
 * Runs once before all test files: decides which PostgreSQL server the tests create their
 * databases on. `DATABASE_URL` (as in CI) names it; without it an embedded PostgreSQL is
 * started in a temporary folder for this run and removed afterwards. First the worker SDK is
 * built when its sources changed: worker processes and the server import sdk/dist, and a
 * stale one would run an older SDK than the sources under test (a hash when current).
 */
import { spawnSync } from 'node:child_process';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { startEmbeddedPostgres } from '../../src/db/embedded-postgres.js';
import { createLogger } from '../../src/core/logger.js';
import { freePort } from './ports.js';
import { findRedis } from './redis-setup.js';
import { inRepository } from '../../src/core/paths.js';

declare module 'vitest' {
  export interface ProvidedContext {
    postgresUrl: string;
    /** null: Redis tests are skipped (see redis.ts) */
    redisUrl: string | null;
  }
}

export default async function setup(project: TestProject) {
  const built = spawnSync(process.execPath, [inRepository('scripts', 'ensure-built.mjs'), 'sdk'], { stdio: 'inherit' });
  if (built.status !== 0) throw new Error('the worker SDK does not build: run `npm run build -w sdk` to see why');
  project.provide('redisUrl', await findRedis());
  if (process.env.DATABASE_URL) {
    project.provide('postgresUrl', process.env.DATABASE_URL);
    return;
  }
  const dir = await mkdtemp(path.join(os.tmpdir(), 'wf-test-pg-'));
  // When tests run as root, PostgreSQL runs as the postgres user and must reach the folder.
  await chmod(dir, 0o755);
  const database = await startEmbeddedPostgres(dir, await freePort(), createLogger('warn'));
  project.provide('postgresUrl', database.url);
  return async () => {
    await database.stop();
    await rm(dir, { recursive: true, force: true });
  };
}

/**
 * Decides once per run whether the Redis tests run. They need Redis at `REDIS_URL` (default
 * redis://127.0.0.1:6379) and the `redis-server` binary (outage tests start their own).
 * Missing either: with `REQUIRE_REDIS=1` (CI) the run fails; otherwise the Redis tests are
 * skipped and one line says which.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';

const TEST_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

async function ping(url: string): Promise<string | null> {
  const client = new Redis(url, { lazyConnect: true, connectTimeout: 1_000, maxRetriesPerRequest: 0, retryStrategy: () => null });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.ping();
    return null;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  } finally {
    client.disconnect();
  }
}

function hasRedisServer(): boolean {
  try {
    execFileSync('redis-server', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Test files that use `describeRedis`, relative to test/. */
function redisTestFiles(dir = TEST_ROOT): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return redisTestFiles(full);
    return entry.name.endsWith('.test.ts') && readFileSync(full, 'utf8').includes('describeRedis(') ? [path.relative(TEST_ROOT, full)] : [];
  });
}

export async function findRedis(): Promise<string | null> {
  const url = process.env.REDIS_URL || 'redis://127.0.0.1:6379';
  const failure = (await ping(url)) ?? (hasRedisServer() ? null : 'no redis-server binary on PATH');
  if (!failure) return url;
  if (process.env.REQUIRE_REDIS === '1') throw new Error(`REQUIRE_REDIS=1 but Redis is not usable at ${url}: ${failure}`);
  console.warn(`Redis not usable at ${url} (${failure}): skipped the Redis tests in ${redisTestFiles().join(', ')}; set REQUIRE_REDIS=1 to fail instead`);
  return null;
}

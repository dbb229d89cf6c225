/**
 * Fixed-window counters for rate limits: in Redis when one is configured (so every replica
 * counts against the same budget), else in this process. A window starts at a key's first
 * hit. When Redis cannot be reached the limiter lets requests through rather than take the
 * API down with it, and says so in the log.
 */
import { createHash } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import { connectRedis, type RedisTarget } from '../core/redis.js';
import type { Logger } from '../core/logger.js';

export interface Hit {
  /** hits in the current window, this one included */
  count: number;
  /** seconds until the window ends */
  resetSeconds: number;
}

export interface RateLimiter {
  readonly kind: 'in-process' | 'redis';
  /** Counts one hit on `key` in a window of `windowSeconds`. */
  hit(key: string, windowSeconds: number): Promise<Hit>;
  /** Takes one hit back (a login that turned out to succeed). */
  undo(key: string): Promise<void>;
  reset(key: string): Promise<void>;
  close(): Promise<void>;
}

const MAX_LOCAL_KEYS = 100_000;

function createLocalLimiter(): RateLimiter {
  const windows = new Map<string, { count: number; endsAt: number }>();
  const sweep = (now: number) => {
    for (const [key, window] of windows) if (window.endsAt <= now) windows.delete(key);
    // Still full of live keys (a flood of distinct tokens): forget them rather than grow.
    if (windows.size >= MAX_LOCAL_KEYS) windows.clear();
  };
  return {
    kind: 'in-process',
    async hit(key, windowSeconds) {
      const now = Date.now();
      let window = windows.get(key);
      if (!window || window.endsAt <= now) {
        if (windows.size >= MAX_LOCAL_KEYS) sweep(now);
        window = { count: 0, endsAt: now + windowSeconds * 1000 };
        windows.set(key, window);
      }
      window.count++;
      return { count: window.count, resetSeconds: Math.max(1, Math.ceil((window.endsAt - now) / 1000)) };
    },
    async undo(key) {
      const window = windows.get(key);
      if (window && window.count > 0) window.count--;
    },
    async reset(key) {
      windows.delete(key);
    },
    async close() {
      windows.clear();
    },
  };
}

// INCR, and start the window's clock on its first hit, in one step.
const HIT_SCRIPT = `local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return {n, redis.call('PTTL', KEYS[1])}`;
const REDIS_TIMEOUT_MS = 500;

function createRedisLimiter(target: RedisTarget, prefix: string, logger: Logger): RateLimiter {
  const redis = connectRedis(target, { offlineQueue: false, maxRetriesPerRequest: 1, commandTimeoutMs: REDIS_TIMEOUT_MS });
  let warned = false;
  redis.on('error', (error) => {
    if (!warned) logger.warn({ err: error }, 'rate limiter cannot reach Redis: requests are not limited until it is back');
    warned = true;
  });
  redis.on('ready', () => {
    warned = false;
  });
  const failOpen = (error: unknown): Hit => {
    if (!warned) logger.warn({ err: error }, 'rate limiter cannot reach Redis: requests are not limited until it is back');
    warned = true;
    return { count: 0, resetSeconds: 0 };
  };
  const key = (name: string) => `${prefix}rate:${name}`;
  return {
    kind: 'redis',
    async hit(name, windowSeconds) {
      try {
        const [count, ttlMs] = (await redis.eval(HIT_SCRIPT, 1, key(name), windowSeconds * 1000)) as [number, number];
        return { count, resetSeconds: Math.max(1, Math.ceil(ttlMs / 1000)) };
      } catch (error) {
        return failOpen(error);
      }
    },
    async undo(name) {
      await redis.decr(key(name)).catch(failOpen);
    },
    async reset(name) {
      await redis.del(key(name)).catch(failOpen);
    },
    async close() {
      redis.disconnect();
    },
  };
}

export function createRateLimiter(options: { redis?: RedisTarget; redisPrefix: string; logger: Logger }): RateLimiter {
  return options.redis ? createRedisLimiter(options.redis, options.redisPrefix, options.logger) : createLocalLimiter();
}

/** Keys name a token by its hash, so neither Redis nor a heap dump holds the token itself. */
export function tokenKey(token: string): string {
  return `token:${createHash('sha256').update(token).digest('base64url')}`;
}

/** The whole request is refused: 429, a Retry-After header, and a GraphQL-shaped body. */
export function sendRateLimited(res: ServerResponse, retryAfterSeconds: number): void {
  res.writeHead(429, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', 'retry-after': String(retryAfterSeconds) });
  res.end(JSON.stringify({
    errors: [{ message: `Too many requests; retry in ${retryAfterSeconds} s`, extensions: { code: 'RATE_LIMITED', retryAfter: retryAfterSeconds } }],
  }));
}

/** A RATE_LIMITED error from a resolver (a throttled login) also sets the Retry-After header. */
export function retryAfterPlugin<C extends BaseContext>(): ApolloServerPlugin<C> {
  return {
    async requestDidStart() {
      return {
        async willSendResponse({ response, errors }) {
          const retryAfter = errors?.map((error) => error.extensions?.retryAfter).find((value) => typeof value === 'number');
          if (retryAfter !== undefined) response.http.headers.set('retry-after', String(retryAfter));
        },
      };
    },
  };
}

/**
 * Spends one request of `key`'s budget of `perMinute` (0: unlimited). Returns the seconds to
 * wait when the budget is gone, else null.
 */
export async function overBudget(limiter: RateLimiter, key: string, perMinute: number): Promise<number | null> {
  if (perMinute <= 0) return null;
  const { count, resetSeconds } = await limiter.hit(key, 60);
  return count > perMinute ? resetSeconds : null;
}

/**
 * The response cache for hot reads: whole query answers, kept in Redis when it is configured
 * (shared by every replica) and in this process otherwise.
 *
 * - What: a query whose every root field is marked `@Extensions(WORKFLOW_SCOPED_CACHE)`: its
 *   answer depends only on which workflows the viewer may see. Mutations, subscriptions and
 *   any other query are never cached.
 * - Key: the document (Apollo's query hash), operation name, variables, and the viewer's
 *   scope: ADMIN and VIEWER see every workflow (one entry per role), a MEMBER only its own
 *   (one entry per member), so viewers who may see different data never share an entry.
 * - Freshness: every key carries the current generation of its scope. A committed change to
 *   a workflow (an event on the bus) bumps the generation of "all" and of its owner, so older
 *   entries are never read again; the TTL is only the backstop for changes that carry no
 *   event (a renamed user). Entries stored by a request that raced a change land under the old
 *   generation. With Redis the generations live in Redis too, so a change made through one
 *   replica is seen by every replica's next request; until Redis has acknowledged a bump, this
 *   replica answers the bumped scopes uncached.
 * - Failure: Redis errors count as misses; nothing is cached while Redis is unreachable, and
 *   a bus resync (messages may have been lost) retires every entry.
 */
import { createHash } from 'node:crypto';
import { HeaderMap, type ApolloServerPlugin, type BaseContext } from '@apollo/server';
import { Kind, type GraphQLSchema, type OperationDefinitionNode } from 'graphql';
import { Redis } from 'ioredis';
import { audienceOf, seesAllWorkflows, type Viewer } from './auth.js';
import type { Logger } from './logger.js';

/** Field extensions of a root query field whose answer depends only on the viewer's workflow scope. */
export const WORKFLOW_SCOPED_CACHE = { responseCache: 'workflow-scope' } as const;

/** Bounds the in-process store; the oldest entries go first. */
const MAX_LOCAL_BYTES = 64 * 1024 * 1024;
const GLOBAL = 'global';

interface CacheStore {
  generations(scopes: string[]): Promise<string[]>;
  get(key: string): Promise<string | null>;
  set(key: string, value: string, ttlSeconds: number): Promise<void>;
  bump(scopes: string[]): Promise<void>;
  close(): Promise<void>;
}

function localStore(): CacheStore {
  const generations = new Map<string, number>();
  const entries = new Map<string, { value: string; expires: number }>();
  let bytes = 0;
  const drop = (key: string) => {
    const entry = entries.get(key);
    if (!entry) return;
    bytes -= entry.value.length;
    entries.delete(key);
  };
  return {
    async generations(scopes) {
      return scopes.map((scope) => String(generations.get(scope) ?? 0));
    },
    async get(key) {
      const entry = entries.get(key);
      if (!entry) return null;
      if (entry.expires > Date.now()) return entry.value;
      drop(key);
      return null;
    },
    async set(key, value, ttlSeconds) {
      drop(key);
      entries.set(key, { value, expires: Date.now() + ttlSeconds * 1000 });
      bytes += value.length;
      for (const oldest of entries.keys()) {
        if (bytes <= MAX_LOCAL_BYTES) break;
        drop(oldest);
      }
    },
    async bump(scopes) {
      for (const scope of scopes) generations.set(scope, (generations.get(scope) ?? 0) + 1);
    },
    async close() {
      entries.clear();
    },
  };
}

function redisStore(url: string, prefix: string): CacheStore {
  // Fail fast while Redis is away: a cache must never make a request wait.
  const redis = new Redis(url, { enableOfflineQueue: false, maxRetriesPerRequest: 0, retryStrategy: (n) => Math.min(n * 100, 2_000) });
  redis.on('error', () => undefined);
  const generationKey = (scope: string) => `${prefix}cache:gen:${scope}`;
  return {
    async generations(scopes) {
      return (await redis.mget(scopes.map(generationKey))).map((value) => value ?? '0');
    },
    get: (key) => redis.get(`${prefix}cache:r:${key}`),
    async set(key, value, ttlSeconds) {
      await redis.set(`${prefix}cache:r:${key}`, value, 'EX', ttlSeconds);
    },
    async bump(scopes) {
      const pipeline = redis.multi();
      for (const scope of scopes) pipeline.incr(generationKey(scope));
      await pipeline.exec();
    },
    async close() {
      redis.disconnect();
    },
  };
}

export interface ResponseCacheOptions {
  ttlSeconds: number;
  logger: Logger;
  /** unset: this process only */
  redisUrl?: string;
  redisPrefix: string;
}

export interface ResponseCache {
  /** A committed change to a workflow of `ownerId`: retire what every scope that sees it cached. */
  workflowChanged(ownerId: string | null): void;
  /** Messages may have been lost: retire everything. */
  retireAll(): void;
  /** hits and misses since start, for benchmarks and metrics */
  readonly stats: { hits: number; misses: number };
  plugin<C extends BaseContext & { viewer: Viewer | null }>(): ApolloServerPlugin<C>;
  close(): Promise<void>;
}

/** The generation scopes and the key part of what `viewer` may see. */
function scopeOf(viewer: Viewer): { scopes: string[]; audience: string } {
  return { scopes: [GLOBAL, seesAllWorkflows(viewer) ? 'all' : `owner:${viewer.id}`], audience: audienceOf(viewer) };
}

function isCacheable(schema: GraphQLSchema, operation: OperationDefinitionNode): boolean {
  if (operation.operation !== 'query') return false;
  const fields = schema.getQueryType()?.getFields() ?? {};
  return operation.selectionSet.selections.every(
    (selection) =>
      selection.kind === Kind.FIELD &&
      (selection.name.value === '__typename' || fields[selection.name.value]?.extensions?.responseCache === WORKFLOW_SCOPED_CACHE.responseCache),
  );
}

export function createResponseCache(options: ResponseCacheOptions): ResponseCache {
  const store = options.redisUrl ? redisStore(options.redisUrl, options.redisPrefix) : localStore();
  const stats = { hits: 0, misses: 0 };
  // Scopes whose bump Redis has not acknowledged yet: answered uncached meanwhile.
  const pending = new Map<string, number>();

  const bump = (scopes: string[]) => {
    for (const scope of scopes) pending.set(scope, (pending.get(scope) ?? 0) + 1);
    store
      .bump(scopes)
      .catch((error) => options.logger.warn({ err: error }, 'response cache: could not retire entries (the TTL will)'))
      .finally(() => {
        for (const scope of scopes) {
          const left = pending.get(scope)! - 1;
          if (left) pending.set(scope, left);
          else pending.delete(scope);
        }
      });
  };

  const keyFor = async (parts: unknown[], scopes: string[]): Promise<string | null> => {
    if (scopes.some((scope) => pending.has(scope))) return null;
    const generations = await store.generations(scopes);
    return createHash('sha256').update(JSON.stringify([...parts, generations])).digest('base64url');
  };

  return {
    stats,
    workflowChanged(ownerId) {
      bump(ownerId ? ['all', `owner:${ownerId}`] : [GLOBAL]);
    },
    retireAll() {
      bump([GLOBAL]);
    },
    close: () => store.close(),
    plugin<C extends BaseContext & { viewer: Viewer | null }>(): ApolloServerPlugin<C> {
      return {
        async requestDidStart() {
          let key: string | null = null;
          let served = false;
          return {
            async responseForOperation({ operation, schema, queryHash, request, contextValue, response }) {
              const viewer = contextValue.viewer;
              if (!viewer || !operation || !isCacheable(schema, operation)) return null;
              const { scopes, audience } = scopeOf(viewer);
              key = await keyFor([queryHash, request.operationName ?? null, request.variables ?? {}, audience], scopes).catch(() => null);
              const cached = key ? await store.get(key).catch(() => null) : null;
              if (cached === null) {
                stats.misses++;
                response.http.headers.set('x-cache', 'MISS');
                return null;
              }
              stats.hits++;
              served = true;
              return { http: { status: undefined, headers: new HeaderMap([['x-cache', 'HIT']]) }, body: { kind: 'single', singleResult: JSON.parse(cached) } };
            },
            async willSendResponse({ response }) {
              if (!key || served || response.body.kind !== 'single' || response.body.singleResult.errors?.length) return;
              await store.set(key, JSON.stringify(response.body.singleResult), options.ttlSeconds).catch(() => undefined);
            },
          };
        },
      };
    },
  };
}

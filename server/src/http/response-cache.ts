/**
 * The response cache for hot reads: whole query answers, kept in Redis when it is configured
 * (shared by every replica) and in this process otherwise.
 *
 * The cache knows no domain: each domain that wants its reads cached gives a `CachePolicy`
 * (workflows/cache.ts is one), and the app passes the policies in.
 *
 * - What: a query whose every root field is marked `@Extensions(cachedBy(policy.name))` by
 *   a policy given here: its answer depends only on what the viewer may see of those domains.
 *   Mutations, subscriptions and any other query are never cached.
 * - Key: the document (Apollo's query hash), operation name, variables, and the viewer's
 *   audience (`audienceOf`), so viewers who may see different data never share an entry.
 * - Freshness: every key carries the current generation of each scope it depends on (each
 *   policy's `scopeOf(viewer)`, and one global scope). A policy watches its domain's committed
 *   changes (events on the bus) and retires the scopes they make stale, so older entries are
 *   never read again; the TTL is only the backstop for changes that carry no event (a renamed
 *   user). Entries stored by a request that raced a change land under the old generation. With
 *   Redis the generations live in Redis too, so a change made through one replica is seen by
 *   every replica's next request; until Redis has acknowledged a bump, this replica answers the
 *   bumped scopes uncached.
 * - Failure: Redis errors count as misses; nothing is cached while Redis is unreachable, and
 *   a bus resync (messages may have been lost) retires every entry.
 */
import { createHash } from 'node:crypto';
import { HeaderMap, type ApolloServerPlugin, type BaseContext } from '@apollo/server';
import { Kind, type GraphQLSchema, type OperationDefinitionNode } from 'graphql';
import { connectRedis, type RedisTarget } from '../core/redis.js';
import type { AudienceOf, Viewer } from '../core/viewer.js';
import type { Logger } from '../core/logger.js';

/** What one domain caches, and what makes it stale. */
export interface CachePolicy {
  /** the value of `extensions.responseCache` on the root query fields this policy covers */
  readonly name: string;
  /** The generation scope of what `viewer` sees of the domain (one namespace for every policy: no two may use a name). */
  scopeOf(viewer: Viewer): string;
  /** Calls `retire` with the scopes each committed change makes stale (null: everything); returns the unsubscribe. */
  watch(retire: (scopes: string[] | null) => void): () => void;
}

/** Field extensions of a root query field cached under the policy named `name`. */
export function cachedBy<const N extends string>(name: N): { readonly responseCache: N } {
  return { responseCache: name };
}

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

function redisStore(target: RedisTarget, prefix: string): CacheStore {
  // Fail fast while Redis is away: a cache must never make a request wait.
  const redis = connectRedis(target, { offlineQueue: false, maxRetriesPerRequest: 0 });
  redis.on('error', () => undefined);
  // One hash tag for every generation key: MGET and MULTI over several of them stay in one
  // slot of a Redis Cluster. The entries themselves spread over the cluster.
  const generationKey = (scope: string) => `${prefix}cache:{${prefix}gen}:${scope}`;
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
  /** the domains' policies: a query is cached only when each of its root fields is covered by one */
  policies: CachePolicy[];
  /** part of every key: viewers with different audiences never share an entry */
  audienceOf: AudienceOf;
  /** unset: this process only */
  redis?: RedisTarget;
  redisPrefix: string;
}

export interface ResponseCache {
  /** Messages may have been lost: retire everything. */
  retireAll(): void;
  /** hits and misses since start, for benchmarks and metrics */
  readonly stats: { hits: number; misses: number };
  plugin<C extends BaseContext & { viewer: Viewer | null }>(): ApolloServerPlugin<C>;
  close(): Promise<void>;
}

/** The policies covering every root field of `operation`, or null when it is not cacheable. */
function policiesOf(schema: GraphQLSchema, operation: OperationDefinitionNode, policies: Map<string, CachePolicy>): Set<CachePolicy> | null {
  if (operation.operation !== 'query') return null;
  const fields = schema.getQueryType()?.getFields() ?? {};
  const covering = new Set<CachePolicy>();
  for (const selection of operation.selectionSet.selections) {
    if (selection.kind !== Kind.FIELD) return null;
    if (selection.name.value === '__typename') continue;
    const policy = policies.get(fields[selection.name.value]?.extensions?.responseCache as string);
    if (!policy) return null;
    covering.add(policy);
  }
  return covering;
}

export function createResponseCache(options: ResponseCacheOptions): ResponseCache {
  const store = options.redis ? redisStore(options.redis, options.redisPrefix) : localStore();
  const policies = new Map(options.policies.map((policy) => [policy.name, policy]));
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

  const unwatch = options.policies.map((policy) => policy.watch((scopes) => bump(scopes ?? [GLOBAL])));

  return {
    stats,
    retireAll() {
      bump([GLOBAL]);
    },
    close: () => {
      unwatch.forEach((off) => off());
      return store.close();
    },
    plugin<C extends BaseContext & { viewer: Viewer | null }>(): ApolloServerPlugin<C> {
      return {
        async requestDidStart() {
          let key: string | null = null;
          let served = false;
          return {
            async responseForOperation({ operation, schema, queryHash, request, contextValue, response }) {
              const viewer = contextValue.viewer;
              const covering = viewer && operation ? policiesOf(schema, operation, policies) : null;
              if (!viewer || !covering) return null;
              const scopes = [GLOBAL, ...[...covering].map((policy) => policy.scopeOf(viewer))];
              key = await keyFor([queryHash, request.operationName ?? null, request.variables ?? {}, options.audienceOf(viewer)], scopes).catch(() => null);
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

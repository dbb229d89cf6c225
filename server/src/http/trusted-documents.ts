/**
 * Trusted documents: the operations the dashboard and the worker SDK were built with, listed by
 * codegen in their `persisted-documents.json` (`sha256:<hex>` → text). The dashboard sends only
 * their ids (Apollo's `extensions.persistedQuery`, no text); the SDK sends their texts.
 *
 * - `TRUSTED_DOCUMENTS=allow` (default): any document runs; ids of the manifests are known from
 *   the start, and automatic persisted queries (a client registers its own text under its hash)
 *   are kept in Redis when one is configured, so every replica knows them, else in the process.
 * - `only`: a document runs when it is one of the manifests' (sent by id, or as any text of
 *   it: the SDK's are spaced and ordered otherwise), or when an ADMIN sends it; anything else is FORBIDDEN, over HTTP,
 *   WebSocket and Server-Sent Events alike. Nothing is registered.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import { printExecutableGraphQLDocument } from '@graphql-tools/documents';
import { GraphQLError, type DocumentNode } from 'graphql';
import { connectRedis, type RedisTarget } from '../core/redis.js';
import { inRepository } from '../core/paths.js';
import type { Viewer } from '../core/viewer.js';

export type TrustedDocumentsMode = 'allow' | 'only';

/** The manifests codegen writes (codegen.ts): the dashboard's and the SDK's. */
export const MANIFESTS = [
  inRepository('client', 'src', 'lib', 'graphql', 'generated', 'persisted-documents.json'),
  inRepository('sdk', 'src', 'generated', 'persisted-documents.json'),
];

/** Registered texts kept in the process (without Redis); the oldest goes first past this. */
const LOCAL_REGISTRATIONS = 1_000;
const REGISTRATION_TTL_SECONDS = 7 * 86_400;

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
/** A document's id as codegen makes it: the sha256 of its canonical print (definitions and fields sorted, minimal spacing), whatever text it came as. */
const idOf = (document: DocumentNode) => sha256(printExecutableGraphQLDocument(document));

export const UNTRUSTED_DOCUMENT = 'This server runs only the documents of the dashboard and the worker SDK (TRUSTED_DOCUMENTS=only): send a registered document id, or sign in as an ADMIN to run others';

/** Apollo's KeyValueCache, as its `persistedQueries.cache` takes it (keys arrive as `apq:<hash>`). */
interface KeyValueCache {
  get(key: string): Promise<string | undefined>;
  set(key: string, value: string, options?: { ttl?: number | null }): Promise<void>;
  delete(key: string): Promise<boolean | void>;
}

export interface TrustedDocuments {
  mode: TrustedDocumentsMode;
  /** what Apollo looks document ids up in */
  persistedQueries: { cache: KeyValueCache };
  /** null when `document` may run for `viewer`, else the FORBIDDEN error that refuses it */
  refusal(document: DocumentNode, viewer: Viewer | null): GraphQLError | null;
  /** the same check in Apollo's pipeline (before execution) */
  plugin<C extends BaseContext & { viewer: Viewer | null }>(): ApolloServerPlugin<C>;
  close(): Promise<void>;
}

export interface TrustedDocumentsOptions {
  mode: TrustedDocumentsMode;
  redis?: RedisTarget;
  redisPrefix: string;
  /** default: MANIFESTS; a missing file lists nothing (a server-only install) */
  manifests?: string[];
}

async function readManifests(files: string[]): Promise<Map<string, string>> {
  const byId = new Map<string, string>();
  for (const file of files) {
    const text = await readFile(file, 'utf8').catch(() => null);
    if (text === null) continue;
    for (const [id, document] of Object.entries(JSON.parse(text) as Record<string, string>)) byId.set(id.replace(/^sha256:/, ''), document);
  }
  return byId;
}

/** Where texts clients register themselves go (`allow`): Redis, shared by the replicas, or a bounded map. */
function registrations(options: TrustedDocumentsOptions): KeyValueCache & { close(): void } {
  if (options.redis) {
    // A registration that cannot be stored or read is a miss: the client sends its text again.
    const redis = connectRedis(options.redis, { offlineQueue: false, maxRetriesPerRequest: 0 });
    redis.on('error', () => undefined);
    const key = (name: string) => `${options.redisPrefix}${name}`;
    return {
      get: async (name) => (await redis.get(key(name)).catch(() => null)) ?? undefined,
      set: async (name, value, ttl) => void (await redis.set(key(name), value, 'EX', ttl?.ttl ?? REGISTRATION_TTL_SECONDS).catch(() => undefined)),
      delete: async (name) => void (await redis.del(key(name)).catch(() => undefined)),
      close: () => redis.disconnect(),
    };
  }
  const local = new Map<string, string>();
  return {
    get: async (name) => local.get(name),
    set: async (name, value) => {
      if (local.size >= LOCAL_REGISTRATIONS) local.delete(local.keys().next().value!);
      local.set(name, value);
    },
    delete: async (name) => local.delete(name),
    close: () => local.clear(),
  };
}

export async function createTrustedDocuments(options: TrustedDocumentsOptions): Promise<TrustedDocuments> {
  const byId = await readManifests(options.manifests ?? MANIFESTS);
  const verdicts = new WeakMap<DocumentNode, boolean>();
  const trusted = (document: DocumentNode) => {
    let verdict = verdicts.get(document);
    if (verdict === undefined) verdicts.set(document, (verdict = byId.has(idOf(document))));
    return verdict;
  };
  const stored = options.mode === 'allow' ? registrations(options) : null;

  const refusal = (document: DocumentNode, viewer: Viewer | null): GraphQLError | null => {
    if (options.mode === 'allow' || viewer?.role === 'ADMIN' || trusted(document)) return null;
    return new GraphQLError(UNTRUSTED_DOCUMENT, { extensions: { code: 'FORBIDDEN', http: { status: 403 } } });
  };

  return {
    mode: options.mode,
    persistedQueries: {
      cache: {
        async get(key) {
          const id = key.replace(/^apq:/, '');
          return byId.get(id) ?? stored?.get(key);
        },
        async set(key, value, ttl) {
          if (!byId.has(key.replace(/^apq:/, ''))) await stored?.set(key, value, ttl);
        },
        async delete(key) {
          return stored?.delete(key);
        },
      },
    },
    refusal,
    plugin<C extends BaseContext & { viewer: Viewer | null }>(): ApolloServerPlugin<C> {
      return {
        async requestDidStart() {
          if (options.mode === 'allow') return;
          return {
            async didResolveOperation({ document, contextValue }) {
              const refused = refusal(document, contextValue.viewer);
              if (refused) throw refused;
            },
          };
        },
      };
    },
    async close() {
      stored?.close();
    },
  };
}

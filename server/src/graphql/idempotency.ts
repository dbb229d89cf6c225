/**
 * Idempotent creation: a create whose answer was lost (the replica died after the commit) is
 * retried by its client with the same `Idempotency-Key` header (or `idempotencyKey` input field,
 * for WebSocket callers), and gets the object the first try made instead of a duplicate.
 *
 * The key is claimed in the transaction of the change (a unique row per user and key): a
 * concurrent duplicate waits on that row, then finds it and answers the first result; a
 * failed first try rolls its claim back, so a retry runs afresh. The same key with another
 * input is CONFLICT. Keys are kept `IDEMPOTENCY_HOURS`.
 */
import { createHash } from 'node:crypto';
import type { GraphQLSchema } from 'graphql';
import { badInput, conflict } from '../core/errors.js';
import { repeat, type JobServices } from '../core/repeat.js';
import type { EntityManager } from '../db/orm.js';
import type { MutationHook } from '../live/mutate.js';

/** What the wrapper needs of a request context. */
interface IdempotencyContext {
  viewer: { id: string } | null;
  em: EntityManager;
  idempotencyKey?: string;
  hooks?: readonly MutationHook[];
  app: { config: { idempotencyHours: number } };
}

/** For each idempotent mutation: how to read back what the first try created, by its id. */
export type Replays = Record<string, (ctx: never, id: string) => Promise<unknown>>;

const KEY = /^[\x21-\x7e]{1,255}$/;

/** A fresh claim by someone else's (earlier or concurrent) try of the same key. */
class AlreadyClaimed extends Error {
  constructor(readonly requestHash: string, readonly targetId: string | null) {
    super('idempotency key already claimed');
  }
}

function keyOf(ctx: IdempotencyContext, args: Record<string, unknown>): string | null {
  // Mutations with an input object take it there; the others (runTemplate, triggerSchedule) as an argument.
  const fromInput = (args.input as { idempotencyKey?: string | null } | undefined)?.idempotencyKey;
  const fromArgs = typeof args.idempotencyKey === 'string' ? args.idempotencyKey : null;
  const key = ctx.idempotencyKey ?? fromInput ?? fromArgs ?? null;
  if (key !== null && !KEY.test(key)) {
    const field = ctx.idempotencyKey ? 'Idempotency-Key' : fromInput != null ? 'input.idempotencyKey' : 'idempotencyKey';
    throw badInput('An idempotency key is 1 to 255 visible ASCII characters', { field });
  }
  return key;
}

/** The input without its key: the same request retried hashes the same. */
function hashOf(args: Record<string, unknown>): string {
  const { idempotencyKey: _argKey, ...others } = args;
  const input = args.input as Record<string, unknown> | undefined;
  const { idempotencyKey: _key, ...rest } = input ?? {};
  return createHash('sha256').update(JSON.stringify(input ? { ...others, input: rest } : others)).digest('base64url');
}

function claimHook(userId: string, key: string, requestHash: string, hours: number): MutationHook {
  return {
    async before(tx) {
      // Waits for a concurrent claim of the same key to commit or roll back; an expired one is taken over.
      const claimed = await tx.execute(
        `insert into idempotency_keys (user_id, key, request_hash) values (?, ?, ?)
         on conflict (user_id, key) do update set request_hash = excluded.request_hash, target_id = null, created_at = now()
           where idempotency_keys.created_at < now() - make_interval(hours => ?)
         returning 1`,
        [userId, key, requestHash, hours],
      );
      if (claimed.length) return;
      const [row] = await tx.execute('select request_hash, target_id from idempotency_keys where user_id = ? and key = ?', [userId, key]);
      throw new AlreadyClaimed(row.request_hash, row.target_id);
    },
    async after(tx, result) {
      const id = (result as { id?: unknown } | null)?.id;
      if (typeof id === 'string') await tx.execute('update idempotency_keys set target_id = ? where user_id = ? and key = ?', [id, userId, key]);
    },
  };
}

async function replay(claim: AlreadyClaimed, requestHash: string, read: () => Promise<unknown>): Promise<unknown> {
  if (claim.requestHash !== requestHash) throw conflict('This idempotency key was used with another input');
  const first = claim.targetId ? await read() : null;
  if (!first) throw conflict('What the first request with this idempotency key created is gone');
  return first;
}

/** Wraps the named Mutation fields of `schema` so a retried key answers the first result. */
export function idempotentMutations(schema: GraphQLSchema, replays: Replays): GraphQLSchema {
  const fields = schema.getMutationType()?.getFields() ?? {};
  for (const [name, read] of Object.entries(replays)) {
    const field = fields[name];
    const resolve = field?.resolve;
    if (!resolve) throw new Error(`idempotentMutations: no mutation ${name}`);
    field.resolve = async (source, args, ctx: IdempotencyContext, info) => {
      const key = keyOf(ctx, args);
      // Anonymous callers are refused by the resolver itself.
      if (key === null || !ctx.viewer) return resolve(source, args, ctx, info);
      const requestHash = hashOf(args);
      const hook = claimHook(ctx.viewer.id, key, requestHash, ctx.app.config.idempotencyHours);
      try {
        return await resolve(source, args, { ...ctx, hooks: [...(ctx.hooks ?? []), hook] }, info);
      } catch (error) {
        if (!(error instanceof AlreadyClaimed)) throw error;
        return replay(error, requestHash, () => (read as (ctx: IdempotencyContext, id: string) => Promise<unknown>)(ctx, error.targetId!));
      }
    };
  }
  return schema;
}

/** Forgets keys past `IDEMPOTENCY_HOURS`; any replica may, as the delete is idempotent itself. */
export function startIdempotencyPruning(app: JobServices & { orm: { em: { fork(): unknown } }; config: { idempotencyHours: number } }) {
  return repeat('idempotency-pruning', 15 * 60_000, async () => {
    const em = app.orm.em.fork() as EntityManager;
    await em.execute('delete from idempotency_keys where created_at < now() - make_interval(hours => ?)', [app.config.idempotencyHours]);
  }, app);
}

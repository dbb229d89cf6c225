/**
 * Every mutation is audited: each root Mutation field runs with an audit hook on its context,
 * which `mutate` (the only way domain code changes data) writes in the transaction of the
 * change. A mutation that fails, or is refused, leaves no row, as it leaves no change.
 */
import { getNamedType, isObjectType, type GraphQLSchema } from 'graphql';
import type { Context } from '../app/context.js';
import { toGlobalId, type NodeType } from '../core/ids.js';
import type { Viewer } from '../core/viewer.js';
import type { EntityManager } from '../db/orm.js';
import type { MutationHook } from '../live/mutate.js';
import { codePoints, truncate } from '../core/text.js';
import * as rows from './rows.js';

/** Mutations with no audit row, and why. */
export const UNAUDITED: ReadonlyMap<string, string> = new Map([
  ['recordMetrics', 'a stream of samples from integrations, not a change a person makes; counted in Prometheus instead'],
]);

/** Argument names whose values never reach the log. */
const SECRET = /pass(word)?|secret|token|key|dsn|authorization|cookie|url/i;
const MAX_STRING = 200;
const MAX_ITEMS = 20;
const MAX_DEPTH = 4;
const MAX_DETAILS_BYTES = 4096;

/** The input as the log keeps it: secrets redacted, long strings and lists cut. */
export function summarize(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return codePoints(value) > MAX_STRING ? `${truncate(value, MAX_STRING)}…` : value;
  if (value instanceof Date) return value.toISOString();
  if (value === null || typeof value !== 'object') return value ?? null;
  if (depth >= MAX_DEPTH) return '…';
  if (Array.isArray(value)) {
    const head = value.slice(0, MAX_ITEMS).map((item) => summarize(item, depth + 1));
    return value.length > MAX_ITEMS ? [...head, `… ${value.length - MAX_ITEMS} more`] : head;
  }
  return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, SECRET.test(key) ? '[redacted]' : summarize(item, depth + 1)]));
}

function detailsOf(args: Record<string, unknown>): unknown {
  const summary = summarize(args);
  return JSON.stringify(summary).length > MAX_DETAILS_BYTES ? { truncated: true, fields: Object.keys(args) } : summary;
}

function credentialOf(viewer: Viewer): string {
  return viewer.credentialKind === 'session' ? 'session' : (viewer.credentialName ?? 'api-token');
}

/** One mutation's audit: written once, by the first `mutate` it runs. */
export function auditOf(ctx: Context, action: string, args: Record<string, unknown>, returns: NodeType | null): MutationHook {
  let written = false;
  return {
    async after(tx: EntityManager, result: unknown) {
      if (written) return;
      written = true;
      // Signing in has no viewer yet: the actor is whoever signed in.
      const signedIn = (result as { user?: { id?: string } } | null)?.user?.id;
      const actorId = ctx.viewer?.id ?? signedIn ?? null;
      const credential = ctx.viewer ? credentialOf(ctx.viewer) : signedIn ? 'session' : null;
      const resultId = (result as { id?: unknown } | null)?.id;
      const targetId = returns && typeof resultId === 'string' ? toGlobalId(returns, resultId) : typeof args.id === 'string' ? args.id : null;
      await insertEntry(tx, ctx, { actorId, credential, action, targetId, details: args });
    },
  };
}

function insertEntry(
  tx: EntityManager, ctx: Pick<Context, 'clientIp'>, entry: { actorId: string | null; credential: string | null; action: string; targetId: string | null; details: Record<string, unknown> },
): Promise<void> {
  return rows.insertEntry(tx, { ...entry, ip: ctx.clientIp === 'unknown' ? null : ctx.clientIp, details: detailsOf(entry.details) });
}

/**
 * One more entry for a change a mutation makes to one of many objects (bulkWorkflows: one per
 * workflow), by the mutation's caller, in the transaction of that change; the mutation keeps its
 * own entry too.
 */
export function auditChange(tx: EntityManager, ctx: Pick<Context, 'viewer' | 'clientIp'>, action: string, targetId: string, details: Record<string, unknown>): Promise<void> {
  return insertEntry(tx, ctx, { actorId: ctx.viewer?.id ?? null, credential: ctx.viewer ? credentialOf(ctx.viewer) : null, action, targetId, details });
}

/** Wraps every root Mutation field so the context it runs with carries its audit. */
export function auditMutations(schema: GraphQLSchema): GraphQLSchema {
  for (const field of Object.values(schema.getMutationType()?.getFields() ?? {})) {
    const resolve = field.resolve;
    if (!resolve || UNAUDITED.has(field.name)) continue;
    const named = getNamedType(field.type);
    const returns = isObjectType(named) && named.getInterfaces().some((face) => face.name === 'Node') ? (named.name as NodeType) : null;
    field.resolve = (source, args, ctx: Context, info) =>
      resolve(source, args, { ...ctx, hooks: [...(ctx.hooks ?? []), auditOf(ctx, field.name, args, returns)] }, info);
  }
  return schema;
}

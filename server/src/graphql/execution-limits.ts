/**
 * Limits on one execution while it runs, whatever executes it (graphql-jit over HTTP,
 * graphql-js over WebSocket): the size of its answer (`MAX_RESPONSE_BYTES`), the time a query
 * may take (`QUERY_TIMEOUT_MS`), and the client still waiting for it. The cost estimate
 * (query-limits.ts) bounds what an operation may ask for before it runs; this stops one whose
 * real answer grows too large or too slow while it is being built, not after.
 *
 * `guardResolvers` wraps the resolver of every field that returns objects or lists, plus the
 * root fields (leaves are read inside them, so their cost stays that of a property read).
 * Before each call the execution's guard is checked; after it, the guard is charged what the
 * resolved objects add to the answer: their selected scalars, read off the objects (or a fixed
 * guess for those a resolver computes), with their keys. Once a guard has stopped, every
 * wrapped resolver throws its error, so nothing more is loaded, and the transport answers
 * with that one error instead of the partial result.
 */
import {
  defaultFieldResolver,
  getNamedType,
  getNullableType,
  GraphQLError,
  isCompositeType,
  isIntrospectionType,
  isListType,
  isObjectType,
  Kind,
  type FieldNode,
  type GraphQLFieldResolver,
  type GraphQLResolveInfo,
  type GraphQLSchema,
  type SelectionSetNode,
} from 'graphql';

export interface ExecutionLimits {
  /** the answer's estimated JSON size, in bytes */
  responseBytes: number;
  /** how long a query (or one subscription event) may execute; mutations run to their end */
  queryTimeoutMs: number;
}

/** A guarded execution was stopped: the one error its client gets, with the HTTP status to send. */
export function stopStatus(error: GraphQLError): number {
  return (error.extensions.http as { status?: number } | undefined)?.status ?? 400;
}

/** The stop error as the JSON of an `errors` entry. */
export function stopJson(error: GraphQLError): { message: string; extensions: Record<string, unknown> } {
  const { http: _http, ...extensions } = error.extensions;
  return { message: error.message, extensions };
}

/** The limits and progress of one execution (an HTTP request, a WebSocket operation or event). */
export class ExecutionGuard {
  /** set once the execution must stop, and why */
  error: GraphQLError | null = null;
  /** resolves with `error` once it is set */
  readonly stopped: Promise<GraphQLError>;
  private bytes = 0;
  private deadline = 0;
  private timer: NodeJS.Timeout | undefined;
  private settle!: (error: GraphQLError) => void;

  constructor(private readonly limits: ExecutionLimits) {
    this.stopped = new Promise((resolve) => (this.settle = resolve));
  }

  /** The client is gone (closed its connection, or sent `complete`): nothing more is worth doing. */
  abandon(): void {
    this.stop(new GraphQLError('The client went away before the answer was ready', { extensions: { code: 'CLIENT_CLOSED_REQUEST', http: { status: 499 } } }));
  }

  /** The execution is over: its clock stops. */
  end(): void {
    clearTimeout(this.timer);
  }

  /** Called before every guarded resolver: starts a query's clock, and throws once stopped. */
  check(info: GraphQLResolveInfo): void {
    if (this.error) throw this.error;
    if (this.deadline === 0 && info.operation.operation !== 'mutation') {
      const ms = this.limits.queryTimeoutMs;
      this.deadline = performance.now() + ms;
      // The timer answers a query stuck waiting (on the database, say); the deadline check
      // below stops one that never yields.
      this.timer = setTimeout(() => this.timedOut(), ms);
      this.timer.unref();
    } else if (this.deadline !== 0 && performance.now() > this.deadline) {
      this.timedOut();
      throw this.error;
    }
  }

  /** Charges what `value`, just resolved for `info`'s field, adds to the answer; returns it. */
  account<T>(value: T, info: GraphQLResolveInfo): T {
    if (this.error) throw this.error;
    this.bytes += sizeOf(value, selectionOf(info));
    if (this.bytes > this.limits.responseBytes) {
      const max = this.limits.responseBytes;
      this.stop(new GraphQLError(`The answer is larger than ${max} bytes (MAX_RESPONSE_BYTES); ask for fewer items or fields`, {
        extensions: { code: 'RESPONSE_TOO_LARGE', limit: 'MAX_RESPONSE_BYTES', max, http: { status: 413 } },
      }));
      throw this.error;
    }
    return value;
  }

  private timedOut(): void {
    const max = this.limits.queryTimeoutMs;
    this.stop(new GraphQLError(`The query took longer than ${max} ms (QUERY_TIMEOUT_MS); ask for less`, {
      extensions: { code: 'QUERY_TIMEOUT', limit: 'QUERY_TIMEOUT_MS', max, http: { status: 400 } },
    }));
  }

  private stop(error: GraphQLError): void {
    if (this.error) return;
    this.error = error;
    clearTimeout(this.timer);
    this.settle(error);
  }
}

// A symbol-keyed property rather than a WeakMap: Apollo runs each operation with a shallow copy of the context.
const GUARD = Symbol('execution guard');

/** Puts `context`'s execution under `guard`; returns the context. */
export function guarded<C extends object>(context: C, guard: ExecutionGuard): C {
  (context as { [GUARD]?: ExecutionGuard })[GUARD] = guard;
  return context;
}

/** Resolves with `work`'s result, or with the guard's error as soon as it stops (the work's later result is dropped). */
export async function underGuard<R>(guard: ExecutionGuard, work: Promise<R>): Promise<R | GraphQLError> {
  try {
    const result = await Promise.race([work, guard.stopped]);
    return guard.error ?? result;
  } finally {
    guard.end();
  }
}

/** A selected field: its key in the answer and the property a default resolver reads. */
interface Selected {
  key: string;
  name: string;
}

const selections = new WeakMap<FieldNode, Selected[]>();

/** The fields selected under `info`'s field, fragments flattened (whatever their type condition: an upper bound). */
function selectionOf(info: GraphQLResolveInfo): Selected[] {
  const known = selections.get(info.fieldNodes[0]);
  if (known) return known;
  const byKey = new Map<string, Selected>();
  const seen = new Set<string>();
  const walk = (set: SelectionSetNode | undefined) => {
    for (const selection of set?.selections ?? []) {
      if (selection.kind === Kind.FIELD) {
        const key = selection.alias?.value ?? selection.name.value;
        byKey.set(key, { key, name: selection.name.value });
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        walk(selection.selectionSet);
      } else if (!seen.has(selection.name.value)) {
        seen.add(selection.name.value);
        walk(info.fragments[selection.name.value]?.selectionSet);
      }
    }
  };
  for (const node of info.fieldNodes) walk(node.selectionSet);
  const fields = [...byKey.values()];
  selections.set(info.fieldNodes[0], fields);
  return fields;
}

/** A value a resolver computes (a global id, say) and objects, whose own fields are charged when they resolve. */
const COMPUTED_BYTES = 40;

function scalarBytes(value: unknown): number {
  switch (typeof value) {
    case 'string':
      return value.length + 2;
    case 'number':
      return 12;
    case 'boolean':
      return 5;
    case 'undefined':
      return COMPUTED_BYTES;
    default:
      return value === null ? 4 : value instanceof Date ? 26 : 2;
  }
}

/** What `value` (an object, a list of them, or a scalar list) adds to the JSON answer. */
function sizeOf(value: unknown, fields: Selected[]): number {
  if (Array.isArray(value)) {
    let total = 2;
    for (const item of value) total += sizeOf(item, fields) + 1;
    return total;
  }
  if (value === null || typeof value !== 'object' || value instanceof Date || fields.length === 0) return scalarBytes(value);
  let total = 2;
  for (const field of fields) total += field.key.length + 4 + scalarBytes((value as Record<string, unknown>)[field.name]);
  return total;
}

function guardedResolver(resolve: GraphQLFieldResolver<unknown, unknown>): GraphQLFieldResolver<unknown, unknown> {
  return (source, args, context, info) => {
    const guard = (context as { [GUARD]?: ExecutionGuard } | undefined)?.[GUARD];
    if (!guard) return resolve(source, args, context, info);
    guard.check(info);
    const value = resolve(source, args, context, info);
    return value instanceof Promise ? value.then((resolved) => guard.account(resolved, info)) : guard.account(value, info);
  };
}

/** Puts every root field and every field returning objects or lists of `schema` under the guards. */
export function guardResolvers(schema: GraphQLSchema): GraphQLSchema {
  const roots = new Set([schema.getQueryType(), schema.getMutationType(), schema.getSubscriptionType()]);
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type) || isIntrospectionType(type)) continue;
    for (const field of Object.values(type.getFields())) {
      const returns = getNullableType(field.type);
      if (!roots.has(type) && !isListType(returns) && !isCompositeType(getNamedType(returns))) continue;
      field.resolve = guardedResolver(field.resolve ?? defaultFieldResolver);
    }
  }
  return schema;
}

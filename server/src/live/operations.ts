/**
 * GraphQL operations of the live transports (WebSocket in ws/, Server-Sent Events in sse/),
 * whatever carries their messages: documents parsed and validated once per query text, the
 * HTTP query limits, a fresh context per execution, errors masked exactly like HTTP's, every
 * execution timed for monitoring, and subscriptions that follow their source stream in their
 * group of equal subscriptions (groups.ts), so an event is executed and serialized once per
 * group. Each transport frames what it is handed (`next` payloads, the end) its own way.
 *
 * - Contexts: a subscription lives for hours, so each execution gets a fresh context (forked
 *   entity manager, fresh DataLoaders): payloads never read stale cached rows.
 * - Errors: a bad query is answered with GraphQL errors; what is not the client's fault is
 *   logged and reported, and SERVICE_UNAVAILABLE goes to `onUnavailable` (logged once there).
 */
import { randomUUID } from 'node:crypto';
import {
  createSourceEventStream,
  execute,
  getOperationAST,
  GraphQLError,
  parse,
  validate,
  type DocumentNode,
  type ExecutionArgs,
  type ExecutionResult,
  type GraphQLFormattedError,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type OperationTypeNode,
} from 'graphql';
import type { AudienceOf, Viewer } from '../core/viewer.js';
import { faultOf, maskError, nulRefusal, withoutSuggestions } from '../core/errors.js';
import { ExecutionGuard, guarded, underGuard } from '../graphql/execution-limits.js';
import type { Logger } from '../core/logger.js';
import { checkQueryLimits, mayIntrospect, type QueryLimits } from '../graphql/query-limits.js';
import { subscriptionKey, type GroupMember, type ShareableSource, type SubscriptionGroups } from './groups.js';
import { malformedText } from '../core/text.js';
import type { RequestLimits } from '../core/limits.js';
import { failSpan, inLiveSpan, type LiveTransport } from '../core/tracing.js';
import type { Span, SpanContext } from '@opentelemetry/api';

/** Parsed and validated documents kept for reuse (and shared by the subscriptions using them). */
const DOCUMENT_CACHE_SIZE = 200;
const DOCUMENT_CACHE_MAX_QUERY = 16_384;

export type OperationLimits = QueryLimits & Pick<RequestLimits, 'queryTokens' | 'responseBytes' | 'queryTimeoutMs'>;

/** What a client asks to run: the GraphQL-over-HTTP request parameters. */
export interface OperationRequest {
  query: string;
  operationName?: string | null;
  variables?: Record<string, unknown> | null;
}

export interface LiveOperationsOptions<C> {
  schema: GraphQLSchema;
  logger: Logger;
  /** the same limits as over HTTP: parser tokens, depth, cost, answer size and time… */
  limits: OperationLimits;
  /** a fresh execution context; called per query/mutation, per subscription start and per execution of an event */
  createContext(viewer: Viewer | null, requestId: string): C;
  /** equal subscriptions of one audience share one execution per event */
  audienceOf: AudienceOf;
  /** called with every error that is not the client's fault (error tracking) */
  onInternalError?: (error: unknown, requestId: string) => void;
  /** called with every error that says the database is unreachable (an outage, logged once by the caller) */
  onUnavailable?: (error: unknown) => void;
  /** groups of equal subscriptions on this replica (shared with monitoring) */
  groups: SubscriptionGroups;
  /** every execution, timed (the GraphQL operation histogram and log) */
  onOperation?: (operation: LiveOperation) => void;
  /** the error that refuses a document this viewer may not run (TRUSTED_DOCUMENTS=only), else null */
  refusal?: (document: DocumentNode, viewer: Viewer | null) => GraphQLError | null;
  /** counts executions of subscription events, and the messages they were sent in */
  onEventExecuted?: () => void;
  onEventSent?: (count: number) => void;
}

/** An execution as monitoring sees it: how it ended and how long it took. */
export type LiveOperation = Omit<Execution, 'started' | 'span'> & { outcome: 'ok' | 'client_error' | 'error'; seconds: number };

/** One execution: a query, a mutation, a subscription's start, or one event of a group. */
interface Execution {
  requestId: string;
  operationName: string;
  /** unknown for a request refused before its operation was identified */
  type: OperationTypeNode | 'unknown';
  started: number;
  /** its span, when traced */
  span?: Span;
}

/** Who asks: the signed-in viewer, and whether error messages may suggest schema names (only to those who may introspect). */
export interface Asker {
  viewer: Viewer;
  suggestions: boolean;
}

/** A parsed, valid document and the operation the request names in it. */
export interface Prepared {
  document: DocumentNode;
  operation: OperationDefinitionNode;
}

/** A running operation: a subscription's source stream once started, a query's or mutation's guard (what `end` stops). */
export interface Running {
  source?: AsyncIterator<unknown>;
  guard?: ExecutionGuard;
}

/** A subscription that has started: its group, how to execute its events, and where they come from. */
export interface Subscription {
  /** the request id of its start, which a failure of its source stream is logged under */
  requestId: string;
  key: string;
  args: ExecutionArgs;
  operation: OperationDefinitionNode;
  source: AsyncIterableIterator<unknown>;
  /** the span of its start, which each event's span links to (when traced) */
  started?: SpanContext;
}

/** Where a followed subscription's events go, framed by the transport. */
export interface SubscriptionSink {
  /** false once the client no longer waits for this subscription (completed, replaced, gone) */
  live(): boolean;
  /** one event's payload: the JSON of its execution result, shared by the group */
  next(payload: Buffer): void;
  /** the subscription is over: its source ended (no errors) or failed; called once, live or not */
  ended(errors?: GraphQLFormattedError[]): void;
}

const isShareable = (source: AsyncIterator<unknown>): source is AsyncIterator<unknown> & ShareableSource =>
  typeof (source as Partial<ShareableSource>).share === 'function';

/** `execution`'s result, or only the guard's error once it stopped it (not one per field cut short). */
async function guardedExecution(guard: ExecutionGuard, execution: ExecutionResult | Promise<ExecutionResult>): Promise<ExecutionResult> {
  const result = await underGuard(guard, Promise.resolve(execution));
  return result instanceof GraphQLError ? { errors: [result] } : result;
}

/** Ends an operation the client no longer waits for: its stream, or its execution. */
export function endRunning(running: Running): void {
  void running.source?.return?.();
  running.guard?.abandon();
}

export class LiveOperations<C = unknown> {
  private readonly documents = new Map<string, DocumentNode>();
  /** `next` messages of events sent since monitoring was last told (once per tick: a labelled counter's inc is not free) */
  private sent = 0;

  constructor(
    readonly options: LiveOperationsOptions<C>,
    /** what carries the messages: names the operations' spans, and where they start (SSE: in the request's span; WebSocket: a trace each) */
    readonly transport: LiveTransport,
  ) {}

  /** Who `viewer` is as an asker of operations. */
  asker(viewer: Viewer): Asker {
    return { viewer, suggestions: mayIntrospect(viewer, this.options.limits) };
  }

  /** Turns an error into what a client may see; `fallback` is the code of request errors without one. */
  formatError(error: GraphQLError, fallback: string, requestId: string, suggestions: boolean): GraphQLFormattedError {
    const { options } = this;
    const original = error.originalError;
    const internal = original != null && !(original instanceof GraphQLError) && !error.extensions?.code;
    const code = String(error.extensions?.code ?? (internal ? 'INTERNAL_SERVER_ERROR' : fallback));
    const fault = faultOf(code, original ?? error);
    if (fault === 'unavailable') options.onUnavailable?.(original ?? error);
    if (fault === 'internal') {
      options.logger.error({ err: original ?? error, requestId }, 'internal error in a live operation');
      options.onInternalError?.(original ?? error, requestId);
    }
    const message = suggestions ? error.message : withoutSuggestions(error.message);
    return maskError({ ...error.toJSON(), message, extensions: { ...error.extensions, code } }, requestId, original);
  }

  /** Errors that refuse a request before it runs, formatted for the client; the refusal is reported to monitoring. */
  refused(errors: readonly GraphQLError[], asker: Asker, prepared?: Prepared, operationName?: string | null): GraphQLFormattedError[] {
    const run = this.execution(prepared?.operation, operationName);
    const formatted = errors.map((e) => this.formatError(e, 'GRAPHQL_VALIDATION_FAILED', run.requestId, asker.suggestions));
    this.record(run, formatted);
    return formatted;
  }

  /** The document and operation of a request, or the errors that refuse it (NUL, syntax, validation, unknown operation, limits). */
  prepare(request: OperationRequest, viewer: Viewer | null): Prepared | readonly GraphQLError[] {
    const { options } = this;
    // PostgreSQL cannot store NUL, and its driver's refusal would look like an internal error.
    const nul = nulRefusal(JSON.stringify(request));
    if (nul) return [nul];
    const document = this.documentFor(request.query);
    if (!('kind' in document)) return document;
    const untrusted = options.refusal?.(document, viewer);
    if (untrusted) return [untrusted];
    const operation = getOperationAST(document, request.operationName);
    if (!operation) return [new GraphQLError('Unable to identify operation')];
    const refused = malformedText(request.variables) ?? checkQueryLimits({ schema: options.schema, document, operation, variables: request.variables ?? undefined, viewer }, options.limits);
    return refused ? [refused] : { document, operation };
  }

  /**
   * Answers a query or mutation (the JSON of its result), or a subscription that cannot start;
   * else the started subscription. `running` gets the guard of a query or mutation, which a
   * client that leaves abandons. A function of its own, so the context it starts with is not
   * kept for hours.
   */
  async start(prepared: Prepared, request: OperationRequest, asker: Asker, running: Running): Promise<{ result: string } | Subscription> {
    const { options } = this;
    const args: ExecutionArgs = {
      schema: options.schema,
      document: prepared.document,
      operationName: request.operationName,
      variableValues: request.variables,
    };
    const run = this.execution(prepared.operation, request.operationName);
    return inLiveSpan(run, this.transport, this.transport === 'sse' ? 'active' : 'root', undefined, false, async (span) => {
      run.span = span;
      const contextValue = options.createContext(asker.viewer, run.requestId);
      if (prepared.operation.operation !== 'subscription') {
        running.guard = new ExecutionGuard(options.limits);
        const result = await guardedExecution(running.guard, execute({ ...args, contextValue: guarded(contextValue as object, running.guard) }));
        return { result: this.payloadJson(result, run, asker.suggestions) };
      }
      const source = await createSourceEventStream({ ...args, contextValue });
      if (!(Symbol.asyncIterator in source)) return { result: this.payloadJson(source, run, asker.suggestions) };
      const key = subscriptionKey(options.audienceOf(asker.viewer), request.query, request.operationName, request.variables);
      return { requestId: run.requestId, key, args, operation: prepared.operation, source: source as AsyncIterableIterator<unknown>, started: span?.spanContext() };
    });
  }

  /**
   * Hands each event of `source` to `sink`, in order, computed once per group of equal
   * subscriptions, until the subscription ends. Callbacks rather than an async loop:
   * per subscriber and event this is one promise (the source's), not five; and once the source
   * has caught up and can share (the event feed's streams can), none: the group's sink gets the
   * event once and calls `ready`, a frame write, for each member.
   */
  follow({ requestId, key, args, operation, source, started }: Subscription, asker: Asker, sink: SubscriptionSink): void {
    const { options } = this;
    const group = options.groups.join(key);
    let over = false;
    let sharing = false;
    const end = (errors?: GraphQLFormattedError[]) => {
      if (over) return;
      over = true;
      group.leave(member);
      sink.ended(errors);
    };
    const complete = () => end();
    // The source stream itself failed: the subscription ends with an error.
    const fail = (error: unknown) => {
      const failure = error instanceof GraphQLError ? error : new GraphQLError(String((error as Error)?.message ?? error), { originalError: error as Error });
      end([this.formatError(failure, 'INTERNAL_SERVER_ERROR', requestId, asker.suggestions)]);
      void source.return?.();
    };
    // Made once per subscription, not per event: at thousands of subscribers, allocations
    // per event are what the garbage collector pays for.
    const member: GroupMember = {
      ready: (payload) => {
        if (!sink.live()) return end();
        sink.next(payload);
        if (!sharing) take();
      },
      failed: fail,
    };
    const compute = (event: unknown) => {
      const run = this.execution(operation, args.operationName);
      // One span per execution, so per group and event, not per subscriber.
      return inLiveSpan(run, this.transport, 'root', started, true, async (span) => {
        run.span = span;
        // A shared execution: no subscriber's leaving stops it, but its size and time are limited.
        const guard = new ExecutionGuard(options.limits);
        const result = await guardedExecution(guard, execute({ ...args, rootValue: event, contextValue: guarded(options.createContext(asker.viewer, run.requestId) as object, guard) }));
        options.onEventExecuted?.();
        return this.payloadJson(result, run, asker.suggestions);
      });
    };
    const next = (event: IteratorResult<unknown>) => {
      try {
        if (event.done || !sink.live()) return complete();
        group.payload(event.value, compute, member);
      } catch (error) {
        fail(error);
      }
    };
    const take = (): void => {
      if (isShareable(source) && group.share(source, compute, member, complete)) sharing = true;
      else void source.next().then(next, fail);
    };
    take();
  }

  /** Counts one `next` message of an event sent to a subscriber (told to monitoring once per tick). */
  eventSent(): void {
    if (this.sent++ > 0) return;
    queueMicrotask(() => {
      this.options.onEventSent?.(this.sent);
      this.sent = 0;
    });
  }

  /** Parses and validates `query` (both cached per query text, so equal subscriptions share one document). */
  private documentFor(query: string): DocumentNode | readonly GraphQLError[] {
    const cached = this.documents.get(query);
    if (cached) return cached;
    let document: DocumentNode;
    try {
      document = parse(query, { maxTokens: this.options.limits.queryTokens });
    } catch (error) {
      return [error instanceof GraphQLError ? error : new GraphQLError('Malformed query')];
    }
    const errors = validate(this.options.schema, document);
    if (errors.length) return errors;
    if (query.length <= DOCUMENT_CACHE_MAX_QUERY) {
      if (this.documents.size >= DOCUMENT_CACHE_SIZE) this.documents.delete(this.documents.keys().next().value!);
      this.documents.set(query, document);
    }
    return document;
  }

  /** A new execution with a request id of the server's own; without an operation, one refused before it was identified. */
  private execution(operation?: OperationDefinitionNode, operationName?: string | null): Execution {
    const started = performance.now();
    if (!operation) return { requestId: randomUUID(), operationName: 'anonymous', type: 'unknown', started };
    return { requestId: randomUUID(), operationName: operationName ?? operation.name?.value ?? 'anonymous', type: operation.operation, started };
  }

  /** Reports an execution to monitoring, with how its (masked) errors make it end. */
  private record(run: Execution, errors: readonly GraphQLFormattedError[] | undefined): void {
    const ours = (e: GraphQLFormattedError) => e.extensions?.code === 'INTERNAL_SERVER_ERROR' || e.extensions?.code === 'SERVICE_UNAVAILABLE';
    const outcome = !errors?.length ? 'ok' : errors.some(ours) ? 'error' : 'client_error';
    const { started, span, ...execution } = run;
    if (span && outcome === 'error') failSpan(span, errors!.find(ours)!.message);
    this.options.onOperation?.({ ...execution, outcome, seconds: (performance.now() - started) / 1000 });
  }

  /** An execution result as the JSON of a `next` payload, its errors masked; the execution is reported to monitoring. */
  private payloadJson(result: ExecutionResult, run: Execution, suggestions: boolean): string {
    const errors = result.errors?.map((e) => this.formatError(e, 'BAD_USER_INPUT', run.requestId, suggestions));
    this.record(run, errors);
    return JSON.stringify(errors ? { ...result, errors } : result);
  }
}

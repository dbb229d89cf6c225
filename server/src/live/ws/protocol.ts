/**
 * The graphql-transport-ws protocol (graphql-ws's message codec and close codes) of one
 * server, against a minimal socket (`ProtocolSocket`): no `ws`, no HTTP, no network. server.ts
 * adapts the `ws` library and the HTTP upgrade to it; the protocol tests drive it with a fake
 * socket.
 *
 * - Who: `connectionParams.authorization` ("Bearer <token>") or the session cookie of the
 *   upgrade request. No credential at all closes the socket with 4401, one that does not
 *   check out with 4403, and so does one revoked or expired while the socket is open
 *   (re-checked every `WS_CREDENTIAL_RECHECK_MS`).
 * - Limits: connection_init within `WS_INIT_TIMEOUT_MS` (else 4408), `WS_MAX_SUBSCRIPTIONS`
 *   operations at once, and the HTTP query limits and rate limit (the token's budget) on every
 *   operation.
 * - Sharing: equal subscriptions share one execution and one serialization per event (see
 *   groups.ts), and an idle subscription holds little more than its source stream.
 * - Contexts: a subscription lives for hours, so each execution gets a fresh context (forked
 *   entity manager, fresh DataLoaders): payloads never read stale cached rows.
 * - Errors: masked exactly like HTTP's (`maskError`); a bad query gets an error message, never
 *   a closed socket.
 * - Slow clients: a socket whose unsent messages pass `WS_MAX_BUFFERED_BYTES` (a client that
 *   stopped reading) is cut off rather than buffered without end; it reconnects and resumes
 *   with `after`.
 * - Database outage: a socket that cannot sign in because the database is unreachable is
 *   closed with 1013 (Try Again Later), which graphql-ws clients retry; operations get
 *   SERVICE_UNAVAILABLE. Neither is logged per socket (`onUnavailable`: the outage, once).
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
import { CloseCode, MessageType, parseMessage, type SubscribePayload } from 'graphql-ws';
import { bearerToken, type AudienceOf, type Viewer } from '../../core/viewer.js';
import { faultOf, maskError, nulRefusal, rateLimited, withoutSuggestions } from '../../core/errors.js';
import { ExecutionGuard, guarded, underGuard } from '../../graphql/execution-limits.js';
import type { Logger } from '../../core/logger.js';
import type { RevokedCredential } from '../bus/bus.js';
import { checkQueryLimits, mayIntrospect, type QueryLimits } from '../../graphql/query-limits.js';
import { watchCredentials, type CredentialWatch } from './credentials.js';
import { subscriptionKey, type GroupMember, type ShareableSource, type SubscriptionGroups } from './groups.js';
import { malformedText } from '../../core/text.js';
import type { RequestLimits } from '../../core/limits.js';

/** Try Again Later: the database is unreachable; graphql-ws clients retry this one (4500 they give up on). */
export const UNAVAILABLE_CLOSE_CODE = 1013;
export const UNAUTHORIZED_CLOSE_CODE = 4401;
/** Parsed and validated documents kept for reuse (and shared by the subscriptions using them). */
const DOCUMENT_CACHE_SIZE = 200;
const DOCUMENT_CACHE_MAX_QUERY = 16_384;

/** What the protocol needs of a socket. */
export interface ProtocolSocket {
  /** false once it is closing or closed: nothing is sent any more */
  readonly open: boolean;
  /** bytes accepted by `send` and not yet written out */
  readonly bufferedAmount: number;
  /** one text message */
  send(data: string): void;
  /** one text message: `prefix`, `payload` and `}` (a `next` message around a payload its group shares) */
  sendJoined(prefix: Buffer, payload: Buffer): void;
  close(code: number, reason: string): void;
  /** cuts the socket off at once, without a close handshake */
  terminate(): void;
}

/** What the socket's owner tells the protocol. */
export interface ProtocolConnection {
  /** a text message of the client; settles once it is handled (a subscription's events come later) */
  message(data: string): Promise<void>;
  /** the socket is closed: every operation ends */
  closed(): void;
}

export interface Protocol {
  /** A socket was accepted; `cookieToken` is the session cookie of its upgrade request, if any. */
  opened(socket: ProtocolSocket, cookieToken: string | null): ProtocolConnection;
  /** Closes (4403) every socket signed in with a credential that was just revoked. */
  credentialRevoked(credential: RevokedCredential): void;
  /** Stops re-checking credentials. */
  stop(): void;
}

export type ProtocolLimits = QueryLimits &
  Pick<RequestLimits, 'queryTokens' | 'responseBytes' | 'queryTimeoutMs' | 'wsInitTimeoutMs' | 'wsMaxSubscriptions' | 'wsCredentialRecheckMs' | 'wsMaxBufferedBytes'>;

export interface ProtocolOptions<C> {
  schema: GraphQLSchema;
  logger: Logger;
  /** the same limits as over HTTP: parser tokens, depth, cost, answer size and time… */
  limits: ProtocolLimits;
  /** the viewer a token belongs to, or null when it is unknown, expired or revoked */
  authenticate(token: string): Promise<Viewer | null>;
  /** null when the token may run one more operation now, else the seconds until it may (the HTTP rate limit's budget) */
  overBudget(token: string): Promise<number | null>;
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
  onOperation?: (operation: WebSocketOperation) => void;
  /** counts executions of subscription events, and the messages they were sent in */
  onEventExecuted?: () => void;
  onEventSent?: (count: number) => void;
}

/** An execution as monitoring sees it: how it ended and how long it took. */
export type WebSocketOperation = Omit<Execution, 'started'> & { outcome: 'ok' | 'client_error' | 'error'; seconds: number };

/** A parsed, valid document and the operation a subscribe message names in it. */
interface Prepared {
  document: DocumentNode;
  operation: OperationDefinitionNode;
}

/** An operation of one socket; a subscription's has its source stream once started, a query or mutation its guard. */
interface Operation {
  source?: AsyncIterator<unknown>;
  guard?: ExecutionGuard;
}

/** A subscription that has started: its group, how to execute its events, and where they come from. */
interface Subscription {
  /** the request id of its start, which a failure of its source stream is logged under */
  requestId: string;
  key: string;
  args: ExecutionArgs;
  operation: OperationDefinitionNode;
  source: AsyncIterableIterator<unknown>;
}

/** One execution: a query, a mutation, a subscription's start, or one event of a group. */
interface Execution {
  requestId: string;
  operationName: string;
  /** unknown for a request refused before its operation was identified */
  type: OperationTypeNode | 'unknown';
  started: number;
}

/** Who an error is formatted for: the request it belongs to, and whether it may see schema suggestions. */
interface Asker {
  requestId: string;
  suggestions: boolean;
}

/** What every connection shares. */
interface Shared {
  options: ProtocolOptions<unknown>;
  groups: SubscriptionGroups;
  credentials: CredentialWatch;
  documents: Map<string, DocumentNode>;
  /** `next` messages of events sent since monitoring was last told (once per tick: a labelled counter's inc is not free) */
  sent: number;
}

const isShareable = (source: AsyncIterator<unknown>): source is AsyncIterator<unknown> & ShareableSource =>
  typeof (source as Partial<ShareableSource>).share === 'function';

const credentialKey = (credential: RevokedCredential) => `${credential.kind}:${credential.id}`;

/** Turns an error into what a client may see; `fallback` is the code of request errors without one. */
function formatError(error: GraphQLError, fallback: string, asker: Asker, shared: Shared): GraphQLFormattedError {
  const original = error.originalError;
  const internal = original != null && !(original instanceof GraphQLError) && !error.extensions?.code;
  const code = String(error.extensions?.code ?? (internal ? 'INTERNAL_SERVER_ERROR' : fallback));
  const { requestId } = asker;
  const fault = faultOf(code, original ?? error);
  if (fault === 'unavailable') shared.options.onUnavailable?.(original ?? error);
  if (fault === 'internal') {
    shared.options.logger.error({ err: original ?? error, requestId }, 'internal error in a WebSocket operation');
    shared.options.onInternalError?.(original ?? error, requestId);
  }
  const message = asker.suggestions ? error.message : withoutSuggestions(error.message);
  return maskError({ ...error.toJSON(), message, extensions: { ...error.extensions, code } }, requestId, original);
}

/** Reports an execution to monitoring, with how its (masked) errors make it end. */
function recordRun(run: Execution, errors: readonly GraphQLFormattedError[] | undefined, shared: Shared): void {
  const ours = (e: GraphQLFormattedError) => e.extensions?.code === 'INTERNAL_SERVER_ERROR' || e.extensions?.code === 'SERVICE_UNAVAILABLE';
  const outcome = !errors?.length ? 'ok' : errors.some(ours) ? 'error' : 'client_error';
  const { started, ...execution } = run;
  shared.options.onOperation?.({ ...execution, outcome, seconds: (performance.now() - started) / 1000 });
}

/** An execution result as the JSON of a `next` payload, its errors masked; the execution is reported to monitoring. */
function payloadJson(result: ExecutionResult, run: Execution, suggestions: boolean, shared: Shared): string {
  const errors = result.errors?.map((e) => formatError(e, 'BAD_USER_INPUT', { requestId: run.requestId, suggestions }, shared));
  recordRun(run, errors, shared);
  return JSON.stringify(errors ? { ...result, errors } : result);
}

/** `execution`'s result, or only the guard's error once it stopped it (not one per field cut short). */
async function guardedExecution(guard: ExecutionGuard, execution: ExecutionResult | Promise<ExecutionResult>): Promise<ExecutionResult> {
  const result = await underGuard(guard, Promise.resolve(execution));
  return result instanceof GraphQLError ? { errors: [result] } : result;
}

/** Parses and validates `query` (both cached per query text, so equal subscriptions share one document). */
function documentFor(shared: Shared, query: string): DocumentNode | readonly GraphQLError[] {
  const cached = shared.documents.get(query);
  if (cached) return cached;
  let document: DocumentNode;
  try {
    document = parse(query, { maxTokens: shared.options.limits.queryTokens });
  } catch (error) {
    return [error instanceof GraphQLError ? error : new GraphQLError('Malformed query')];
  }
  const errors = validate(shared.options.schema, document);
  if (errors.length) return errors;
  if (query.length <= DOCUMENT_CACHE_MAX_QUERY) {
    if (shared.documents.size >= DOCUMENT_CACHE_SIZE) shared.documents.delete(shared.documents.keys().next().value!);
    shared.documents.set(query, document);
  }
  return document;
}

/** One socket: the protocol's state machine. */
class Connection implements ProtocolConnection {
  private viewer: Viewer | null = null;
  /** whether error messages may suggest schema names (only to those who may introspect) */
  private suggestions = false;
  /** the credential the socket signed in with: its rate-limit budget */
  private token: string | null = null;
  private initialised = false;
  /** operations running, by the client's id (which a client may reuse once one has ended) */
  private readonly operations = new Map<string, Operation>();
  private initTimer: NodeJS.Timeout | undefined;
  /** stops the credential watch of a signed-in socket */
  private unwatch: (() => void) | undefined;

  constructor(
    private readonly socket: ProtocolSocket,
    /** the session cookie of the upgrade request (the request itself is not kept) */
    private readonly cookieToken: string | null,
    private readonly shared: Shared,
  ) {
    this.initTimer = setTimeout(() => {
      if (!this.initialised) this.close(CloseCode.ConnectionInitialisationTimeout, 'Connection initialisation timeout');
    }, shared.options.limits.wsInitTimeoutMs);
  }

  /** Handles a message of the client; a failure of ours closes the socket (1013 while the database is unreachable, else 4500). */
  async message(data: string): Promise<void> {
    try {
      await this.receive(data);
    } catch (error) {
      const { options } = this.shared;
      if (faultOf(undefined, error) === 'unavailable') {
        options.onUnavailable?.(error);
        return this.close(UNAVAILABLE_CLOSE_CODE, 'Database unavailable: try again later');
      }
      const requestId = randomUUID();
      options.logger.error({ err: error, requestId }, 'internal error handling a WebSocket message');
      options.onInternalError?.(error, requestId);
      this.close(CloseCode.InternalServerError, 'Internal server error');
    }
  }

  private async receive(data: string): Promise<void> {
    let message;
    try {
      message = parseMessage(data);
    } catch {
      return this.close(CloseCode.BadRequest, 'Invalid message received');
    }
    switch (message.type) {
      case MessageType.ConnectionInit:
        return this.init(message.payload);
      case MessageType.Ping:
        return this.send(JSON.stringify(message.payload ? { type: MessageType.Pong, payload: message.payload } : { type: MessageType.Pong }));
      case MessageType.Pong:
        return;
      case MessageType.Subscribe:
        return this.subscribe(message.id, message.payload);
      case MessageType.Complete:
        return this.complete(message.id);
      default:
        return this.close(CloseCode.BadRequest, `Unexpected message of type ${message.type} received`);
    }
  }

  /** The socket is gone: every operation ends. */
  closed(): void {
    clearTimeout(this.initTimer);
    this.unwatch?.();
    const running = [...this.operations.values()];
    this.operations.clear();
    for (const operation of running) this.end(operation);
  }

  /** Ends an operation the client no longer waits for: its stream, or its execution. */
  private end(operation: Operation): void {
    void operation.source?.return?.();
    operation.guard?.abandon();
  }

  private async init(params: Record<string, unknown> | undefined): Promise<void> {
    if (this.initialised) return this.close(CloseCode.TooManyInitialisationRequests, 'Too many initialisation requests');
    this.initialised = true;
    clearTimeout(this.initTimer);
    this.initTimer = undefined;
    const authorization = typeof params?.authorization === 'string' ? params.authorization : null;
    const token = authorization ? bearerToken(authorization) : this.cookieToken;
    if (authorization && !token) return this.close(CloseCode.Forbidden, 'Forbidden');
    if (!token) return this.close(UNAUTHORIZED_CLOSE_CODE, 'Unauthorized: send connectionParams.authorization');
    const viewer = await this.shared.options.authenticate(token);
    // A credential that does not check out is refused, not silently anonymous.
    if (viewer === null) return this.close(CloseCode.Forbidden, 'Forbidden');
    if (!this.socket.open) return;
    this.viewer = viewer;
    this.suggestions = mayIntrospect(viewer, this.shared.options.limits);
    this.token = token;
    this.unwatch = this.shared.credentials.watch(this.socket, token, credentialKey({ kind: viewer.credentialKind, id: viewer.credentialId }));
    this.send(JSON.stringify({ type: MessageType.ConnectionAck }));
  }

  private async subscribe(id: string, payload: SubscribePayload): Promise<void> {
    if (!this.viewer) return this.close(CloseCode.Unauthorized, 'Unauthorized');
    if (this.operations.has(id)) return this.close(CloseCode.SubscriberAlreadyExists, `Subscriber for ${id} already exists`);
    const operation: Operation = {};
    this.operations.set(id, operation);
    let subscription: Subscription | undefined;
    try {
      subscription = await this.start(id, operation, payload);
    } finally {
      if (!subscription && this.running(id, operation)) this.operations.delete(id);
    }
    // Not awaited: a subscription ends itself (and removes its operation), so no promise or
    // suspended function per subscription is kept for its lifetime.
    if (subscription) this.follow(id, operation, subscription);
  }

  /**
   * Answers a query or mutation, or a subscription that cannot start; else the started
   * subscription. A function of its own, so the context it starts with is not kept for hours.
   */
  private async start(id: string, operation: Operation, payload: SubscribePayload): Promise<Subscription | undefined> {
    const refused = this.execution();
    const retryAfter = await this.shared.options.overBudget(this.token!);
    const prepared = retryAfter === null ? this.prepare(payload) : [rateLimited(retryAfter)];
    if (!('document' in prepared)) {
      const errors = prepared.map((e) => formatError(e, 'GRAPHQL_VALIDATION_FAILED', { requestId: refused.requestId, suggestions: this.suggestions }, this.shared));
      recordRun(refused, errors, this.shared);
      this.send(JSON.stringify({ id, type: MessageType.Error, payload: errors }));
      return;
    }
    const args: ExecutionArgs = {
      schema: this.shared.options.schema,
      document: prepared.document,
      operationName: payload.operationName,
      variableValues: payload.variables,
    };
    const run = this.execution(prepared.operation, payload.operationName);
    const contextValue = this.shared.options.createContext(this.viewer, run.requestId);
    if (prepared.operation.operation !== 'subscription') {
      operation.guard = new ExecutionGuard(this.shared.options.limits);
      const result = await guardedExecution(operation.guard, execute({ ...args, contextValue: guarded(contextValue as object, operation.guard) }));
      this.finish(id, operation, payloadJson(result, run, this.suggestions, this.shared));
      return;
    }
    const source = await createSourceEventStream({ ...args, contextValue });
    if (!(Symbol.asyncIterator in source)) {
      this.finish(id, operation, payloadJson(source, run, this.suggestions, this.shared));
      return;
    }
    const key = subscriptionKey(this.shared.options.audienceOf(this.viewer!), payload.query, payload.operationName, payload.variables);
    return { requestId: run.requestId, key, args, operation: prepared.operation, source: source as AsyncIterableIterator<unknown> };
  }

  /** A new execution with a request id of the server's own; without an operation, one refused before it was identified. */
  private execution(operation?: OperationDefinitionNode, operationName?: string | null): Execution {
    const started = performance.now();
    if (!operation) return { requestId: randomUUID(), operationName: 'anonymous', type: 'unknown', started };
    return { requestId: randomUUID(), operationName: operationName ?? operation.name?.value ?? 'anonymous', type: operation.operation, started };
  }

  /**
   * Sends each event of `source` to the client, in order, computed once per group of equal
   * subscriptions, until the subscription ends. Callbacks rather than an async loop:
   * per subscriber and event this is one promise (the source's), not five; and once the source
   * has caught up and can share (the event feed's streams can), none: the group's sink gets the
   * event once and calls `ready`, a frame write, for each member.
   */
  private follow(id: string, running: Operation, { requestId, key, args, operation, source }: Subscription): void {
    // Completed by the client (or the socket closed) while the stream was starting.
    if (!this.running(id, running)) return void source.return?.();
    running.source = source;
    const live = () => this.running(id, running);
    const { options, groups } = this.shared;
    const viewer = this.viewer!;
    const group = groups.join(key);
    const prefix = Buffer.from(`{"id":${JSON.stringify(id)},"type":"next","payload":`);
    let over = false;
    let sharing = false;
    const end = (message?: string) => {
      if (over) return;
      over = true;
      group.leave(member);
      if (live()) {
        if (message) this.send(message);
        this.operations.delete(id);
      }
    };
    const complete = () => end(JSON.stringify({ id, type: MessageType.Complete }));
    // The source stream itself failed: the subscription ends with an error.
    const fail = (error: unknown) => {
      const failure = error instanceof GraphQLError ? error : new GraphQLError(String((error as Error)?.message ?? error), { originalError: error as Error });
      end(JSON.stringify({ id, type: MessageType.Error, payload: [formatError(failure, 'INTERNAL_SERVER_ERROR', { requestId, suggestions: this.suggestions }, this.shared)] }));
      void source.return?.();
    };
    // Made once per subscription, not per event: at thousands of subscribers, allocations
    // per event are what the garbage collector pays for.
    const member: GroupMember = {
      ready: (payload) => {
        if (!live()) return end();
        this.sendNext(prefix, payload);
        if (!sharing) take();
      },
      failed: fail,
    };
    const compute = async (event: unknown) => {
      const run = this.execution(operation, args.operationName);
      // A shared execution: no subscriber's leaving stops it, but its size and time are limited.
      const guard = new ExecutionGuard(options.limits);
      const result = await guardedExecution(guard, execute({ ...args, rootValue: event, contextValue: guarded(options.createContext(viewer, run.requestId) as object, guard) }));
      options.onEventExecuted?.();
      return payloadJson(result, run, this.suggestions, this.shared);
    };
    const next = (event: IteratorResult<unknown>) => {
      try {
        if (event.done || !live()) return complete();
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

  /** The document and operation of a subscribe message, or the errors that refuse it. */
  private prepare(payload: SubscribePayload): Prepared | readonly GraphQLError[] {
    const { options } = this.shared;
    const max = options.limits.wsMaxSubscriptions;
    if (this.operations.size > max) {
      return [new GraphQLError(`At most ${max} operations per connection (WS_MAX_SUBSCRIPTIONS)`, { extensions: { code: 'RATE_LIMITED' } })];
    }
    // PostgreSQL cannot store NUL, and its driver's refusal would look like an internal error.
    const nul = nulRefusal(JSON.stringify(payload));
    if (nul) return [nul];
    const document = documentFor(this.shared, payload.query);
    if (!('kind' in document)) return document;
    const operation = getOperationAST(document, payload.operationName);
    if (!operation) return [new GraphQLError('Unable to identify operation')];
    const refused = malformedText(payload.variables) ?? checkQueryLimits({ schema: options.schema, document, operation, variables: payload.variables ?? undefined, viewer: this.viewer }, options.limits);
    return refused ? [refused] : { document, operation };
  }

  /** The single result of a query, a mutation or a subscription that could not start. */
  private finish(id: string, operation: Operation, json: string): void {
    if (!this.running(id, operation)) return;
    this.send(`{"id":${JSON.stringify(id)},"type":"next","payload":${json}}`);
    this.send(JSON.stringify({ id, type: MessageType.Complete }));
  }

  private complete(id: string): void {
    const operation = this.operations.get(id);
    this.operations.delete(id);
    if (operation) this.end(operation);
  }

  /** Whether `operation` is still the one running under `id` (not ended, not replaced). */
  private running(id: string, operation: Operation): boolean {
    return this.operations.get(id) === operation;
  }

  private send(data: string): void {
    if (!this.socket.open) return;
    this.socket.send(data);
    this.cutOffIfBehind();
  }

  /** A subscription's `next` message: its `prefix` and an event's payload, shared by the group. */
  private sendNext(prefix: Buffer, payload: Buffer): void {
    if (!this.socket.open) return;
    this.socket.sendJoined(prefix, payload);
    if (this.shared.sent++ === 0) {
      queueMicrotask(() => {
        this.shared.options.onEventSent?.(this.shared.sent);
        this.shared.sent = 0;
      });
    }
    this.cutOffIfBehind();
  }

  private cutOffIfBehind(): void {
    if (this.socket.bufferedAmount > this.shared.options.limits.wsMaxBufferedBytes) {
      this.shared.options.logger.warn({ bufferedBytes: this.socket.bufferedAmount }, 'cut off a WebSocket client that stopped reading');
      // No close handshake: the client is not reading, and its buffers go at once.
      this.socket.terminate();
    }
  }

  close(code: number, reason: string): void {
    this.socket.close(code, reason);
  }
}

export function createProtocol<C>(options: ProtocolOptions<C>): Protocol {
  const shared: Shared = {
    options: options as ProtocolOptions<unknown>,
    groups: options.groups,
    credentials: watchCredentials({ intervalMs: options.limits.wsCredentialRecheckMs, authenticate: options.authenticate, logger: options.logger }),
    documents: new Map(),
    sent: 0,
  };
  return {
    opened: (socket, cookieToken) => new Connection(socket, cookieToken, shared),
    credentialRevoked: (credential) => shared.credentials.revoked(credentialKey(credential)),
    stop: () => shared.credentials.stop(),
  };
}

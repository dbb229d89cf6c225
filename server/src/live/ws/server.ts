/**
 * GraphQL over WebSocket at `/graphql` on the same HTTP server as everything else, speaking
 * graphql-ws's protocol (`graphql-transport-ws`, its message codec and close codes).
 *
 * The server loop is our own rather than graphql-ws's `useServer`, because that one executes
 * and serializes every event once per subscriber. Here equal subscriptions share one execution
 * and one serialization per event (see groups.ts), and an idle subscription holds
 * little more than its source stream.
 *
 * - Who: `connectionParams.authorization` ("Bearer <token>") or the session cookie of the
 *   upgrade request. No credential at all closes the socket with 4401, one that does not
 *   check out with 4403, and so does one revoked or expired while the socket is open
 *   (re-checked every `WS_CREDENTIAL_RECHECK_MS`).
 * - Limits: connection_init within `WS_INIT_TIMEOUT_MS` (else 4408), messages up to
 *   `MAX_BODY_BYTES` (else 1009), `WS_MAX_SUBSCRIPTIONS` operations at once, and the HTTP
 *   query limits and rate limit (the token's budget) on every operation.
 * - Contexts: a subscription lives for hours, so each execution gets a fresh context (forked
 *   entity manager, fresh DataLoaders): payloads never read stale cached rows.
 * - Errors: masked exactly like HTTP's (`maskError`); a bad query gets an error message, never
 *   a closed socket.
 * - Slow clients: a socket whose unsent messages pass `WS_MAX_BUFFERED_BYTES` (a client that
 *   stopped reading) is cut off rather than buffered without end; it reconnects and resumes
 *   with `after`.
 * - Liveness: every socket is pinged every `WS_KEEPALIVE_MS` and cut off when the previous ping
 *   got no pong (a peer gone without closing would otherwise hold its subscriptions forever).
 * - Shutdown: `stop()` closes every socket with 1012 (Service Restart), which graphql-ws
 *   clients treat as "reconnect" — through the load balancer, to another replica.
 * - Database outage: a socket that cannot sign in because the database is unreachable is
 *   closed with 1013 (Try Again Later), which graphql-ws clients retry; operations get
 *   SERVICE_UNAVAILABLE. Neither is logged per socket (`onUnavailable`: the outage, once).
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
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
import { CloseCode, GRAPHQL_TRANSPORT_WS_PROTOCOL, handleProtocols, MessageType, parseMessage, type SubscribePayload } from 'graphql-ws';
import { WebSocket, WebSocketServer } from 'ws';
import { bearerToken, type AudienceOf, type Viewer } from '../../core/viewer.js';
import { faultOf, maskError, nulRefusal, rateLimited, withoutSuggestions } from '../../core/errors.js';
import { ExecutionGuard, guarded, underGuard } from '../../graphql/execution-limits.js';
import { cookie } from '../../http/replies.js';
import type { LiveConnections } from './connections.js';
import type { Logger } from '../../core/logger.js';
import type { RevokedCredential } from '../bus/bus.js';
import { checkQueryLimits, mayIntrospect, type QueryLimits } from '../../graphql/query-limits.js';
import { watchCredentials, type CredentialWatch } from './credentials.js';
import { subscriptionKey, type GroupMember, type ShareableSource, type SubscriptionGroups } from './groups.js';
import { malformedText } from '../../core/text.js';
import type { RequestLimits } from '../../core/limits.js';

/** Sent to every open socket on shutdown: reconnect (elsewhere). */
export const SHUTDOWN_CLOSE_CODE = 1012;
/** Try Again Later: the database is unreachable; graphql-ws clients retry this one (4500 they give up on). */
export const UNAVAILABLE_CLOSE_CODE = 1013;
export const UNAUTHORIZED_CLOSE_CODE = 4401;
const CLOSE_GRACE_MS = 1_500;
/** Parsed and validated documents kept for reuse (and shared by the subscriptions using them). */
const DOCUMENT_CACHE_SIZE = 200;
const DOCUMENT_CACHE_MAX_QUERY = 16_384;

export interface SubscriptionServerOptions<C> {
  server: Server;
  schema: GraphQLSchema;
  logger: Logger;
  /** the same limits as over HTTP: message size, parser tokens, depth, cost… */
  limits: QueryLimits & Pick<RequestLimits, 'bodyBytes' | 'queryTokens' | 'responseBytes' | 'queryTimeoutMs' | 'wsInitTimeoutMs' | 'wsMaxSubscriptions' | 'wsCredentialRecheckMs' | 'wsKeepaliveMs' | 'wsMaxBufferedBytes'>;
  /** counts open sockets (the `ws_connections` metric) */
  connections: LiveConnections;
  /** name of the session cookie accepted when no authorization is in connectionParams */
  sessionCookie: string;
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

export interface SubscriptionServer {
  /** Closes (4403) every socket signed in with a credential that was just revoked. */
  credentialRevoked(credential: RevokedCredential): void;
  /** Refuses new sockets, closes open ones with 1012 and waits (briefly) until they are gone. */
  stop(): Promise<void>;
}

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
  options: SubscriptionServerOptions<unknown>;
  groups: SubscriptionGroups;
  credentials: CredentialWatch;
  documents: Map<string, DocumentNode>;
  /** `next` messages of events sent since monitoring was last told (once per tick: a labelled counter's inc is not free) */
  sent: number;
}

const CLOSE_BRACE = 0x7d;

/**
 * `prefix`, `payload` and `}` as one final, unmasked, uncompressed text frame (RFC 6455 §5.2):
 * the bytes `ws` would send for their concatenation, in one allocation and one write, without
 * ws's per-message option objects, separate header buffer and two-chunk writev. Sound because
 * the server negotiates no extension (`perMessageDeflate: false`), so ws's sender, which is
 * only ever busy while compressing, writes whole frames straight to the socket as well.
 */
function textFrame(prefix: Buffer, payload: Buffer): Buffer {
  const length = prefix.length + payload.length + 1;
  const header = length < 126 ? 2 : length < 65_536 ? 4 : 10;
  const frame = Buffer.allocUnsafe(header + length);
  frame[0] = 0x81; // FIN, text
  if (header === 2) frame[1] = length;
  else if (header === 4) {
    frame[1] = 126;
    frame.writeUInt16BE(length, 2);
  } else {
    frame[1] = 127;
    frame.writeBigUInt64BE(BigInt(length), 2);
  }
  prefix.copy(frame, header);
  payload.copy(frame, header + prefix.length);
  frame[header + length - 1] = CLOSE_BRACE;
  return frame;
}

/** ws keeps the TCP socket it writes to in `_socket` (not in its types). */
const tcpSocket = (socket: WebSocket) => (socket as WebSocket & { _socket: Duplex })._socket;

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
class Connection {
  private viewer: Viewer | null = null;
  /** whether error messages may suggest schema names (only to those who may introspect) */
  private suggestions = false;
  /** the credential the socket signed in with: its rate-limit budget */
  private token: string | null = null;
  private initialised = false;
  /** operations running, by the client's id (which a client may reuse once one has ended) */
  private readonly operations = new Map<string, Operation>();
  private initTimer: NodeJS.Timeout | undefined;
  /** false from a ping until its pong */
  answered = true;

  constructor(
    readonly socket: WebSocket,
    /** the session cookie of the upgrade request (the request itself is not kept) */
    private readonly cookieToken: string | null,
    private readonly shared: Shared,
  ) {
    this.initTimer = setTimeout(() => {
      if (!this.initialised) this.close(CloseCode.ConnectionInitialisationTimeout, 'Connection initialisation timeout');
    }, shared.options.limits.wsInitTimeoutMs);
  }

  async receive(data: string): Promise<void> {
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
    if (this.socket.readyState !== WebSocket.OPEN) return;
    this.viewer = viewer;
    this.suggestions = mayIntrospect(viewer, this.shared.options.limits);
    this.token = token;
    this.shared.credentials.watch(this.socket, token, credentialKey({ kind: viewer.credentialKind, id: viewer.credentialId }));
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
    if (this.socket.readyState !== WebSocket.OPEN) return;
    this.socket.send(data);
    this.cutOffIfBehind();
  }

  /** A subscription's `next` message: its `prefix` and an event's payload, shared by the group. */
  private sendNext(prefix: Buffer, payload: Buffer): void {
    if (this.socket.readyState !== WebSocket.OPEN) return;
    tcpSocket(this.socket).write(textFrame(prefix, payload));
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

export function startSubscriptionServer<C>(options: SubscriptionServerOptions<C>): SubscriptionServer {
  const { logger } = options;
  let closing = false;
  // noServer: the upgrade listener is ours, so nothing thrown while upgrading escapes it.
  const wss = new WebSocketServer({
    noServer: true,
    path: '/graphql',
    maxPayload: options.limits.bodyBytes,
    // No extension: `next` frames are written straight to the socket (textFrame).
    perMessageDeflate: false,
    handleProtocols,
    // Draining: sockets still open on keep-alive connections must not upgrade any more.
    verifyClient: () => !closing,
  });
  const shared: Shared = {
    options: options as SubscriptionServerOptions<unknown>,
    groups: options.groups,
    credentials: watchCredentials({ intervalMs: options.limits.wsCredentialRecheckMs, authenticate: options.authenticate, logger }),
    documents: new Map(),
    sent: 0,
  };
  const connections = new Set<Connection>();

  const accept = (socket: WebSocket, request: IncomingMessage) => {
    socket.once('close', options.connections.opened());
    if (socket.protocol !== GRAPHQL_TRANSPORT_WS_PROTOCOL) return socket.close(CloseCode.SubprotocolNotAcceptable, 'Subprotocol not acceptable');
    const connection = new Connection(socket, cookie(request, options.sessionCookie), shared);
    connections.add(connection);
    socket.on('pong', () => (connection.answered = true));
    socket.on('message', (data) => {
      connection.receive(String(data)).catch((error) => {
        if (faultOf(undefined, error) === 'unavailable') {
          options.onUnavailable?.(error);
          return connection.close(UNAVAILABLE_CLOSE_CODE, 'Database unavailable: try again later');
        }
        const requestId = randomUUID();
        logger.error({ err: error, requestId }, 'internal error handling a WebSocket message');
        options.onInternalError?.(error, requestId);
        connection.close(CloseCode.InternalServerError, 'Internal server error');
      });
    });
    socket.on('error', (error) => logger.warn({ err: error }, 'WebSocket error'));
    socket.once('close', () => {
      connections.delete(connection);
      connection.closed();
    });
  };
  // An upgrade runs outside any request handler: an exception here would end the process.
  const upgrade = (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    try {
      wss.handleUpgrade(request, socket, head, (webSocket) => {
        try {
          accept(webSocket, request);
        } catch (error) {
          logger.error({ err: error }, 'internal error opening a WebSocket');
          options.onInternalError?.(error, '');
          webSocket.close(CloseCode.InternalServerError, 'Internal server error');
        }
      });
    } catch (error) {
      logger.error({ err: error }, 'internal error in a WebSocket upgrade');
      options.onInternalError?.(error, '');
      socket.destroy();
    }
  };
  options.server.on('upgrade', upgrade);

  const keepAlive = setInterval(() => {
    for (const connection of connections) {
      if (!connection.answered) {
        connection.socket.terminate();
        continue;
      }
      connection.answered = false;
      connection.socket.ping();
    }
  }, options.limits.wsKeepaliveMs);
  keepAlive.unref();

  return {
    credentialRevoked: (credential) => shared.credentials.revoked(credentialKey(credential)),
    async stop() {
      closing = true;
      clearInterval(keepAlive);
      shared.credentials.stop();
      const open = [...wss.clients];
      const gone = Promise.all(open.map((socket) => new Promise((resolve) => socket.once('close', resolve))));
      for (const socket of open) socket.close(SHUTDOWN_CLOSE_CODE, 'Server restarting: reconnect');
      // A client that does not answer the close handshake is cut off.
      const cutOff = setTimeout(() => open.forEach((socket) => socket.terminate()), CLOSE_GRACE_MS);
      await gone;
      clearTimeout(cutOff);
      options.server.off('upgrade', upgrade);
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}

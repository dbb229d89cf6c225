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
 * - Operations: parsed, limited, executed and shared by equal subscriptions as operations.ts
 *   does it for both live transports; a bad query gets an error message, never a closed socket.
 * - Slow clients: a socket whose unsent messages pass `WS_MAX_BUFFERED_BYTES` (a client that
 *   stopped reading) is cut off rather than buffered without end; it reconnects and resumes
 *   with `after`.
 * - Database outage: a socket that cannot sign in because the database is unreachable is
 *   closed with 1013 (Try Again Later), which graphql-ws clients retry; operations get
 *   SERVICE_UNAVAILABLE. Neither is logged per socket (`onUnavailable`: the outage, once).
 */
import { randomUUID } from 'node:crypto';
import { GraphQLError, type GraphQLFormattedError } from 'graphql';
import { CloseCode, MessageType, parseMessage, type SubscribePayload } from 'graphql-ws';
import { bearerToken, type Viewer } from '../../core/viewer.js';
import { faultOf, rateLimited } from '../../core/errors.js';
import type { RevokedCredential } from '../bus/bus.js';
import { credentialKey, watchCredentials, type CredentialWatch } from '../credentials.js';
import { endRunning, LiveOperations, type Asker, type LiveOperationsOptions, type OperationLimits, type Running, type Subscription } from '../operations.js';
import type { RequestLimits } from '../../core/limits.js';

/** Try Again Later: the database is unreachable; graphql-ws clients retry this one (4500 they give up on). */
export const UNAVAILABLE_CLOSE_CODE = 1013;
export const UNAUTHORIZED_CLOSE_CODE = 4401;

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

export type ProtocolLimits = OperationLimits & Pick<RequestLimits, 'wsInitTimeoutMs' | 'wsMaxSubscriptions' | 'wsCredentialRecheckMs' | 'wsMaxBufferedBytes'>;

/** What both live transports share (operations.ts), with the protocol's own limits, sign-in and budget. */
export interface ProtocolOptions<C> extends LiveOperationsOptions<C> {
  limits: ProtocolLimits;
  /** the viewer a token belongs to, or null when it is unknown, expired or revoked */
  authenticate(token: string): Promise<Viewer | null>;
  /** null when the token may run one more operation now, else the seconds until it may (the HTTP rate limit's budget) */
  overBudget(token: string): Promise<number | null>;
}

/** What every connection shares. */
interface Shared {
  options: ProtocolOptions<unknown>;
  operations: LiveOperations;
  credentials: CredentialWatch;
}

/** One socket: the protocol's state machine. */
class Connection implements ProtocolConnection {
  /** the signed-in viewer, once the socket is */
  private asker: Asker | null = null;
  /** the credential the socket signed in with: its rate-limit budget */
  private token: string | null = null;
  private initialised = false;
  /** operations running, by the client's id (which a client may reuse once one has ended) */
  private readonly operations = new Map<string, Running>();
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
    for (const operation of running) endRunning(operation);
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
    this.asker = this.shared.operations.asker(viewer);
    this.token = token;
    this.unwatch = this.shared.credentials.watch(this.socket, token, credentialKey({ kind: viewer.credentialKind, id: viewer.credentialId }));
    this.send(JSON.stringify({ type: MessageType.ConnectionAck }));
  }

  private async subscribe(id: string, payload: SubscribePayload): Promise<void> {
    if (!this.asker) return this.close(CloseCode.Unauthorized, 'Unauthorized');
    if (this.operations.has(id)) return this.close(CloseCode.SubscriberAlreadyExists, `Subscriber for ${id} already exists`);
    const operation: Running = {};
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

  /** Answers a query or mutation, or a subscription that cannot start; else the started subscription. */
  private async start(id: string, operation: Running, payload: SubscribePayload): Promise<Subscription | undefined> {
    const { options, operations } = this.shared;
    const asker = this.asker!;
    const retryAfter = await options.overBudget(this.token!);
    const max = options.limits.wsMaxSubscriptions;
    const prepared = retryAfter !== null
      ? [rateLimited(retryAfter)]
      : this.operations.size > max
        ? [new GraphQLError(`At most ${max} operations per connection (WS_MAX_SUBSCRIPTIONS)`, { extensions: { code: 'RATE_LIMITED' } })]
        : operations.prepare(payload, asker.viewer);
    if (!('document' in prepared)) {
      this.send(JSON.stringify({ id, type: MessageType.Error, payload: operations.refused(prepared, asker) }));
      return;
    }
    const started = await operations.start(prepared, payload, asker, operation);
    if (!('result' in started)) return started;
    if (!this.running(id, operation)) return;
    this.send(`{"id":${JSON.stringify(id)},"type":"next","payload":${started.result}}`);
    this.send(JSON.stringify({ id, type: MessageType.Complete }));
  }

  /** Sends each event of the subscription to the client as a `next` message (operations.ts follows it), until it ends. */
  private follow(id: string, running: Running, subscription: Subscription): void {
    // Completed by the client (or the socket closed) while the stream was starting.
    if (!this.running(id, running)) return void subscription.source.return?.();
    running.source = subscription.source;
    const prefix = Buffer.from(`{"id":${JSON.stringify(id)},"type":"next","payload":`);
    const live = () => this.running(id, running);
    this.shared.operations.follow(subscription, this.asker!, {
      live,
      next: (payload) => this.sendNext(prefix, payload),
      ended: (errors?: GraphQLFormattedError[]) => {
        if (!live()) return;
        this.send(JSON.stringify(errors ? { id, type: MessageType.Error, payload: errors } : { id, type: MessageType.Complete }));
        this.operations.delete(id);
      },
    });
  }

  private complete(id: string): void {
    const operation = this.operations.get(id);
    this.operations.delete(id);
    if (operation) endRunning(operation);
  }

  /** Whether `operation` is still the one running under `id` (not ended, not replaced). */
  private running(id: string, operation: Running): boolean {
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
    this.shared.operations.eventSent();
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
    operations: new LiveOperations(options as ProtocolOptions<unknown>, 'websocket'),
    credentials: watchCredentials({ intervalMs: options.limits.wsCredentialRecheckMs, authenticate: options.authenticate, logger: options.logger }),
  };
  return {
    opened: (socket, cookieToken) => new Connection(socket, cookieToken, shared),
    credentialRevoked: (credential) => shared.credentials.revoked(credentialKey(credential)),
    stop: () => shared.credentials.stop(),
  };
}

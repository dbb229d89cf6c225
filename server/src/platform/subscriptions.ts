/**
 * GraphQL over WebSocket (graphql-ws, protocol `graphql-transport-ws`) at `/graphql` on the
 * same HTTP server as everything else.
 *
 * - Who: `connectionParams.authorization` ("Bearer <token>") or the session cookie of the
 *   upgrade request. No credential at all closes the socket with 4401, one that does not
 *   check out with 4403, and so does one revoked or expired while the socket is open
 *   (re-checked every `WS_CREDENTIAL_RECHECK_MS`).
 * - Limits: connection_init within `WS_INIT_TIMEOUT_MS` (else 4408), messages up to
 *   `MAX_BODY_BYTES` (else 1009), `WS_MAX_SUBSCRIPTIONS` operations at once, and the HTTP
 *   query limits on every operation.
 * - Contexts: graphql-ws makes one context per operation, but a subscription lives for hours.
 *   Here each event of a subscription is executed with a fresh context (forked entity manager,
 *   fresh DataLoaders), so payloads never read stale cached rows and batching still applies.
 * - Errors: masked exactly like HTTP's (`maskError`); a bad query gets an error message, never
 *   a closed socket.
 * - Shutdown: `stop()` closes every socket with 1012 (Service Restart), which graphql-ws
 *   clients treat as "reconnect" — through the load balancer, to another replica.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, Server } from 'node:http';
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
  type GraphQLSchema,
} from 'graphql';
import type { Context as ConnectionContext } from 'graphql-ws';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer } from 'ws';
import { bearerToken, type Viewer } from './auth.js';
import { CLIENT_ERROR_CODES, maskError } from './errors.js';
import { cookie } from './http.js';
import type { LiveConnections } from './live-connections.js';
import { checkQueryLimits, type QueryLimits } from './query-limits.js';
import type { Logger } from './logger.js';
import { watchCredentials } from './socket-credentials.js';
import type { RequestLimits } from '../config.js';

/** Sent to every open socket on shutdown: reconnect (elsewhere). */
export const SHUTDOWN_CLOSE_CODE = 1012;
export const UNAUTHORIZED_CLOSE_CODE = 4401;
const CLOSE_GRACE_MS = 1_500;

export interface SubscriptionServerOptions<C> {
  server: Server;
  schema: GraphQLSchema;
  logger: Logger;
  /** the same limits as over HTTP: message size, parser tokens, depth, cost… */
  limits: QueryLimits & Pick<RequestLimits, 'bodyBytes' | 'queryTokens' | 'wsInitTimeoutMs' | 'wsMaxSubscriptions' | 'wsCredentialRecheckMs'>;
  /** counts open sockets (the `ws_connections` metric) */
  connections: LiveConnections;
  /** name of the session cookie accepted when no authorization is in connectionParams */
  sessionCookie: string;
  /** the viewer a token belongs to, or null when it is unknown, expired or revoked */
  authenticate(token: string): Promise<Viewer | null>;
  /** a fresh execution context; called per query/mutation and per subscription event */
  createContext(viewer: Viewer | null, requestId: string): C;
  /** called with every error that is not the client's fault (error tracking) */
  onInternalError?: (error: unknown, requestId: string) => void;
}

export interface SubscriptionServer {
  /** Refuses new sockets, closes open ones with 1012 and waits (briefly) until they are gone. */
  stop(): Promise<void>;
}

type Extra = { request: IncomingMessage; viewer?: Viewer | null };

/** Turns an error into what a client may see; `fallback` is the code of request errors. */
function formatError(error: GraphQLError, fallback: string, requestId: string, logger: Logger, onInternalError?: (error: unknown, requestId: string) => void) {
  const original = error.originalError;
  const internal = original !== undefined && !(original instanceof GraphQLError) && !error.extensions?.code;
  const code = String(error.extensions?.code ?? (internal ? 'INTERNAL_SERVER_ERROR' : fallback));
  if (!CLIENT_ERROR_CODES.has(code)) {
    logger.error({ err: original ?? error, requestId }, 'internal error in a WebSocket operation');
    onInternalError?.(original ?? error, requestId);
  }
  return maskError({ ...error.toJSON(), extensions: { ...error.extensions, code } }, requestId);
}

/**
 * Like graphql-js `subscribe`, except that each event is executed with a context from
 * `contextFor()`. `return()` is forwarded to the source stream at once, even mid-wait.
 */
async function subscribeWithFreshContexts(
  args: ExecutionArgs,
  contextFor: () => unknown,
): Promise<AsyncIterableIterator<ExecutionResult> | ExecutionResult> {
  const source = await createSourceEventStream(args);
  if (!(Symbol.asyncIterator in source)) return source;
  const events = source as AsyncGenerator<unknown>;
  const mapped: AsyncIterableIterator<ExecutionResult> = {
    async next() {
      const event = await events.next();
      if (event.done) return event;
      return { value: await execute({ ...args, rootValue: event.value, contextValue: contextFor() }), done: false };
    },
    return: () => events.return(undefined) as Promise<IteratorResult<ExecutionResult>>,
    throw: (error) => events.throw(error) as Promise<IteratorResult<ExecutionResult>>,
    [Symbol.asyncIterator]: () => mapped,
  };
  return mapped;
}

export function startSubscriptionServer<C>(options: SubscriptionServerOptions<C>): SubscriptionServer {
  const { schema, logger } = options;
  let closing = false;
  const wss = new WebSocketServer({
    server: options.server,
    path: '/graphql',
    maxPayload: options.limits.bodyBytes,
    // Draining: sockets still open on keep-alive connections must not upgrade any more.
    verifyClient: () => !closing,
  });
  wss.on('connection', (socket) => socket.once('close', options.connections.opened()));
  const credentials = watchCredentials({ intervalMs: options.limits.wsCredentialRecheckMs, authenticate: options.authenticate, logger });
  // The context inputs of each operation, so every event can get a fresh context.
  const contextInputs = new WeakMap<object, { viewer: Viewer | null; requestId: string }>();

  const disposable = useServer<Record<string, unknown> | undefined, Extra>(
    {
      schema,
      connectionInitWaitTimeout: options.limits.wsInitTimeoutMs,
      async onConnect(ctx) {
        const params = ctx.connectionParams ?? {};
        const authorization = typeof params.authorization === 'string' ? params.authorization : null;
        const token = authorization ? bearerToken(authorization) : cookie(ctx.extra.request, options.sessionCookie);
        if (authorization && !token) return false;
        if (!token) {
          ctx.extra.socket.close(UNAUTHORIZED_CLOSE_CODE, 'Unauthorized: send connectionParams.authorization');
          return false;
        }
        ctx.extra.viewer = await options.authenticate(token);
        // A credential that does not check out is refused (4403), not silently anonymous.
        if (ctx.extra.viewer === null) return false;
        credentials.watch(ctx.extra.socket, token);
        return true;
      },
      onSubscribe(ctx: ConnectionContext<Record<string, unknown> | undefined, Extra>, _id, payload) {
        const max = options.limits.wsMaxSubscriptions;
        if (Object.keys(ctx.subscriptions).length > max) {
          return [new GraphQLError(`At most ${max} operations per connection (WS_MAX_SUBSCRIPTIONS)`, { extensions: { code: 'RATE_LIMITED' } })];
        }
        let document: DocumentNode;
        try {
          document = parse(payload.query, { maxTokens: options.limits.queryTokens });
        } catch (error) {
          return [error instanceof GraphQLError ? error : new GraphQLError('Malformed query')];
        }
        const errors = validate(schema, document);
        if (errors.length) return errors;
        const viewer = ctx.extra.viewer ?? null;
        const operation = getOperationAST(document, payload.operationName);
        const tooMuch = operation && checkQueryLimits({ schema, document, operation, variables: payload.variables ?? undefined, viewer }, options.limits);
        if (tooMuch) return [tooMuch];
        const inputs = { viewer, requestId: randomUUID() };
        const contextValue = options.createContext(inputs.viewer, inputs.requestId) as object;
        contextInputs.set(contextValue, inputs);
        return { schema, document, operationName: payload.operationName, variableValues: payload.variables, contextValue };
      },
      subscribe(args) {
        const inputs = contextInputs.get(args.contextValue as object)!;
        return subscribeWithFreshContexts(args, () => options.createContext(inputs.viewer, inputs.requestId));
      },
      onNext(_ctx, _id, _payload, args, result) {
        if (!result.errors?.length) return;
        const requestId = contextInputs.get(args.contextValue as object)?.requestId ?? '';
        return { ...result, errors: result.errors.map((e) => formatError(e, 'BAD_USER_INPUT', requestId, logger, options.onInternalError)) };
      },
      onError(_ctx, _id, _payload, errors) {
        return errors.map((e) => formatError(e, 'GRAPHQL_VALIDATION_FAILED', '', logger, options.onInternalError));
      },
    },
    wss,
  );

  return {
    async stop() {
      closing = true;
      credentials.stop();
      const open = [...wss.clients];
      const gone = Promise.all(open.map((socket) => new Promise((resolve) => socket.once('close', resolve))));
      for (const socket of open) socket.close(SHUTDOWN_CLOSE_CODE, 'Server restarting: reconnect');
      // A client that does not answer the close handshake is cut off.
      const cutOff = setTimeout(() => open.forEach((socket) => socket.terminate()), CLOSE_GRACE_MS);
      await gone;
      clearTimeout(cutOff);
      await disposable.dispose();
    },
  };
}

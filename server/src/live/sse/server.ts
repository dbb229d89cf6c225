/**
 * GraphQL over Server-Sent Events at `/graphql/stream`: the graphql-sse protocol in its
 * "distinct connections" mode (one request, one operation, one stream), for integrations that
 * cannot hold a WebSocket. Messages are graphql-sse's (`print`): `event: next` with an
 * execution result, then `event: complete`. The loop is our own, not graphql-sse's
 * `createHandler`, for the same reason as the WebSocket one: that one executes and serializes
 * every event once per subscriber, buffers without bound for a reader that stopped, and cannot
 * answer a bad request with our error codes. Operations run as on the WebSocket (operations.ts):
 * same limits, same errors, equal subscriptions of one audience share one execution per event.
 *
 * - Who: the caller (start.ts) admits the request exactly as a GraphQL-over-HTTP one (bearer
 *   token or session cookie, 401 otherwise, the token's rate budget spent once per stream).
 * - Requests: POST with a JSON body (`query`, `operationName`, `variables`), or GET with them
 *   in the query string; `Accept: text/event-stream`. Bad requests, and operations refused
 *   before they run (syntax, validation, unknown operation, limits, a subscription that cannot
 *   start), are answered with a 4xx and GraphQL errors, not a stream. Queries and mutations
 *   are answered on a stream too (one `next`, then `complete`); mutations over GET are 405.
 * - Not supported: the "single connection" mode (PUT a reservation, then operations on it):
 *   its reservation lives on one replica, and behind a round-robin load balancer the next
 *   request lands on another. PUT and DELETE are 405.
 * - Limits: `SSE_MAX_STREAMS` open streams per credential on one replica (429 beyond), the
 *   body and variables limits of HTTP, and per event the execution limits.
 * - Keep-alive: a comment line every `WS_KEEPALIVE_MS`, so proxies do not cut idle streams.
 * - Slow readers: a stream whose unsent bytes pass `WS_MAX_BUFFERED_BYTES` is cut off; the
 *   client reconnects and resumes with `after`.
 * - Revocation: sign-out or a revoked token ends its streams on every replica with an
 *   UNAUTHENTICATED error and `complete` (so the client does not reconnect with it), as do an
 *   expiry found by the re-check every `WS_CREDENTIAL_RECHECK_MS`.
 * - Shutdown: `stop()` ends every stream without `complete`, which graphql-sse clients take as
 *   "reconnect" — through the load balancer, to another replica.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { GraphQLError, type GraphQLFormattedError } from 'graphql';
import { print } from 'graphql-sse';
import { HTTP_STATUS_OF } from '../../core/errors.js';
import type { RequestLimits } from '../../core/limits.js';
import type { Viewer } from '../../core/viewer.js';
import { variablesTooLarge } from '../../http/graphql.js';
import { BodyTooLargeError, readBody, sendJson } from '../../http/replies.js';
import type { RevokedCredential } from '../bus/bus.js';
import type { LiveConnections } from '../connections.js';
import { credentialKey, watchCredentials } from '../credentials.js';
import { nameRequestSpan } from '../../core/tracing.js';
import { endRunning, LiveOperations, type LiveOperationsOptions, type OperationLimits, type OperationRequest, type Running } from '../operations.js';

export const STREAM_PATH = '/graphql/stream';

const KEEPALIVE = ':\n\n';
const COMPLETE = print({ event: 'complete', data: null });
const NEXT_PREFIX = Buffer.from('event: next\ndata: ');
const NEXT_SUFFIX = Buffer.from('\n\n');
/** A `next` message of errors only (graphql-sse's types want GraphQLError instances; the wire carries their JSON). */
const errorsEvent = (errors: GraphQLFormattedError[]) => print({ event: 'next', data: { errors } as never });

export type EventStreamLimits = OperationLimits &
  Pick<RequestLimits, 'bodyBytes' | 'variablesBytes' | 'sseMaxStreams' | 'wsKeepaliveMs' | 'wsMaxBufferedBytes' | 'wsCredentialRecheckMs'>;

export interface EventStreamOptions<C> extends LiveOperationsOptions<C> {
  limits: EventStreamLimits;
  /** the viewer a token belongs to, or null when it is unknown, expired or revoked (the re-check of open streams) */
  authenticate(token: string): Promise<Viewer | null>;
  /** counts open streams (the `sse_streams` metric) */
  connections: LiveConnections;
}

export interface EventStreams {
  /** Serves a request to `STREAM_PATH` of a viewer signed in with `token` (admitted by the caller). */
  serve(req: IncomingMessage, res: ServerResponse, viewer: Viewer, token: string): Promise<void>;
  /** Ends every stream opened with a credential that was just revoked. */
  credentialRevoked(credential: RevokedCredential): void;
  /** Ends every stream without `complete` (clients reconnect elsewhere) and refuses new ones. */
  stop(): void;
}

/** An open stream. */
interface Stream {
  res: ServerResponse;
  /** ends it with an error and `complete` (the credential watch's close) */
  close(code: number, reason: string): void;
}

/** A refusal before any stream: a status and GraphQL errors. */
class Refusal {
  constructor(
    readonly status: number,
    readonly errors: GraphQLFormattedError[],
    readonly headers: Record<string, string> = {},
  ) {}
}

const refusal = (status: number, code: string, message: string, headers?: Record<string, string>) => new Refusal(status, [{ message, extensions: { code } }], headers);

/** The HTTP status of a request refused by these errors: its first error's, 400 for validation and syntax. */
function statusOf(errors: readonly GraphQLFormattedError[]): number {
  const code = String(errors[0]?.extensions?.code ?? '');
  if (code === 'INTERNAL_SERVER_ERROR') return 500;
  if (code === 'SERVICE_UNAVAILABLE') return 503;
  return HTTP_STATUS_OF[code] ?? 400;
}

/** The operation a request asks for: from the query string (GET) or the JSON body (POST). */
async function requestOf(req: IncomingMessage, limits: EventStreamLimits): Promise<OperationRequest | Refusal> {
  let body: unknown;
  if (req.method === 'GET') {
    const params = new URL(req.url ?? '/', 'http://localhost').searchParams;
    body = { query: params.get('query') ?? undefined, operationName: params.get('operationName') ?? undefined };
    const variables = params.get('variables');
    if (variables !== null) {
      try {
        (body as { variables?: unknown }).variables = JSON.parse(variables);
      } catch {
        return refusal(400, 'BAD_REQUEST', '`variables` in the query string is not JSON');
      }
    }
  } else {
    if (!String(req.headers['content-type']).includes('application/json')) {
      return refusal(415, 'BAD_REQUEST', 'POST a JSON body (Content-Type: application/json)');
    }
    let raw: string;
    try {
      raw = await readBody(req, limits.bodyBytes);
    } catch (error) {
      if (error instanceof BodyTooLargeError) return refusal(413, 'PAYLOAD_TOO_LARGE', error.message);
      throw error;
    }
    try {
      body = JSON.parse(raw);
    } catch {
      return refusal(400, 'BAD_REQUEST', 'Malformed JSON body');
    }
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return refusal(400, 'BAD_REQUEST', 'The body must be a JSON object with `query`');
  const { query, operationName, variables } = body as Record<string, unknown>;
  if (query === undefined || query === null || query === '') return refusal(400, 'BAD_REQUEST', 'Missing `query`: the GraphQL document to run');
  if (typeof query !== 'string') return refusal(400, 'BAD_REQUEST', '`query` must be a string');
  if (operationName != null && typeof operationName !== 'string') return refusal(400, 'BAD_REQUEST', '`operationName` must be a string');
  if (variables != null && (typeof variables !== 'object' || Array.isArray(variables))) return refusal(400, 'BAD_REQUEST', '`variables` must be an object');
  const tooLarge = variablesTooLarge(body, limits.variablesBytes);
  if (tooLarge) return refusal(413, 'BAD_USER_INPUT', tooLarge);
  return { query, operationName: operationName as string | null | undefined, variables: variables as Record<string, unknown> | null | undefined };
}

export function createEventStreams<C>(options: EventStreamOptions<C>): EventStreams {
  const { limits, logger } = options;
  const operations = new LiveOperations(options, 'sse');
  const credentials = watchCredentials({ intervalMs: limits.wsCredentialRecheckMs, authenticate: options.authenticate, logger });
  const streams = new Set<Stream>();
  /** open streams per token on this replica */
  const perToken = new Map<string, number>();
  let stopped = false;

  /** Writes to a stream; one whose reader fell too far behind is cut off (it resumes with `after`). */
  const write = (res: ServerResponse, data: string | Buffer) => {
    if (res.destroyed || res.writableEnded) return;
    res.write(data);
    if (res.writableLength > limits.wsMaxBufferedBytes) {
      logger.warn({ bufferedBytes: res.writableLength }, 'cut off an event stream client that stopped reading');
      res.destroy();
    }
  };

  const keepAlive = setInterval(() => {
    for (const stream of streams) write(stream.res, KEEPALIVE);
  }, limits.wsKeepaliveMs);
  keepAlive.unref();

  const refuse = (res: ServerResponse, { status, errors, headers }: Refusal) => sendJson(res, status, { errors }, headers);

  const openStream = (res: ServerResponse) => {
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      // nginx: send each event as it comes, even where the location does not say so.
      'x-accel-buffering': 'no',
    });
    // Flushes the headers: the client knows the stream is open before the first event.
    res.write(KEEPALIVE);
  };

  const serve = async (req: IncomingMessage, res: ServerResponse, viewer: Viewer, token: string): Promise<void> => {
    // The stream's HTTP span (the operation's span is its child) is named after the route.
    nameRequestSpan(STREAM_PATH, req.method ?? 'GET');
    if (stopped) return refuse(res, refusal(503, 'SERVICE_UNAVAILABLE', 'Server restarting: reconnect', { 'retry-after': '1' }));
    if (req.method === 'PUT' || req.method === 'DELETE') {
      return refuse(res, refusal(405, 'BAD_REQUEST', "graphql-sse's single connection mode is not supported: use distinct connections (POST with Accept: text/event-stream)", { allow: 'GET, POST' }));
    }
    if (req.method !== 'GET' && req.method !== 'POST') return refuse(res, refusal(405, 'BAD_REQUEST', 'Use POST (or GET)', { allow: 'GET, POST' }));
    if (!String(req.headers.accept).includes('text/event-stream')) {
      return refuse(res, refusal(406, 'BAD_REQUEST', 'Send Accept: text/event-stream (GraphQL over HTTP is at /graphql)'));
    }
    const request = await requestOf(req, limits);
    if (request instanceof Refusal) return refuse(res, request);
    const max = limits.sseMaxStreams;
    if ((perToken.get(token) ?? 0) >= max) {
      return refuse(res, refusal(429, 'RATE_LIMITED', `At most ${max} open event streams per credential (SSE_MAX_STREAMS)`));
    }
    const asker = operations.asker(viewer);
    const prepared = operations.prepare(request, viewer);
    if (!('document' in prepared)) {
      const errors = operations.refused(prepared, asker, undefined, request.operationName);
      return refuse(res, new Refusal(statusOf(errors), errors));
    }
    // GraphQL over HTTP: GET must not change anything (a link or an <img> could send it).
    if (prepared.operation.operation === 'mutation' && req.method === 'GET') {
      const errors = operations.refused([new GraphQLError('Mutations over GET are refused: POST them', { extensions: { code: 'BAD_REQUEST' } })], asker, prepared, request.operationName);
      return refuse(res, new Refusal(405, errors, { allow: 'POST' }));
    }

    const running: Running = {};
    let closed = false;
    res.once('close', () => {
      closed = true;
      endRunning(running);
    });
    const started = await operations.start(prepared, request, asker, running);
    if ('result' in started) {
      if (closed) return;
      const result = JSON.parse(started.result) as { data?: unknown; errors?: GraphQLFormattedError[] };
      // Refused before it ran (a cursor that is not one, a workflow that is not yours…): a 4xx.
      if (result.errors?.length && result.data == null && prepared.operation.operation === 'subscription') return refuse(res, new Refusal(statusOf(result.errors), result.errors));
      openStream(res);
      res.write(`event: next\ndata: ${started.result}\n\n`);
      return void res.end(COMPLETE);
    }
    // The client hung up while the subscription started.
    if (closed || stopped) return void started.source.return?.();
    running.source = started.source;

    openStream(res);
    const stream: Stream = {
      res,
      close: (_code, reason) => {
        write(res, errorsEvent([{ message: `${reason}: sign in again`, extensions: { code: 'UNAUTHENTICATED' } }]));
        res.end(COMPLETE);
      },
    };
    streams.add(stream);
    perToken.set(token, (perToken.get(token) ?? 0) + 1);
    const unwatch = credentials.watch(stream, token, credentialKey({ kind: viewer.credentialKind, id: viewer.credentialId }));
    const opened = options.connections.opened();
    res.once('close', () => {
      streams.delete(stream);
      const left = (perToken.get(token) ?? 1) - 1;
      if (left > 0) perToken.set(token, left);
      else perToken.delete(token);
      unwatch();
      opened();
    });
    operations.follow(started, asker, {
      live: () => !closed,
      next: (payload) => {
        // One buffer, one write: the group's shared payload between the frame's two ends.
        write(res, Buffer.concat([NEXT_PREFIX, payload, NEXT_SUFFIX], NEXT_PREFIX.length + payload.length + NEXT_SUFFIX.length));
        operations.eventSent();
      },
      ended: (errors) => {
        if (closed) return;
        if (errors) write(res, errorsEvent(errors));
        res.end(COMPLETE);
      },
    });
  };

  return {
    serve,
    credentialRevoked: (credential) => credentials.revoked(credentialKey(credential)),
    stop() {
      stopped = true;
      clearInterval(keepAlive);
      credentials.stop();
      // No `complete`: the client reconnects (to another replica) and resumes with `after`.
      for (const stream of streams) stream.res.end();
    },
  };
}

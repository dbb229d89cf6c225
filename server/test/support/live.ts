/**
 * Real graphql-ws and graphql-sse clients for tests: connect with a token (or a cookie),
 * subscribe, and wait for what arrives — never for a fixed time.
 */
import { createClient, type Client } from 'graphql-ws';
import { createClient as createSseClient, NetworkError, type Client as SseClientOf } from 'graphql-sse';
import pg from 'pg';
import WebSocket from 'ws';
import { afterAll } from 'vitest';
import type { App } from '../../src/app/start.js';
import { idOf } from '../../src/core/ids.js';
import type { GraphQLResult } from './server.js';
import { waitFor } from './wait.js';

export interface LiveClient {
  client: Client;
  /** close events of the socket, in order */
  closed: Array<{ code: number; reason: string }>;
  subscribe<T = any>(query: string, variables?: Record<string, unknown>): LiveSubscription<T>;
  dispose(): Promise<void>;
}

export interface LiveSubscription<T> {
  /** every `data` received, in order */
  values: T[];
  /** every GraphQL error received (in `next` payloads or as the `error` message) */
  errors: Array<{ message: string; extensions?: { code?: string } }>;
  completed: boolean;
  /** Resolves with `values` once there are at least `count` of them. */
  take(count: number, timeoutMs?: number): Promise<T[]>;
  /** Resolves once the subscription has completed or errored. */
  done(timeoutMs?: number): Promise<void>;
  stop(): void;
}

export interface ConnectOptions {
  token?: string;
  /** sent as the upgrade request's Cookie header instead of a token */
  cookie?: string;
  connectionParams?: Record<string, unknown>;
  /** reconnect attempts after an abnormal close; default 0 */
  retryAttempts?: number;
}

/** `waitFor` with the check first, polled every 10 ms: for events that arrive within milliseconds. */
export function until(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  return waitFor(what, async () => check(), timeoutMs, 10).then(() => undefined);
}

/** What receives one subscription's results, as both clients call it. */
interface Sink<T> {
  next(result: GraphQLResult<T>): void;
  error(error: unknown): void;
  complete(): void;
}

/** A subscription that records what `start` hands its sink; `start` returns what stops it. */
function recorded<T>(start: (sink: Sink<T>) => () => void, errorsOf: (error: unknown) => Promise<LiveSubscription<T>['errors']>): LiveSubscription<T> {
  const subscription: LiveSubscription<T> = {
    values: [],
    errors: [],
    completed: false,
    take: (count, timeoutMs = 10_000) =>
      until(() => subscription.values.length >= count || subscription.completed, `${count} events`, timeoutMs).then(() => {
        if (subscription.values.length < count) throw new Error(`Subscription ended after ${subscription.values.length} of ${count} events: ${JSON.stringify(subscription.errors)}`);
        return subscription.values;
      }),
    done: (timeoutMs = 10_000) => until(() => subscription.completed, 'the subscription to end', timeoutMs),
    stop: () => unsubscribe(),
  };
  const unsubscribe = start({
    next: (result) => {
      if (result.data) subscription.values.push(result.data);
      if (result.errors) subscription.errors.push(...result.errors);
    },
    error: (error) => {
      void errorsOf(error).then((errors) => {
        subscription.errors.push(...errors);
        subscription.completed = true;
      });
    },
    complete: () => {
      subscription.completed = true;
    },
  });
  return subscription;
}

export function connect(httpUrl: string, options: ConnectOptions = {}): LiveClient {
  const closed: LiveClient['closed'] = [];
  const headers = options.cookie ? { cookie: options.cookie } : undefined;
  // graphql-ws constructs the socket itself; this subclass adds the Cookie header.
  class TestWebSocket extends WebSocket {
    constructor(address: string, protocols?: string | string[]) {
      super(address, protocols, { headers });
    }
  }
  const client = createClient({
    url: `${httpUrl.replace(/^http/, 'ws')}/graphql`,
    webSocketImpl: TestWebSocket,
    connectionParams: options.connectionParams ?? (options.token ? { authorization: `Bearer ${options.token}` } : undefined),
    retryAttempts: options.retryAttempts ?? 0,
    retryWait: () => new Promise((resolve) => setTimeout(resolve, 100)),
    shouldRetry: () => true,
    on: {
      closed: (event) => {
        const { code, reason } = event as { code: number; reason: string | Buffer };
        closed.push({ code, reason: String(reason) });
      },
    },
  });

  const subscribe = <T>(query: string, variables?: Record<string, unknown>) =>
    recorded<T>((sink) => client.subscribe<T>({ query, variables }, sink as never), async (error) => (Array.isArray(error) ? error : []));

  return { client, closed, subscribe, dispose: () => client.dispose() as Promise<void> };
}

export interface SseClient {
  client: SseClientOf;
  /** the refusals the server answered requests with (401, 429…), in order */
  refusals: Array<{ status: number; errors: Array<{ message: string; extensions?: { code?: string } }> }>;
  subscribe<T = any>(query: string, variables?: Record<string, unknown>): LiveSubscription<T>;
  dispose(): void;
}

export interface SseConnectOptions {
  token?: string;
  /** sent as the Cookie header instead of a token */
  cookie?: string;
  /** reconnect attempts after the stream breaks or a refusal; default 0 */
  retryAttempts?: number;
  /** more request headers (a traceparent) */
  headers?: Record<string, string>;
}

/** graphql-sse's own client, in distinct connections mode, against `/graphql/stream` of `httpUrl` (asked again on every reconnect). */
export function connectSse(httpUrl: string | (() => string), options: SseConnectOptions = {}): SseClient {
  const refusals: SseClient['refusals'] = [];
  const headers: Record<string, string> = { ...options.headers };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  if (options.cookie) headers.cookie = options.cookie;
  const client = createSseClient({
    url: () => `${typeof httpUrl === 'function' ? httpUrl() : httpUrl}/graphql/stream`,
    headers,
    retryAttempts: options.retryAttempts ?? 0,
    retry: () => new Promise((resolve) => setTimeout(resolve, 100)),
  });
  /** A refusal's GraphQL errors (and the refusal itself, in `refusals`); else the error as one. */
  const errorsOf = async (error: unknown) => {
    const response = error instanceof NetworkError ? (error.response as Response | undefined) : undefined;
    if (!response) return [{ message: String((error as Error)?.message ?? error) }];
    const errors = ((await response.json().catch(() => ({}))) as { errors?: SseClient['refusals'][number]['errors'] }).errors ?? [];
    refusals.push({ status: response.status, errors });
    return errors;
  };
  const subscribe = <T>(query: string, variables?: Record<string, unknown>) =>
    recorded<T>((sink) => client.subscribe<T>({ query, variables }, sink as never), errorsOf);
  return { client, refusals, subscribe, dispose: () => client.dispose() };
}

/** `open(server, token)`: a client signed in with `token`, disposed after the suite it is called in. */
export function clientsForSuite(): (server: { url: string }, token: string) => LiveClient {
  const clients: LiveClient[] = [];
  afterAll(() => Promise.all(clients.map((c) => c.dispose())));
  return (server, token) => {
    const client = connect(server.url, { token });
    clients.push(client);
    return client;
  };
}

export const WORKFLOW_EVENTS = `subscription ($workflowId: ID, $after: String) {
  workflowEvents(workflowId: $workflowId, after: $after) {
    cursor kind workflowId
    workflow { id name status owner { email } taskCounts { total succeeded } }
    task { id name status }
  }
}`;

export type WorkflowEventData = { workflowEvents: { cursor: string; kind: string; workflowId: string; workflow: any; task: any } };

/**
 * Subscribes to `workflowEvents` without a cursor and resolves once `app` follows the feed for
 * it: graphql-ws does not acknowledge a subscription, and events before that are not for it.
 */
export async function liveWorkflowEvents(app: App, client: Pick<LiveClient, 'subscribe'>, variables: Record<string, unknown> = {}) {
  const before = app.services.feed.streamCount();
  const subscription = client.subscribe<WorkflowEventData>(WORKFLOW_EVENTS, variables);
  await until(() => app.services.feed.streamCount() > before, 'the subscription to start');
  return subscription;
}

export interface RawSocket {
  socket: WebSocket;
  closed: Promise<{ code: number; reason: string }>;
}

/** A bare socket speaking graphql-transport-ws, for what a well-behaved client never sends. */
export function rawSocket(httpUrl: string, protocols = ['graphql-transport-ws'], options: WebSocket.ClientOptions = {}): Promise<RawSocket> {
  const socket = new WebSocket(`${httpUrl.replace(/^http/, 'ws')}/graphql`, protocols, options);
  const closed = new Promise<{ code: number; reason: string }>((resolve) => socket.once('close', (code, reason) => resolve({ code, reason: String(reason) })));
  return new Promise((resolve, reject) => {
    socket.once('open', () => resolve({ socket, closed }));
    socket.once('error', reject);
  });
}

/** A raw socket signed in with `token`, and every message it receives, parsed. */
export async function signedInSocket(httpUrl: string, token: string): Promise<RawSocket & { received: Array<Record<string, any>> }> {
  const raw = await rawSocket(httpUrl);
  const received: Array<Record<string, any>> = [];
  raw.socket.on('message', (data) => received.push(JSON.parse(String(data))));
  raw.socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } }));
  await until(() => received.some((m) => m.type === 'connection_ack'), 'the connection to be acknowledged');
  return { ...raw, received };
}

/** The cursors of the workflow events of `ownerId`'s workflows after `cursor`, from the table: what a resumed subscription must get. */
export async function workflowCursorsAfter(server: { database: { url: string } }, ownerId: string, cursor: string): Promise<string[]> {
  const db = new pg.Client({ connectionString: server.database.url });
  await db.connect();
  try {
    const { rows } = await db.query("select 'workflow:' || id as cursor from events where topic = 'workflow' and owner_id = $1 and id > $2 order by id", [
      idOf('User', ownerId),
      cursor.replace(/^workflow:/, ''),
    ]);
    return rows.map((row) => row.cursor as string);
  } finally {
    await db.end();
  }
}

/**
 * GraphQL over HTTP (requests) and over WebSocket (subscriptions, graphql-transport-ws) to one
 * Workflow Factory server, typed by the codegen'd documents in ./generated.
 */
import type { DocumentTypeDecoration } from '@graphql-typed-document-node/core';
import { createClient, type Client, type ClientOptions } from 'graphql-ws';
import WebSocket from 'ws';

/** A typed operation: the generated `…Document` constants. */
export type Operation<TResult, TVariables> = DocumentTypeDecoration<TResult, TVariables> & { toString(): string };

/**
 * An error the server answered (extensions.code: BAD_USER_INPUT, NOT_FOUND, CONFLICT, FORBIDDEN,
 * UNAUTHENTICATED, RATE_LIMITED, SERVICE_UNAVAILABLE…), or a transport failure (code NETWORK).
 */
export class WorkflowFactoryError extends Error {
  override name = 'WorkflowFactoryError';
  constructor(
    message: string,
    readonly code: string,
    /** the input field a BAD_USER_INPUT names, if any */
    readonly field?: string,
    /** seconds the server asked to wait (RATE_LIMITED, SERVICE_UNAVAILABLE) */
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
  }

  /** Worth trying again later: the server or the network was unavailable, or asked to slow down. */
  get transient(): boolean {
    return TRANSIENT_CODES.has(this.code);
  }
}

const TRANSIENT_CODES = new Set(['NETWORK', 'SERVICE_UNAVAILABLE', 'RATE_LIMITED', 'INTERNAL_SERVER_ERROR', 'HTTP_ERROR']);

export interface Connection {
  /** the GraphQL endpoint over HTTP, e.g. http://localhost:4000/graphql */
  url: string;
  /** an API token or session token */
  token: string;
}

/** The WebSocket endpoint for an HTTP GraphQL endpoint: same host and path, ws(s) scheme. */
export function webSocketUrl(httpUrl: string): string {
  const url = new URL(httpUrl);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`url must be http(s)://…/graphql, not ${httpUrl}`);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  return url.toString();
}

interface GraphQLResponse<T> {
  data?: T | null;
  errors?: Array<{ message: string; extensions?: { code?: string; field?: string; retryAfter?: number } }>;
}

/** One request; the first GraphQL error (or an HTTP or network failure) is thrown as WorkflowFactoryError. */
export async function request<TResult, TVariables>(
  connection: Connection,
  operation: Operation<TResult, TVariables>,
  variables: TVariables,
  signal?: AbortSignal,
  /** sent as they are (the worker's `traceparent`) */
  headers?: Record<string, string>,
): Promise<TResult> {
  let response: Response;
  try {
    response = await fetch(connection.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/graphql-response+json, application/json',
        ...(connection.token ? { authorization: `Bearer ${connection.token}` } : {}),
        ...headers,
      },
      body: JSON.stringify({ query: operation.toString(), variables }),
      signal,
    });
  } catch (error) {
    if (signal?.aborted) throw error;
    throw new WorkflowFactoryError(`cannot reach ${connection.url}: ${causeOf(error)}`, 'NETWORK');
  }
  const retryAfter = Number(response.headers.get('retry-after')) || undefined;
  let body: GraphQLResponse<TResult>;
  try {
    body = (await response.json()) as GraphQLResponse<TResult>;
  } catch {
    throw new WorkflowFactoryError(`${connection.url} answered HTTP ${response.status} without a GraphQL response`, response.status >= 500 ? 'HTTP_ERROR' : 'BAD_RESPONSE');
  }
  const first = body.errors?.[0];
  if (first) {
    const code = first.extensions?.code ?? (response.status === 429 ? 'RATE_LIMITED' : 'GRAPHQL_ERROR');
    throw new WorkflowFactoryError(first.message, code, first.extensions?.field, first.extensions?.retryAfter ?? retryAfter);
  }
  if (!body.data) throw new WorkflowFactoryError(`${connection.url} answered HTTP ${response.status} without data`, 'BAD_RESPONSE');
  return body.data;
}

function causeOf(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (error as Error).message ?? String(error);
}

/** A graphql-ws client for the server, signed in with the token (connectionParams.authorization). */
export function webSocketClient(connection: Connection, options: Partial<ClientOptions> = {}): Client {
  return createClient({
    url: webSocketUrl(connection.url),
    webSocketImpl: WebSocket,
    connectionParams: { authorization: `Bearer ${connection.token}` },
    ...options,
  });
}

/** graphql-ws's close codes for a credential the server refuses: retrying cannot help. */
export function refusedCredential(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === 4401 || code === 4403;
}

/** Subscribes with a typed document; `next` gets each payload's data, `error` the first failure. */
export function subscribe<TResult, TVariables>(
  client: Client,
  operation: Operation<TResult, TVariables>,
  variables: TVariables,
  sink: { next(data: TResult): void; error(error: unknown): void; complete?(): void },
): () => void {
  return client.subscribe<TResult>(
    { query: operation.toString(), variables: variables as Record<string, unknown> },
    {
      next: (result) => {
        const first = result.errors?.[0] as { message: string; extensions?: { code?: string; field?: string } } | undefined;
        if (first) sink.error(new WorkflowFactoryError(first.message, first.extensions?.code ?? 'GRAPHQL_ERROR', first.extensions?.field));
        else if (result.data) sink.next(result.data as TResult);
      },
      error: (error) => sink.error(asError(error)),
      complete: () => sink.complete?.(),
    },
  );
}

/** graphql-ws hands close events and GraphQL error lists to `error`; give callers one Error. */
function asError(error: unknown): unknown {
  if (error instanceof Error) return error;
  if (Array.isArray(error) && error[0]?.message) {
    return new WorkflowFactoryError(error[0].message, error[0].extensions?.code ?? 'GRAPHQL_ERROR', error[0].extensions?.field);
  }
  const close = error as { code?: number; reason?: string };
  if (typeof close?.code === 'number') {
    const closed = new WorkflowFactoryError(`connection closed: ${close.code}${close.reason ? ` ${close.reason}` : ''}`, refusedCredential(close) ? 'UNAUTHENTICATED' : 'NETWORK');
    return Object.assign(closed, { closeCode: close.code });
  }
  return error;
}

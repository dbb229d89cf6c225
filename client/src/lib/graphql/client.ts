/**
 * The dashboard's one urql client: queries and mutations over POST /graphql (Apollo's CSRF
 * prevention refuses urql's GET requests), subscriptions over graphql-ws on the same path.
 * The session travels in the HttpOnly `wf_session` cookie on both. Queries and mutations go
 * by id only: each generated document carries its sha256 (codegen's persisted documents),
 * which the server knows from the same build (TRUSTED_DOCUMENTS).
 */
import {
  Client,
  cacheExchange,
  fetchExchange,
  makeOperation,
  mapExchange,
  subscriptionExchange,
  type AnyVariables,
  type CombinedError,
  type TypedDocumentNode,
} from '@urql/core';
import { createClient as createWsClient, type Client as WsClient } from 'graphql-ws';
import { liveClosed, liveConnected, liveConnecting } from '../live.svelte';

/** Called when the server says the session is gone; the layout sends the user to sign in. */
let onSessionLost: () => void = () => {};
export function whenSessionLost(handler: () => void): void {
  onSessionLost = handler;
}

export function errorCodes(error: CombinedError | undefined): string[] {
  return (error?.graphQLErrors ?? []).map((e) => String(e.extensions?.code ?? ''));
}

/** A sentence for the user, without urql's "[GraphQL]" / "[Network]" prefixes. */
export function errorMessage(error: CombinedError | undefined): string {
  if (!error) return '';
  if (error.networkError) return 'The server cannot be reached. Check that it is running, then try again.';
  return error.graphQLErrors.map((e) => e.message).join('; ') || error.message;
}

function createLiveClient(): WsClient {
  const url = new URL('/graphql', window.location.href);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  return createWsClient({
    url: url.toString(),
    // Connects when a page subscribes; stays open across page changes.
    lazy: true,
    lazyCloseTimeout: 5_000,
    retryAttempts: Number.POSITIVE_INFINITY,
    shouldRetry: () => true,
    on: {
      connecting: liveConnecting,
      connected: liveConnected,
      closed: liveClosed,
    },
  });
}

let live: WsClient | undefined;

export const client = new Client({
  url: '/graphql',
  preferGetMethod: false,
  requestPolicy: 'cache-and-network',
  exchanges: [
    mapExchange({
      onOperation(operation) {
        const id = (operation.query as { __meta__?: { hash?: string } }).__meta__?.hash;
        if (!id || (operation.kind !== 'query' && operation.kind !== 'mutation')) return operation;
        // With this extension urql sends no text: Apollo's persisted-query protocol.
        const persistedQuery = { version: 1 as const, sha256Hash: id.replace(/^sha256:/, '') };
        return makeOperation(operation.kind, { ...operation, extensions: { ...operation.extensions, persistedQuery } }, operation.context);
      },
      onError(error) {
        if (errorCodes(error).includes('UNAUTHENTICATED')) onSessionLost();
      },
    }),
    cacheExchange,
    fetchExchange,
    subscriptionExchange({
      forwardSubscription(request) {
        live ??= createLiveClient();
        const socket = live;
        const input = { ...request, query: request.query ?? '' };
        return {
          subscribe(sink) {
            const unsubscribe = socket.subscribe(input, sink);
            return { unsubscribe };
          },
        };
      },
    }),
  ],
});

/**
 * Calls `onData` with every event of a subscription; returns the unsubscribe function, so
 * `$effect(() => subscribe(…))` ends it when the page (or its variables) change.
 */
export function subscribe<D, V extends AnyVariables>(document: TypedDocumentNode<D, V>, variables: V, onData: (data: D) => void): () => void {
  const { unsubscribe } = client.subscription(document, variables).subscribe((result) => {
    if (result.data) onData(result.data);
  });
  return unsubscribe;
}

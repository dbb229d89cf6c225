/** What one client request may ask for (settings read in app/config.ts); see graphql/query-limits.ts, http/graphql.ts (HTTP bodies) live/ws/protocol.ts (WebSocket) and live/sse/server.ts (Server-Sent Events). */
export interface RequestLimits {
  bodyBytes: number;
  variablesBytes: number;
  queryDepth: number;
  queryAliases: number;
  queryTokens: number;
  queryDirectives: number;
  queryCost: number;
  /** the largest answer an operation may build (estimated while it is built), in bytes */
  responseBytes: number;
  /** how long a query (or a subscription event) may execute */
  queryTimeoutMs: number;
  /** signed-in users may introspect the schema unless this is false; anonymous never */
  introspection: boolean;
  /** a WebSocket that has not sent connection_init by then is closed (4408) */
  wsInitTimeoutMs: number;
  /** operations one WebSocket may run at once */
  wsMaxSubscriptions: number;
  /** how often an open WebSocket's credential is checked again (revoked or expired: closed with 4403) */
  wsCredentialRecheckMs: number;
  /** every open WebSocket is pinged this often; one that has not answered the previous ping is cut off */
  wsKeepaliveMs: number;
  /** a WebSocket whose unsent messages exceed this many bytes (a client that stopped reading) is cut off */
  wsMaxBufferedBytes: number;
  /** Server-Sent Events streams one credential may hold open at once on one replica (live/sse) */
  sseMaxStreams: number;
}

/**
 * Apollo Server 5 on a bare Node `http` server: parses the body, builds the per-request
 * context, and masks every error a client did not cause.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ApolloServer, HeaderMap, type ApolloServerOptionsWithGateway, type ApolloServerPlugin, type BaseContext } from '@apollo/server';
import { unwrapResolverError } from '@apollo/server/errors';
import { ApolloServerPluginCacheControlDisabled, ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { GraphQLError, type GraphQLFormattedError, type GraphQLSchema } from 'graphql';
import { errorCode, faultOf, maskError, nulRefusal, UNAVAILABLE_RETRY_SECONDS, withoutSuggestions } from '../core/errors.js';
import { ExecutionGuard, guarded, stopJson, stopStatus, underGuard, type ExecutionLimits } from '../graphql/execution-limits.js';
import { BodyTooLargeError, readBody, sendGraphQLError, sendJson } from './replies.js';
import { jitExecutor } from '../graphql/executor.js';
import type { Logger } from '../core/logger.js';
import { wellFormedTextPlugin } from '../core/text.js';
import { activeTraceId, inOperationSpan, operationSpanPlugin } from '../core/tracing.js';

export interface GraphQLContextBase extends BaseContext {
  requestId: string;
}

export interface ApolloOptions<C extends GraphQLContextBase = GraphQLContextBase> {
  schema: GraphQLSchema;
  logger: Logger;
  /** called with every error that is not the client's fault */
  onInternalError?: (error: unknown, context: GraphQLContextBase | undefined, operationName: string | undefined) => void;
  /** called with every error that says the database is unreachable (the request answers 503) */
  onUnavailable?: (error: unknown) => void;
  plugins?: ApolloServerPlugin<C>[];
  /** the parser gives up past this many tokens, before any validation work */
  maxTokens?: number;
  /** whether the caller may be told "Did you mean …?" (it names schema parts): only those who may introspect */
  suggestions(context: C): boolean;
  /** where document ids (`extensions.persistedQuery`) are looked up and registered; default: Apollo's in-process cache */
  persistedQueries?: ApolloServerOptionsWithGateway<C>['persistedQueries'];
  /** queries run by their plan where one covers them (graphql/planned.ts); default true */
  queryPlans?: boolean;
}

/** The answer to a subscription sent over HTTP, where there is no stream to send its events on. */
export const SUBSCRIPTION_OVER_HTTP = 'Subscriptions run over WebSocket (ws(s)://<this host>/graphql, the graphql-transport-ws protocol) or Server-Sent Events (POST /graphql/stream with Accept: text/event-stream)';

export async function startApollo<C extends GraphQLContextBase>(options: ApolloOptions<C>): Promise<ApolloServer<C>> {
  const apollo = new ApolloServer<C>({
    gateway: jitExecutor(options.schema, { plans: options.queryPlans }),
    persistedQueries: options.persistedQueries,
    csrfPrevention: true,
    // Batching multiplies every per-request limit; clients send one operation per request.
    allowBatchedHttpRequests: false,
    parseOptions: { maxTokens: options.maxTokens },
    // Bounds validation work on fragments that expand exponentially.
    maxRecursiveSelections: true,
    // The app's own shutdown stops Apollo after draining HTTP; Apollo must not race it.
    stopOnTerminationSignals: false,
    includeStacktraceInErrorResponses: false,
    plugins: [
      ApolloServerPluginLandingPageDisabled(),
      // On by default, it hooks every resolved field; nothing here uses cache hints.
      ApolloServerPluginCacheControlDisabled(),
      wellFormedTextPlugin<C>(),
      operationSpanPlugin<C>(),
      {
        async requestDidStart() {
          let unavailable = false;
          return {
            async didResolveOperation({ operation }) {
              if (operation?.operation === 'subscription') {
                throw new GraphQLError(SUBSCRIPTION_OVER_HTTP, { extensions: { code: 'BAD_REQUEST', http: { status: 400 } } });
              }
            },
            async didEncounterErrors({ errors, contextValue, operationName }) {
              const suggestions = options.suggestions(contextValue);
              for (const error of errors) {
                if (!suggestions) error.message = withoutSuggestions(error.message);
                const original = error.originalError ?? error;
                const fault = faultOf(errorCode(error), original);
                if (fault === 'client') continue;
                if (fault === 'unavailable') {
                  unavailable = true;
                  options.onUnavailable?.(original);
                  continue;
                }
                // formatError has no context: the id the masked answer names travels on the error.
                (error.extensions as Record<string, unknown>).requestId = contextValue.requestId;
                options.logger.error({ err: original, requestId: contextValue.requestId, operationName }, 'internal error');
                options.onInternalError?.(original, contextValue, operationName ?? undefined);
              }
            },
            async willSendResponse({ response }) {
              if (!unavailable) return;
              response.http.status = 503;
              response.http.headers.set('retry-after', String(UNAVAILABLE_RETRY_SECONDS));
            },
          };
        },
      },
      ...(options.plugins ?? []),
    ],
    formatError: (formatted, error) => {
      const requestId = (error as { extensions?: { requestId?: string } })?.extensions?.requestId;
      const masked = withTraceId(maskError(formatted, requestId, unwrapResolverError(error)));
      // graphql's own wording names neither the limit nor the setting.
      if (errorCode(masked) === 'GRAPHQL_PARSE_FAILED' && /Document contains more th\w+ \d+ tokens/.test(masked.message)) {
        return { ...masked, message: `Query has more than ${options.maxTokens} tokens (QUERY_MAX_TOKENS)` };
      }
      return masked;
    },
  });
  await apollo.start();
  return apollo;
}

/** In a traced request, every error names its trace, so an operator finds it in the APM. */
function withTraceId(error: GraphQLFormattedError): GraphQLFormattedError {
  const traceId = activeTraceId();
  return traceId ? { ...error, extensions: { ...error.extensions, traceId } } : error;
}

export interface HandleOptions<C> {
  bodyLimit: number;
  /** largest `variables` object, as JSON */
  variablesLimit: number;
  /** size and time limits of the execution */
  limits: ExecutionLimits;
  /** the request could not have been sent cross-site without a CORS preflight (Apollo's CSRF check passes it) */
  preflighted?: boolean;
  context: () => Promise<C>;
}

/** The refusal of a request whose `variables` pass `limit` bytes as JSON, else null. */
export function variablesTooLarge(body: unknown, limit: number): string | null {
  const variables = (body as { variables?: unknown } | null)?.variables;
  if (variables === undefined || variables === null) return null;
  let size: number;
  try {
    size = Buffer.byteLength(JSON.stringify(variables));
  } catch {
    size = Infinity; // nested too deep to even serialize
  }
  return size > limit ? `Variables are larger than ${limit} bytes (MAX_VARIABLES_BYTES)` : null;
}

/** Serves one GraphQL-over-HTTP request (POST, or GET for queries). */
export async function handleGraphQLRequest<C extends GraphQLContextBase>(
  apollo: ApolloServer<C>,
  req: IncomingMessage,
  res: ServerResponse,
  options: HandleOptions<C>,
): Promise<void> {
  let body: unknown = undefined;
  if (req.method === 'POST') {
    let raw: string;
    try {
      raw = await readBody(req, options.bodyLimit);
    } catch (error) {
      if (error instanceof BodyTooLargeError) return sendGraphQLError(res, 413, 'PAYLOAD_TOO_LARGE', error.message);
      throw error;
    }
    const nul = nulRefusal(raw);
    if (nul) return sendGraphQLError(res, 400, 'BAD_USER_INPUT', nul.message);
    const type = req.headers['content-type'] ?? '';
    if (type.includes('json')) {
      try {
        body = JSON.parse(raw);
      } catch {
        return sendGraphQLError(res, 400, 'BAD_REQUEST', 'Malformed JSON body');
      }
    } else {
      body = raw;
    }
    const tooLarge = variablesTooLarge(body, options.variablesLimit);
    if (tooLarge) return sendGraphQLError(res, 413, 'BAD_USER_INPUT', tooLarge);
  }
  const headers = new HeaderMap();
  for (const [key, value] of Object.entries(req.headers)) {
    if (value !== undefined) headers.set(key, Array.isArray(value) ? value.join(', ') : value);
  }
  if (options.preflighted) headers.set('apollo-require-preflight', 'true');
  const url = new URL(req.url ?? '/', 'http://localhost');
  const nul = nulRefusal(url.search);
  if (nul) return sendGraphQLError(res, 400, 'BAD_USER_INPUT', nul.message);
  const guard = new ExecutionGuard(options.limits);
  // A client that hangs up stops the execution: no more resolvers, loaders or SQL for nobody.
  res.once('close', () => res.writableFinished || guard.abandon());
  const method = req.method ?? 'GET';
  const response = await inOperationSpan('/graphql', method, () => underGuard(guard, apollo.executeHTTPGraphQLRequest({
    httpGraphQLRequest: { method, headers, search: url.search, body },
    context: async () => guarded(await options.context(), guard),
  })));
  // Stopped: one error, not the partial result and an error for every field cut short.
  if (response instanceof GraphQLError) {
    if (!res.destroyed) sendJson(res, stopStatus(response), { errors: [stopJson(response)] });
    return;
  }
  for (const [key, value] of response.headers) res.setHeader(key, value);
  res.statusCode = response.status ?? 200;
  if (response.body.kind === 'complete') {
    res.end(response.body.string);
    return;
  }
  for await (const chunk of response.body.asyncIterator) res.write(chunk);
  res.end();
}

/**
 * Apollo Server 5 on a bare Node `http` server: parses the body, builds the per-request
 * context, and masks every error a client did not cause.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ApolloServer, HeaderMap, type ApolloServerPlugin, type BaseContext } from '@apollo/server';
import { unwrapResolverError } from '@apollo/server/errors';
import { ApolloServerPluginCacheControlDisabled, ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import type { GraphQLSchema } from 'graphql';
import { clientFaultMessage, CLIENT_ERROR_CODES, errorCode, maskError } from './errors.js';
import { BodyTooLargeError, readBody, sendGraphQLError } from './http.js';
import { jitExecutor } from './executor.js';
import type { Logger } from './logger.js';

export interface GraphQLContextBase extends BaseContext {
  requestId: string;
}

export interface ApolloOptions<C extends GraphQLContextBase = GraphQLContextBase> {
  schema: GraphQLSchema;
  logger: Logger;
  /** called with every error that is not the client's fault */
  onInternalError?: (error: unknown, context: GraphQLContextBase | undefined, operationName: string | undefined) => void;
  plugins?: ApolloServerPlugin<C>[];
  /** the parser gives up past this many tokens, before any validation work */
  maxTokens?: number;
}

export async function startApollo<C extends GraphQLContextBase>(options: ApolloOptions<C>): Promise<ApolloServer<C>> {
  const apollo = new ApolloServer<C>({
    gateway: jitExecutor(options.schema),
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
      {
        async requestDidStart() {
          return {
            async didEncounterErrors({ errors, contextValue, operationName }) {
              for (const error of errors) {
                const original = error.originalError ?? error;
                if (CLIENT_ERROR_CODES.has(errorCode(error)) || clientFaultMessage(original)) continue;
                options.logger.error({ err: original, requestId: contextValue.requestId, operationName }, 'internal error');
                options.onInternalError?.(original, contextValue, operationName ?? undefined);
              }
            },
          };
        },
      },
      ...(options.plugins ?? []),
    ],
    formatError: (formatted, error) => {
      const requestId = (error as { extensions?: { requestId?: string } })?.extensions?.requestId;
      const masked = maskError(formatted, requestId, unwrapResolverError(error));
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

export interface HandleOptions<C> {
  bodyLimit: number;
  /** largest `variables` object, as JSON */
  variablesLimit: number;
  context: () => Promise<C>;
}

// PostgreSQL cannot store NUL in text, and its refusal would look like an internal error.
const NUL = /\u0000|\\u0000/i;
const NUL_MESSAGE = 'Text may not contain NUL characters (\\u0000)';

function hasNul(text: string): boolean {
  if (NUL.test(text)) return true;
  try {
    return NUL.test(decodeURIComponent(text));
  } catch {
    return false;
  }
}

function variablesTooLarge(body: unknown, limit: number): string | null {
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
    if (hasNul(raw)) return sendGraphQLError(res, 400, 'BAD_USER_INPUT', NUL_MESSAGE);
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
  const url = new URL(req.url ?? '/', 'http://localhost');
  if (hasNul(url.search)) return sendGraphQLError(res, 400, 'BAD_USER_INPUT', NUL_MESSAGE);
  const response = await apollo.executeHTTPGraphQLRequest({
    httpGraphQLRequest: { method: req.method ?? 'GET', headers, search: url.search, body },
    context: options.context,
  });
  for (const [key, value] of response.headers) res.setHeader(key, value);
  res.statusCode = response.status ?? 200;
  if (response.body.kind === 'complete') {
    res.end(response.body.string);
    return;
  }
  for await (const chunk of response.body.asyncIterator) res.write(chunk);
  res.end();
}

/**
 * Apollo Server 5 on a bare Node `http` server: parses the body, builds the per-request
 * context, and masks every error a client did not cause.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ApolloServer, HeaderMap, type BaseContext } from '@apollo/server';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import type { GraphQLSchema } from 'graphql';
import { CLIENT_ERROR_CODES, errorCode, maskError } from './errors.js';
import { BodyTooLargeError, readBody, sendGraphQLError } from './http.js';
import type { Logger } from './logger.js';

export interface GraphQLContextBase extends BaseContext {
  requestId: string;
}

export interface ApolloOptions {
  schema: GraphQLSchema;
  logger: Logger;
  /** called with every error that is not the client's fault */
  onInternalError?: (error: unknown, context: GraphQLContextBase | undefined, operationName: string | undefined) => void;
  plugins?: ConstructorParameters<typeof ApolloServer<GraphQLContextBase>>[0]['plugins'];
}

export async function startApollo<C extends GraphQLContextBase>(options: ApolloOptions): Promise<ApolloServer<C>> {
  const apollo = new ApolloServer<C>({
    schema: options.schema,
    csrfPrevention: true,
    // The app's own shutdown stops Apollo after draining HTTP; Apollo must not race it.
    stopOnTerminationSignals: false,
    includeStacktraceInErrorResponses: false,
    plugins: [
      ApolloServerPluginLandingPageDisabled(),
      {
        async requestDidStart() {
          return {
            async didEncounterErrors({ errors, contextValue, operationName }) {
              for (const error of errors) {
                if (CLIENT_ERROR_CODES.has(errorCode(error))) continue;
                const original = error.originalError ?? error;
                options.logger.error({ err: original, requestId: contextValue.requestId, operationName }, 'internal error');
                options.onInternalError?.(original, contextValue, operationName ?? undefined);
              }
            },
          };
        },
      },
      ...((options.plugins ?? []) as never[]),
    ],
    formatError: (formatted, error) => {
      const requestId = (error as { extensions?: { requestId?: string } })?.extensions?.requestId;
      return maskError(formatted, requestId);
    },
  });
  await apollo.start();
  return apollo;
}

export interface HandleOptions<C> {
  bodyLimit: number;
  context: () => Promise<C>;
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
  }
  const headers = new HeaderMap();
  for (const [key, value] of Object.entries(req.headers)) {
    if (value !== undefined) headers.set(key, Array.isArray(value) ? value.join(', ') : value);
  }
  const url = new URL(req.url ?? '/', 'http://localhost');
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

/**
 * Watching every request: its duration and outcome feed the Prometheus histograms and the
 * sampler's request rate, p95 and error rate; each GraphQL operation is logged with its
 * request id, name and duration; internal errors go to Sentry.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ApolloServerPlugin } from '@apollo/server';
import type { GraphQLContextBase } from '../http/graphql.js';
import { clientRequestIdOf } from '../http/replies.js';
import type { Logger } from '../core/logger.js';
import type { LiveOperation } from '../live/operations.js';

type TimedOperation = Omit<LiveOperation, 'type'> & { type: string };
import type { RequestStats } from '../metrics/request-stats.js';
import { methodLabel, type OperationLabel } from './operation-labels.js';
import type { ServerMetrics } from './prometheus.js';
import type { ErrorReporter } from './sentry.js';

// Fixed route labels keep the metric's cardinality bounded whatever paths clients try.
const ROUTES = new Set(['/graphql', '/graphql/stream', '/api/live', '/api/health', '/api/ready', '/api/metrics']);

export type RequestObserver = ReturnType<typeof createRequestObserver>;

/** `operationLabel` keeps the histogram's `operation` label bounded (see operation-labels.ts). */
/** `operationLevel`: of the line per operation (debug in a terminal, where one a request drowns the rest). */
export function createRequestObserver(stats: RequestStats, metrics: ServerMetrics, reporter: ErrorReporter, logger: Logger, operationLabel: OperationLabel, operationLevel: 'info' | 'debug' = 'info') {
  // Requests whose GraphQL response carried an internal error (HTTP status is still 200).
  const failed = new Set<string>();
  // The X-Request-Id a caller sent, by our id of its request in flight: for logs and reports only.
  const clientIds = new Map<string, string>();

  /** One GraphQL operation, over HTTP or WebSocket: the duration histogram and a log line. */
  const record = (operation: TimedOperation, signedIn: boolean, fields: Record<string, unknown>, level = operationLevel) => {
    const { requestId, operationName, type, outcome, seconds } = operation;
    metrics.operations.observe({ operation: operationLabel(operationName, signedIn), type, outcome }, seconds);
    logger[level]({ requestId, operationName, durationMs: Math.round(seconds * 100_000) / 100, outcome, ...fields }, 'graphql operation');
  };

  const plugin: ApolloServerPlugin<GraphQLContextBase & { viewer: object | null }> = {
    async requestDidStart() {
      const started = performance.now();
      return {
        async willSendResponse({ contextValue, operationName, operation, errors, response }) {
          // 5xx: an internal error (HTTP status still 200) or the database unreachable (503).
          const status = response.http.status ?? 200;
          const outcome = failed.has(contextValue.requestId) || status >= 500 ? 'error' : errors?.length ? 'client_error' : 'ok';
          record(
            { requestId: contextValue.requestId, operationName: operationName ?? 'anonymous', type: operation?.operation ?? 'unknown', outcome, seconds: (performance.now() - started) / 1000 },
            contextValue.viewer !== null,
            { status, clientRequestId: clientIds.get(contextValue.requestId) },
          );
        },
      };
    },
  };

  return {
    plugin,
    /** An operation over WebSocket or Server-Sent Events (a subscription: each event it executed), timed like HTTP's. */
    liveOperation(operation: LiveOperation, transport: 'websocket' | 'sse'): void {
      // Events can be many: logged only when debugging.
      // Only signed-in callers get a socket or a stream that runs operations.
      record(operation, true, { transport }, operation.type === 'subscription' ? 'debug' : operationLevel);
    },
    /** Called by the GraphQL layer with each error that is not the client's fault. */
    internalError(error: unknown, requestId: string | undefined, operationName: string | undefined): void {
      if (requestId) failed.add(requestId);
      reporter.report(error, { requestId, clientRequestId: requestId && clientIds.get(requestId), operationName });
    },
    /** Starts timing one HTTP request; it is counted when the response is done. */
    watch(req: IncomingMessage, res: ServerResponse, requestId: string): void {
      const started = performance.now();
      const clientId = clientRequestIdOf(req);
      if (clientId) clientIds.set(requestId, clientId);
      res.once('close', () => {
        clientIds.delete(requestId);
        // An event stream lasts as long as its subscriber: no request latency (sse_streams counts them).
        if (String(res.getHeader('content-type')).startsWith('text/event-stream')) return void failed.delete(requestId);
        const durationMs = performance.now() - started;
        const status = res.writableFinished ? res.statusCode : 499;
        const path = (req.url ?? '/').split('?')[0];
        metrics.http.observe({ route: ROUTES.has(path) ? path : 'other', method: methodLabel(req.method), status: String(status) }, durationMs / 1000);
        const internalError = failed.delete(requestId);
        stats.observe(durationMs, status >= 500 || internalError);
      });
    },
  };
}

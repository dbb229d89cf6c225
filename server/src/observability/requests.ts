/**
 * Watching every request: its duration and outcome feed the Prometheus histograms and the
 * sampler's request rate, p95 and error rate; each GraphQL operation is logged with its
 * request id, name and duration; internal errors go to Sentry.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ApolloServerPlugin } from '@apollo/server';
import type { GraphQLContextBase } from '../platform/graphql.js';
import type { Logger } from '../platform/logger.js';
import type { WebSocketOperation } from '../platform/subscriptions.js';

type TimedOperation = Omit<WebSocketOperation, 'type'> & { type: string };
import type { RequestStats } from '../metrics/request-stats.js';
import type { ServerMetrics } from './prometheus.js';
import type { ErrorReporter } from './sentry.js';

// Fixed route labels keep the metric's cardinality bounded whatever paths clients try.
const ROUTES = new Set(['/graphql', '/api/health', '/api/ready', '/api/metrics']);

export type RequestObserver = ReturnType<typeof createRequestObserver>;

export function createRequestObserver(stats: RequestStats, metrics: ServerMetrics, reporter: ErrorReporter, logger: Logger) {
  // Requests whose GraphQL response carried an internal error (HTTP status is still 200).
  const failed = new Set<string>();

  /** One GraphQL operation, over HTTP or WebSocket: the duration histogram and a log line. */
  const record = (operation: TimedOperation, fields: Record<string, unknown>, level: 'info' | 'debug' = 'info') => {
    const { requestId, operationName, type, outcome, seconds } = operation;
    metrics.operations.observe({ operation: operationName, type, outcome }, seconds);
    logger[level]({ requestId, operationName, durationMs: Math.round(seconds * 100_000) / 100, outcome, ...fields }, 'graphql operation');
  };

  const plugin: ApolloServerPlugin<GraphQLContextBase> = {
    async requestDidStart() {
      const started = performance.now();
      return {
        async willSendResponse({ contextValue, operationName, operation, errors, response }) {
          const outcome = failed.has(contextValue.requestId) ? 'error' : errors?.length ? 'client_error' : 'ok';
          record(
            { requestId: contextValue.requestId, operationName: operationName ?? 'anonymous', type: operation?.operation ?? 'unknown', outcome, seconds: (performance.now() - started) / 1000 },
            { status: response.http.status ?? 200 },
          );
        },
      };
    },
  };

  return {
    plugin,
    /** An operation over WebSocket (a subscription: each event it executed), timed like HTTP's. */
    webSocketOperation(operation: WebSocketOperation): void {
      // Events can be many: logged only when debugging.
      record(operation, { transport: 'websocket' }, operation.type === 'subscription' ? 'debug' : 'info');
    },
    /** Called by the GraphQL layer with each error that is not the client's fault. */
    internalError(error: unknown, requestId: string | undefined, operationName: string | undefined): void {
      if (requestId) failed.add(requestId);
      reporter.report(error, { requestId, operationName });
    },
    /** Starts timing one HTTP request; it is counted when the response is done. */
    watch(req: IncomingMessage, res: ServerResponse, requestId: string): void {
      const started = performance.now();
      res.once('close', () => {
        const durationMs = performance.now() - started;
        const status = res.writableFinished ? res.statusCode : 499;
        const path = (req.url ?? '/').split('?')[0];
        metrics.http.observe({ route: ROUTES.has(path) ? path : 'other', method: req.method ?? 'GET', status: String(status) }, durationMs / 1000);
        const internalError = failed.delete(requestId);
        stats.observe(durationMs, status >= 500 || internalError);
      });
    },
  };
}

/**
 * Error tracking with Sentry when `SENTRY_DSN` is set. A client per app (not the global
 * `Sentry.init`), so two apps in one process (tests) never share one; the SDK is only
 * loaded when a DSN is given. Only internal errors are reported, tagged with the operation
 * name and request id; errors a client caused never are.
 */
import type { Logger } from '../core/logger.js';

export interface ErrorReporter {
  report(error: unknown, tags: { requestId?: string; clientRequestId?: string; operationName?: string }): void;
  close(): Promise<void>;
}

const NO_REPORTER: ErrorReporter = { report() {}, async close() {} };

export async function createErrorReporter(dsn: string | undefined, instanceId: string, logger: Logger): Promise<ErrorReporter> {
  if (!dsn) return NO_REPORTER;
  const Sentry = await import('@sentry/node');
  const client = new Sentry.NodeClient({
    dsn,
    serverName: instanceId,
    transport: Sentry.makeNodeTransport,
    stackParser: Sentry.defaultStackParser,
    integrations: [],
    sendClientReports: false,
  });
  client.init();
  logger.info('reporting internal errors to Sentry');
  return {
    report(error, tags) {
      const scope = new Sentry.Scope();
      scope.setClient(client);
      scope.setTags({ operationName: tags.operationName ?? 'unknown', requestId: tags.requestId ?? 'none', instance: instanceId });
      if (tags.clientRequestId) scope.setTag('clientRequestId', tags.clientRequestId);
      scope.captureException(error);
    },
    async close() {
      await client.close(2_000);
    },
  };
}

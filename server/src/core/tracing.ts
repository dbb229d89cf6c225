/**
 * What the code does with traces, on the OpenTelemetry API alone (observability/tracing.ts
 * starts the SDK when an OTLP endpoint is set). Without the SDK the API has no recording span
 * anywhere, and each of these returns after one look at the active context: tracing off costs
 * nothing measurable.
 */
import { context, propagation, SpanStatusCode, trace, type Span } from '@opentelemetry/api';
import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import { errorCode, faultOf } from './errors.js';

const tracer = trace.getTracer('workflow-factory');

function recordingSpan(): Span | undefined {
  const span = trace.getActiveSpan();
  return span?.isRecording() ? span : undefined;
}

/** The active trace's id, when a recorded trace is going on (for error responses). */
export function activeTraceId(): string | undefined {
  return recordingSpan()?.spanContext().traceId;
}

/** The W3C `traceparent` of the active span (stored on what a later process continues: readied tasks), or null outside a recorded trace. */
export function activeTraceparent(): string | null {
  if (!recordingSpan()) return null;
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  return carrier.traceparent ?? null;
}

/** `trace_id` and `span_id` of the active span, for every log line written inside one. */
export function traceLogFields(): Record<string, string> {
  const span = recordingSpan();
  if (!span) return {};
  const { traceId, spanId } = span.spanContext();
  return { trace_id: traceId, span_id: spanId };
}

/**
 * Runs one GraphQL operation in a span of its own, a child of the request's (named `graphql`
 * until the operation is known: see `operationSpanPlugin`), so its SQL and Redis calls nest
 * under it; the request's span is named after its route. Outside a recorded trace, just runs it.
 */
export function inOperationSpan<T>(route: string, method: string, run: () => Promise<T>): Promise<T> {
  const request = recordingSpan();
  if (!request) return run();
  request.updateName(`${method} ${route}`);
  request.setAttribute('http.route', route);
  return tracer.startActiveSpan('graphql', async (span) => {
    try {
      return await run();
    } finally {
      span.end();
    }
  });
}

/** Names the operation's span `<type> <name>` with the semantic conventions' attributes (no document, no variables); marks it failed when an error was not the client's. */
export function operationSpanPlugin<C extends BaseContext>(): ApolloServerPlugin<C> {
  return {
    async requestDidStart() {
      const span = recordingSpan();
      if (!span) return;
      return {
        async didResolveOperation({ operation, operationName }) {
          const type = operation?.operation ?? 'unknown';
          span.updateName(operationName ? `${type} ${operationName}` : type);
          span.setAttribute('graphql.operation.type', type);
          if (operationName) span.setAttribute('graphql.operation.name', operationName);
        },
        async didEncounterErrors({ errors }) {
          const internal = errors.find((error) => faultOf(errorCode(error), error.originalError ?? error) !== 'client');
          if (!internal) return;
          span.recordException(internal.originalError ?? internal);
          span.setStatus({ code: SpanStatusCode.ERROR, message: internal.message });
        },
      };
    },
  };
}


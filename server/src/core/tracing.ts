/**
 * What the code does with traces, on the OpenTelemetry API alone (observability/tracing.ts
 * starts the SDK when an OTLP endpoint is set). Without the SDK the API has no recording span
 * anywhere, and each of these returns after one look at the active context: tracing off costs
 * nothing measurable.
 */
import { context, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Link, type Span, type SpanContext } from '@opentelemetry/api';
import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import { errorCode, faultOf } from './errors.js';

const tracer = trace.getTracer('workflow-factory');

/** whether a tracer provider records spans (observability/tracing.ts started one): live operations start spans of their own only then */
let enabled = false;

/** Called once the SDK is registered. */
export function enableTracing(): void {
  enabled = true;
}

/**
 * Runs `start` outside any trace: for what a request starts but outlives it (a shared tail's
 * poll timer), which would otherwise carry that request's context, so every later poll's SQL
 * would land in a trace that ended long ago.
 */
export function untraced<T>(start: () => T): T {
  return enabled ? context.with(ROOT_CONTEXT, start) : start();
}

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
  if (!nameRequestSpan(route, method)) return run();
  return tracer.startActiveSpan('graphql', async (span) => {
    try {
      return await run();
    } finally {
      span.end();
    }
  });
}

/** Names the active HTTP request's span after its route (`POST /graphql`); false outside a recorded trace. */
export function nameRequestSpan(route: string, method: string): boolean {
  const request = recordingSpan();
  if (!request) return false;
  request.updateName(`${method} ${route}`);
  request.setAttribute('http.route', route);
  return true;
}

/** What carries a live operation's messages. */
export type LiveTransport = 'websocket' | 'sse';

/** One execution of a live operation, as its span is named. */
export interface LiveExecution {
  type: string;
  operationName: string;
}

/**
 * Runs one execution of a live operation (WebSocket or SSE: a query, a mutation, a
 * subscription's start, or the execution of one event for a group of equal subscriptions) in
 * a span of its own, so its SQL and Redis calls nest under it: named `<type> <name>` like the
 * HTTP path's (an event's `subscription <name> event`), with `graphql.operation.*` and
 * `graphql.transport`. `from`: `active` continues the active context (an SSE request's HTTP
 * span); `root` starts a trace (a WebSocket message: the socket's upgrade request is long over;
 * an event: the subscription may have started hours ago), linked to `link` (the subscription's
 * start) when given. `run` gets the span (to mark it failed); without tracing, none.
 */
export function inLiveSpan<T>(execution: LiveExecution, transport: LiveTransport, from: 'active' | 'root', link: SpanContext | undefined, event: boolean, run: (span?: Span) => Promise<T>): Promise<T> {
  if (!enabled) return run();
  const named = execution.operationName !== 'anonymous';
  const name = `${execution.type}${named ? ` ${execution.operationName}` : ''}${event ? ' event' : ''}`;
  const attributes: Record<string, string | boolean> = { 'graphql.operation.type': execution.type, 'graphql.transport': transport };
  if (named) attributes['graphql.operation.name'] = execution.operationName;
  if (event) attributes['graphql.subscription.event'] = true;
  const links: Link[] | undefined = link ? [{ context: link }] : undefined;
  // From the active context as it is: an SSE request the sampler left out leaves its operation out too.
  const root = from === 'root';
  return tracer.startActiveSpan(name, { kind: root ? SpanKind.SERVER : SpanKind.INTERNAL, root, attributes, links }, async (span) => {
    try {
      return await run(span);
    } finally {
      span.end();
    }
  });
}

/** Marks a span failed: an error that was not the client's. */
export function failSpan(span: Span, message: string): void {
  span.setStatus({ code: SpanStatusCode.ERROR, message });
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


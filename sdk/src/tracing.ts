/**
 * The worker's span per attempt, on the OpenTelemetry API when the application has it.
 *
 * `@opentelemetry/api` is an optional peer dependency: the SDK never installs OpenTelemetry
 * for anyone. An application that traces has the API already (every OpenTelemetry SDK needs
 * it) and registers a tracer provider; the worker then finds the API at start (one dynamic
 * import) and its spans go wherever that provider sends them. Without the API, or with the API
 * but no provider registered (its no-op tracer), an attempt costs one object and no span.
 *
 * An attempt's span is `process <queue>` (kind CONSUMER, the messaging conventions' names),
 * a child of the task's `traceparent` (the span of the server's operation that readied it, so
 * the mutation's trace goes on in the worker). The handler runs inside it: what it calls
 * through instrumented clients continues the trace, and `TaskContext.traceparent` names it for
 * calls made by hand. The worker's own reports of the attempt (heartbeats, completion, failure)
 * send it too, so the server's spans of those requests are children of the worker's.
 */
import type * as Api from '@opentelemetry/api';

type OpenTelemetry = typeof Api;

/** undefined: not looked for yet; null: not installed */
let api: OpenTelemetry | null | undefined;

/** Looks for `@opentelemetry/api` once (createWorker's start calls it). */
export async function loadOpenTelemetry(): Promise<void> {
  if (api !== undefined) return;
  try {
    const loaded = (await import('@opentelemetry/api')) as OpenTelemetry & { default?: OpenTelemetry };
    api = loaded.trace ? loaded : (loaded.default ?? null);
  } catch {
    api = null;
  }
}

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

export interface AttemptSpan {
  /** the W3C traceparent the handler and the worker's reports continue: the attempt's span, else the task's own (null when untraced) */
  traceparent: string | null;
  /** runs `fn` with the attempt's span active (as is without OpenTelemetry) */
  run<T>(fn: () => T): T;
  /** ends the span (the first call only); `error` marks it failed */
  end(error?: Error): void;
}

export interface Attempt {
  id: string;
  name: string;
  queue: string;
  attempt: number;
  workflow: { id: string };
  traceparent: string | null;
}

export function attemptSpan(task: Attempt, workerId: string): AttemptSpan {
  const otel = api;
  if (!otel) return { traceparent: task.traceparent, run: (fn) => fn(), end: () => {} };
  const { context, trace, ROOT_CONTEXT, SpanKind, SpanStatusCode, TraceFlags } = otel;
  // Parsed here, not through the registered propagator: an application may register a tracer provider and no propagator.
  const parsed = task.traceparent ? TRACEPARENT.exec(task.traceparent) : null;
  const parent = parsed
    ? trace.setSpanContext(ROOT_CONTEXT, { traceId: parsed[1], spanId: parsed[2], traceFlags: Number.parseInt(parsed[3], 16) & TraceFlags.SAMPLED, isRemote: true })
    : ROOT_CONTEXT;
  const span = trace.getTracer('@workflow-factory/sdk').startSpan(
    `process ${task.queue}`,
    {
      kind: SpanKind.CONSUMER,
      attributes: {
        'messaging.system': 'workflow-factory',
        'messaging.operation.type': 'process',
        'messaging.destination.name': task.queue,
        'messaging.message.id': task.id,
        'workflow_factory.task.name': task.name,
        'workflow_factory.task.attempt': task.attempt,
        'workflow_factory.workflow.id': task.workflow.id,
        'workflow_factory.worker.id': workerId,
      },
    },
    parent,
  );
  const active = trace.setSpan(parent, span);
  const { traceId, spanId, traceFlags } = span.spanContext();
  const traced = trace.isSpanContextValid(span.spanContext());
  let ended = false;
  return {
    traceparent: traced ? `00-${traceId}-${spanId}-0${traceFlags & TraceFlags.SAMPLED}` : task.traceparent,
    run: (fn) => context.with(active, fn),
    end: (error) => {
      if (ended) return;
      ended = true;
      if (error) {
        span.recordException(error);
        span.setStatus({ code: SpanStatusCode.ERROR, message: error.message });
      }
      span.end();
    },
  };
}

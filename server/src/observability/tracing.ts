/**
 * OpenTelemetry traces, started by `main.ts` before the app is loaded when an OTLP endpoint is
 * set (see `Config.otlpEndpoint`); otherwise this module is never imported.
 *
 * Only the parts of the OpenTelemetry SDK traces need (the trace SDK, the two OTLP/HTTP
 * exporters, the instrumentations), not `@opentelemetry/sdk-node`, which also ships the gRPC
 * exporters (`@grpc/grpc-js`, ~10 MB) and the metrics and logs SDKs. The standard `OTEL_*`
 * variables still apply: the protocol (`Config.otlpProtocol`: `http/protobuf` by default, or
 * `http/json`), endpoint, headers, timeout and compression (read by the exporter), the sampler
 * and span limits (the tracer provider), `OTEL_BSP_*` (the batch processor), the service name
 * and resource attributes (the environment's resource detector).
 *
 * Spans: every HTTP request (with the caller's `traceparent` honoured), the GraphQL operation
 * inside it (core/tracing.ts), and PostgreSQL and Redis calls made inside a trace. Background
 * jobs' queries (the sampler, the event feed's poll, leases, elections) start no traces: they
 * would be most of the volume and none of what an operator looks for.
 * Only traces: metrics stay on /api/metrics (Prometheus), logs on stdout with the trace's ids.
 */
import { createRequire } from 'node:module';
import type { IncomingMessage } from 'node:http';
import { OTLPTraceExporter as JsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as ProtobufExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { IORedisInstrumentation } from '@opentelemetry/instrumentation-ioredis';
import { defaultResource, detectResources, envDetector, hostDetector, processDetector, resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import type { OtlpProtocol } from '../app/config.js';
import { enableTracing, traceLogFields } from '../core/tracing.js';

/** Probes and scrapes: frequent, and nothing to follow in them. */
const UNTRACED_PATHS = new Set(['/api/live', '/api/health', '/api/ready', '/api/metrics']);

/** MikroORM writes values into its SQL: an APM keeps the statement's shape, not names, e-mails or token hashes. */
const withoutLiterals = (sql: string): string => sql.replace(/'(?:[^']|'')*'/g, "'?'");

export interface Tracing {
  /** what every log line carries: the active trace's ids */
  logFields: () => Record<string, string>;
  /** exports the spans still buffered */
  shutdown(): Promise<void>;
}

export function startTracing(instanceId: string, protocol: OtlpProtocol): Tracing {
  const exporter = protocol === 'http/json' ? new JsonExporter() : new ProtobufExporter();
  const provider = new NodeTracerProvider({
    // OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES (service.version=…, the environment's detector) override these.
    resource: defaultResource()
      .merge(resourceFromAttributes({ 'service.name': 'workflow-factory', 'service.instance.id': instanceId }))
      .merge(detectResources({ detectors: [hostDetector, processDetector, envDetector] })),
    spanProcessors: [new BatchSpanProcessor(exporter)],
  });
  // The global tracer provider, AsyncLocalStorage for the active context, W3C trace context and baggage.
  provider.register();
  registerInstrumentations({
    tracerProvider: provider,
    instrumentations: [
      new HttpInstrumentation({
        ignoreIncomingRequestHook: (req: IncomingMessage) => UNTRACED_PATHS.has((req.url ?? '/').split('?')[0]),
        // Outgoing calls (webhooks, Slack, PagerDuty) go through fetch, not node:http.
        disableOutgoingRequestInstrumentation: true,
      }),
      new PgInstrumentation({ requireParentSpan: true, requestHook: (span, { query }) => span.setAttribute('db.query.text', withoutLiterals(query.text)) }),
      new IORedisInstrumentation({ requireParentSpan: true }),
    ],
  });
  enableTracing();
  // The instrumentations patch CommonJS modules as they are first required; the app imports
  // these as ES modules, which share the same objects (http.Server.prototype, the ioredis and
  // pg classes). Requiring them once here applies the patches before the app loads them.
  const require = createRequire(import.meta.url);
  for (const name of ['node:http', 'pg', 'ioredis']) require(name);
  return { logFields: traceLogFields, shutdown: () => provider.shutdown() };
}

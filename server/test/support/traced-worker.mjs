// A worker process on the SDK (as built) in an application that traces: it registers an
// OpenTelemetry SDK of its own (tracer provider, W3C propagation, OTLP/HTTP protobuf export to
// OTEL_EXPORTER_OTLP_ENDPOINT) before it loads the SDK, then claims tasks of QUEUE. The handler
// reports what it got (the task's traceparent, TaskContext.traceparent, the active span) and
// makes a span of its own, as an instrumented call would. One JSON line per step.
import { trace } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { NodeTracerProvider, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-node';

const provider = new NodeTracerProvider({
  resource: resourceFromAttributes({ 'service.name': 'traced-worker' }),
  spanProcessors: [new SimpleSpanProcessor(new OTLPTraceExporter())],
});
provider.register();

const { createWorker } = await import('@workflow-factory/sdk');
const { URL: url, TOKEN: token, QUEUE: queue } = process.env;
const say = (line) => process.stdout.write(`${JSON.stringify(line)}\n`);

const worker = createWorker({
  url: `${url}/graphql`,
  token,
  queues: [queue],
  handleSignals: false,
  handler: async (task, { traceparent }) => {
    const active = trace.getActiveSpan()?.spanContext() ?? null;
    await trace.getTracer('handler').startActiveSpan('handler work', async (span) => span.end());
    say({ handled: task.id, taskTraceparent: task.traceparent, traceparent, active: active && { traceId: active.traceId, spanId: active.spanId } });
    return { traced: true };
  },
  on: {
    connected: () => say({ connected: true }),
    completed: (task) => say({ completed: task.id }),
    error: (error) => say({ error: String(error?.message ?? error) }),
  },
});
process.once('SIGTERM', async () => {
  await worker.stop({ graceMs: 1000 });
  await provider.shutdown();
  process.exit(0);
});
await worker.start();

/**
 * OpenTelemetry: a real server process exports its traces over OTLP/HTTP to a real receiver
 * (test/support/otlp.ts decodes the protobuf or JSON it gets). One mutation's span tree is
 * asserted: the caller's traceparent → the HTTP request → the GraphQL operation → its SQL and
 * Redis calls; the trace id is in the log lines and in error responses. Without an endpoint
 * nothing of it happens.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from '../support/otlp.js';
import { startServerProcess, type ServerProcess } from '../support/process.js';
import { redisEnv, redisUrl } from '../support/redis.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { waitFor } from '../support/wait.js';
import { startedWorkflow } from '../support/workflows.js';

const PG_SCOPE = '@opentelemetry/instrumentation-pg';
const REDIS_SCOPE = '@opentelemetry/instrumentation-ioredis';

async function post(server: ServerProcess, query: string, variables: Record<string, unknown>, headers: Record<string, string> = {}) {
  const response = await fetch(`${server.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${server.adminToken}`, ...headers },
    body: JSON.stringify({ query, variables }),
  });
  return (await response.json()) as { data?: any; errors?: Array<{ message: string; extensions: Record<string, unknown> }> };
}

/** The spans of `span`'s ancestors, nearest first. */
function ancestors(span: ReceivedSpan, trace: ReceivedSpan[]): ReceivedSpan[] {
  const chain: ReceivedSpan[] = [];
  for (let parent = trace.find((s) => s.spanId === span.parentSpanId); parent; parent = trace.find((s) => s.spanId === parent!.parentSpanId)) chain.push(parent);
  return chain;
}

const CREATE = 'mutation TracedCreate($input: CreateWorkflowInput!) { createWorkflow(input: $input) { id name } }';

describe('OpenTelemetry traces over OTLP/HTTP', () => {
  let receiver: OtlpReceiver;
  let server: ServerProcess;

  beforeAll(async () => {
    receiver = await startOtlpReceiver();
    server = await startServerProcess({
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_SERVICE_NAME: 'wf-traced',
      // Exported within 50 ms of ending, not the default 5 s.
      OTEL_BSP_SCHEDULE_DELAY: '50',
      LOG_LEVEL: 'info',
      LOG_FORMAT: 'json',
      INSTANCE_ID: 'traced-replica',
      ...(redisUrl ? redisEnv() : {}),
    });
  }, 60_000);
  afterAll(async () => {
    await server?.stop();
    await receiver?.close();
  });

  it('should export the span tree of one mutation, continuing the caller\'s traceparent', async () => {
    const traceId = randomBytes(16).toString('hex');
    const callerSpan = randomBytes(8).toString('hex');
    const result = await post(server, CREATE, { input: { name: 'confidential-name', tasks: [{ name: 'only' }] } }, { traceparent: `00-${traceId}-${callerSpan}-01` });
    expect(result.errors).toBeUndefined();

    const trace = await waitFor('the mutation\'s spans', async () => {
      const spans = receiver.spans.filter((span) => span.traceId === traceId);
      return spans.some((span) => span.scope === PG_SCOPE) && spans.some((span) => span.kind === 2) && spans.some((span) => span.name.startsWith('mutation')) ? spans : null;
    });
    expect(receiver.contentTypes[0]).toBe('application/x-protobuf');

    const http = trace.filter((span) => span.kind === 2);
    expect(http).toHaveLength(1);
    expect(http[0]).toMatchObject({ name: 'POST /graphql', parentSpanId: callerSpan, attributes: expect.objectContaining({ 'http.route': '/graphql' }) });
    expect(http[0].resource).toMatchObject({ 'service.name': 'wf-traced', 'service.instance.id': 'traced-replica' });

    const operation = trace.find((span) => span.name === 'mutation TracedCreate')!;
    expect(operation.parentSpanId).toBe(http[0].spanId);
    expect(operation.attributes).toMatchObject({ 'graphql.operation.type': 'mutation', 'graphql.operation.name': 'TracedCreate' });
    // Not per field, and never the document or the variables.
    expect(trace.filter((span) => span.scope === 'workflow-factory')).toEqual([operation]);
    // What the caller sent stays out of every span, SQL included (MikroORM writes values into its statements).
    expect(JSON.stringify(trace)).not.toContain('confidential-name');
    expect(JSON.stringify(trace)).not.toContain(server.adminToken);

    const sql = trace.filter((span) => span.scope === PG_SCOPE);
    const statements = sql.map((span) => String(span.attributes['db.statement'] ?? span.attributes['db.query.text'] ?? ''));
    expect(statements.some((text) => /^insert into "?workflows"?/i.test(text))).toBe(true);
    // The workflow's rows are written inside the operation, not beside it.
    const insert = sql[statements.findIndex((text) => /^insert into "?workflows"?/i.test(text))];
    expect(ancestors(insert, trace).map((span) => span.spanId)).toContain(operation.spanId);

    if (redisUrl) {
      // The rate budget (before the operation) and the event published after its commit.
      const redis = trace.filter((span) => span.scope === REDIS_SCOPE);
      expect(redis.length).toBeGreaterThan(0);
      for (const span of redis) expect(ancestors(span, trace).map((s) => s.spanId)).toContain(http[0].spanId);
    }
  });

  it('should put the trace id in the operation\'s log line and in error responses', async () => {
    const traceId = randomBytes(16).toString('hex');
    const result = await post(server, 'query Refused { workflow(id: "no-such-id") { id } }', {}, { traceparent: `00-${traceId}-${randomBytes(8).toString('hex')}-01` });
    expect(result.errors?.[0].extensions).toMatchObject({ traceId });
    const line = await waitFor('the operation\'s log line', async () =>
      server.output().split('\n').filter((text) => text.startsWith('{')).map((text) => JSON.parse(text)).find((entry) => entry.msg === 'graphql operation' && entry.operationName === 'Refused'),
    );
    expect(line).toMatchObject({ trace_id: traceId, span_id: expect.stringMatching(/^[0-9a-f]{16}$/) });
  });

  it('should keep the traceparent of the request that readied a task, for the worker that claims it', async () => {
    const traceId = randomBytes(16).toString('hex');
    const created = await post(server, CREATE, { input: { name: 'traced-run', tasks: [{ name: 'first', queue: 'traced-queue' }] } });
    await post(server, 'mutation ($id: ID!) { startWorkflow(id: $id) { id } }', { id: created.data.createWorkflow.id }, { traceparent: `00-${traceId}-${randomBytes(8).toString('hex')}-01` });
    const claimed = await post(server, 'mutation { claimTask(queues: ["traced-queue"]) { name traceparent } }', {});
    expect(claimed.data.claimTask.name).toBe('first');
    // The same trace, a span of this server's (the operation that readied it).
    const [version, trace, span, flags] = claimed.data.claimTask.traceparent.split('-');
    expect({ version, trace, flags }).toEqual({ version: '00', trace: traceId, flags: '01' });
    const readying = await waitFor('the readying span', async () => receiver.spans.find((s) => s.spanId === span));
    expect(readying.name).toBe('mutation');
  });

  it('should leave probes and scrapes untraced', async () => {
    const before = receiver.spans.length;
    for (const path of ['/api/live', '/api/health', '/api/ready']) expect((await fetch(`${server.url}${path}`)).ok).toBe(true);
    // A traced request after them: once its span is in, theirs would be too.
    const traceId = randomBytes(16).toString('hex');
    await post(server, '{ viewer { email } }', {}, { traceparent: `00-${traceId}-${randomBytes(8).toString('hex')}-01` });
    await waitFor('the later request\'s span', async () => receiver.spans.some((span) => span.traceId === traceId && span.kind === 2));
    expect(receiver.spans.slice(before).filter((span) => String(span.attributes['url.path'] ?? span.attributes['http.target'] ?? '').startsWith('/api/'))).toEqual([]);
  });
});

describe('OpenTelemetry over http/json', () => {
  it('should export JSON when OTEL_EXPORTER_OTLP_PROTOCOL says so', async () => {
    const receiver = await startOtlpReceiver();
    const server = await startServerProcess({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${receiver.url}/v1/traces`, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json', OTEL_BSP_SCHEDULE_DELAY: '50' });
    try {
      await post(server, 'query JsonTraced { viewer { email } }', {});
      const operation = await waitFor('the operation\'s span', async () => receiver.spans.find((span) => span.name === 'query JsonTraced'));
      expect(operation.resource['service.name']).toBe('workflow-factory');
      expect(receiver.contentTypes.every((type) => type.startsWith('application/json'))).toBe(true);
    } finally {
      await server.stop();
      await receiver.close();
    }
  }, 60_000);
});

describe('without an OTLP endpoint', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server?.stop());

  it('should name no trace in errors, even when the caller sends a traceparent', async () => {
    const response = await fetch(`${server.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', traceparent: `00-${randomBytes(16).toString('hex')}-${randomBytes(8).toString('hex')}-01` },
      body: JSON.stringify({ query: '{ nope }' }),
    });
    const body = (await response.json()) as { errors: Array<{ extensions: Record<string, unknown> }> };
    expect(body.errors[0].extensions.code).toBeDefined();
    expect(body.errors[0].extensions).not.toHaveProperty('traceId');
  });

  it('should ready tasks with no traceparent', async () => {
    await startedWorkflow(server, server.adminToken, [{ name: 'untraced', queue: 'untraced-queue' }]);
    const task = await server.gqlOk('mutation { claimTask(queues: ["untraced-queue"]) { traceparent } }', {}, server.adminToken);
    expect(task.claimTask).toEqual({ traceparent: null });
  });
});

/**
 * OpenTelemetry: a real server process exports its traces over OTLP/HTTP to a real receiver
 * (test/support/otlp.ts decodes the protobuf or JSON it gets). One mutation's span tree is
 * asserted: the caller's traceparent → the HTTP request → the GraphQL operation → its SQL and
 * Redis calls; the trace id is in the log lines and in error responses. WebSocket and SSE
 * operations get spans of their own. A real worker process with an OpenTelemetry SDK of its own
 * continues the trace of the mutation that readied its task. Without an endpoint nothing of it
 * happens.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, connectSse } from '../support/live.js';
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
const SERVER = 2;
const CONSUMER = 5;

const TRACED_WORKER = fileURLToPath(new URL('../support/traced-worker.mjs', import.meta.url));

/** The worker fixture as its own process, exporting its spans to `receiver`; its JSON lines as they come. */
function spawnTracedWorker(server: ServerProcess, receiver: OtlpReceiver, queue: string) {
  const child = spawn(process.execPath, [TRACED_WORKER], {
    env: { ...process.env, URL: server.url, TOKEN: server.adminToken, QUEUE: queue, OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: Array<Record<string, any>> = [];
  let buffered = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => {
    buffered += chunk;
    for (let at = buffered.indexOf('\n'); at >= 0; at = buffered.indexOf('\n')) {
      lines.push(JSON.parse(buffered.slice(0, at)));
      buffered = buffered.slice(at + 1);
    }
  });
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const exited = new Promise((resolve) => child.once('exit', resolve));
  return {
    lines,
    stderr: () => stderr,
    stop: async () => {
      child.kill('SIGTERM');
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5_000))]);
      child.kill('SIGKILL');
    },
  };
}

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
      // The event feed's tails poll often: a poll that ran in a subscriber's trace would show soon.
      EVENT_POLL_INTERVAL_MS: '100',
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

  it('should continue the trace of the mutation that readied a task in the span of the worker process that runs it', async () => {
    const traceId = randomBytes(16).toString('hex');
    const created = await post(server, CREATE, { input: { name: 'worker-traced', tasks: [{ name: 'traced-step', queue: 'traced-worker-queue' }] } });
    await post(server, 'mutation TracedStart($id: ID!) { startWorkflow(id: $id) { id } }', { id: created.data.createWorkflow.id }, { traceparent: `00-${traceId}-${randomBytes(8).toString('hex')}-01` });
    const worker = spawnTracedWorker(server, receiver, 'traced-worker-queue');
    try {
      const handled = await waitFor('the handler to run', async () => worker.lines.find((line) => 'handled' in line) ?? (worker.lines.some((line) => 'error' in line) ? Promise.reject(new Error(JSON.stringify(worker.lines))) : null), 20_000)
        .catch((error) => Promise.reject(new Error(`${error.message}\nworker: ${JSON.stringify(worker.lines)} ${worker.stderr()}`)));
      // The task carries the span of the server operation that readied it.
      const [, taskTrace, readyingSpanId] = handled.taskTraceparent.split('-');
      expect(taskTrace).toBe(traceId);
      const readying = await waitFor('the readying span', async () => receiver.spans.find((span) => span.spanId === readyingSpanId));
      expect(readying).toMatchObject({ name: 'mutation TracedStart', traceId, resource: expect.objectContaining({ 'service.name': 'wf-traced' }) });

      // The worker's span for the attempt: a child of that span, exported by the worker's own SDK.
      const attempt = await waitFor('the worker\'s span', async () => receiver.spans.find((span) => span.scope === '@workflow-factory/sdk' && span.traceId === traceId));
      expect(attempt).toMatchObject({
        name: 'process traced-worker-queue',
        kind: CONSUMER,
        parentSpanId: readyingSpanId,
        attributes: expect.objectContaining({ 'messaging.destination.name': 'traced-worker-queue', 'messaging.message.id': handled.handled, 'workflow_factory.task.name': 'traced-step', 'workflow_factory.task.attempt': 1 }),
        resource: expect.objectContaining({ 'service.name': 'traced-worker' }),
      });
      // The handler runs inside it: its own spans (an instrumented call's) are the attempt's children.
      expect(handled.active).toEqual({ traceId, spanId: attempt.spanId });
      expect(handled.traceparent).toBe(`00-${traceId}-${attempt.spanId}-01`);
      const work = await waitFor('the handler\'s span', async () => receiver.spans.find((span) => span.name === 'handler work' && span.traceId === traceId));
      expect(work.parentSpanId).toBe(attempt.spanId);
      // The worker's report of the attempt goes on in the server, under the worker's span.
      const completion = await waitFor('the completion\'s span', async () => receiver.spans.find((span) => span.traceId === traceId && span.name === 'mutation WorkerCompleteAndClaimTasks'));
      const trace = receiver.spans.filter((span) => span.traceId === traceId);
      expect(ancestors(completion, trace).map((span) => span.spanId)).toContain(attempt.spanId);
      expect(ancestors(completion, trace).find((span) => span.kind === SERVER)).toMatchObject({ name: 'POST /graphql', parentSpanId: attempt.spanId });
    } finally {
      await worker.stop();
    }
  }, 40_000);

  it('should give each WebSocket operation a span of its own: a query, a subscription\'s start, each event it executes', async () => {
    const live = connect(server.url, { token: server.adminToken });
    try {
      const query = live.subscribe('query WsTraced { workflows(first: 1) { totalCount } }');
      await query.done();
      expect(query.errors).toEqual([]);
      const span = await waitFor('the query\'s span', async () => receiver.spans.find((s) => s.name === 'query WsTraced'));
      // A trace of its own (the socket's upgrade request is long over), named like the HTTP path's operations.
      expect(span).toMatchObject({ parentSpanId: '', kind: SERVER, scope: 'workflow-factory', attributes: { 'graphql.operation.type': 'query', 'graphql.operation.name': 'WsTraced', 'graphql.transport': 'websocket' } });
      const sql = await waitFor('its SQL', async () => {
        const trace = receiver.spans.filter((s) => s.traceId === span.traceId);
        return trace.find((s) => s.scope === PG_SCOPE && ancestors(s, trace).includes(span));
      });
      expect(sql).toBeDefined();

      const events = live.subscribe('subscription WsEvents { workflowEvents { kind workflowId } }');
      const start = await waitFor('the subscription\'s start', async () => receiver.spans.find((s) => s.name === 'subscription WsEvents'));
      expect(start).toMatchObject({ parentSpanId: '', kind: SERVER, attributes: { 'graphql.operation.type': 'subscription', 'graphql.operation.name': 'WsEvents', 'graphql.transport': 'websocket' } });
      // The feed's tail this start made polls on (every 100 ms) outside its trace.
      const inStart = () => receiver.spans.filter((s) => s.traceId === start.traceId).length;
      await new Promise((resolve) => setTimeout(resolve, 300));
      const settled = inStart();
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      expect(inStart()).toBe(settled);
      await post(server, CREATE, { input: { name: 'ws-traced', tasks: [{ name: 'one' }] } });
      await events.take(1);
      // Each event's execution: a trace of its own, linked to the subscription's start; not one per field.
      const event = await waitFor('an event\'s span', async () => receiver.spans.find((s) => s.name === 'subscription WsEvents event'));
      expect(event).toMatchObject({ parentSpanId: '', kind: SERVER, links: [{ traceId: start.traceId, spanId: start.spanId }], attributes: expect.objectContaining({ 'graphql.subscription.event': true, 'graphql.transport': 'websocket' }) });
      expect(event.traceId).not.toBe(start.traceId);
      expect(receiver.spans.filter((s) => s.traceId === event.traceId && s.scope === 'workflow-factory')).toEqual([event]);
      events.stop();
    } finally {
      await live.dispose();
    }
  });

  it('should give each SSE operation a span inside its stream\'s request span, continuing the caller\'s traceparent', async () => {
    const traceId = randomBytes(16).toString('hex');
    const callerSpan = randomBytes(8).toString('hex');
    const sse = connectSse(server.url, { token: server.adminToken, headers: { traceparent: `00-${traceId}-${callerSpan}-01` } });
    try {
      const events = sse.subscribe('subscription SseEvents { workflowEvents { kind workflowId } }');
      const start = await waitFor('the subscription\'s start', async () => receiver.spans.find((s) => s.name === 'subscription SseEvents'));
      expect(start).toMatchObject({ traceId, attributes: { 'graphql.operation.type': 'subscription', 'graphql.operation.name': 'SseEvents', 'graphql.transport': 'sse' } });
      await post(server, CREATE, { input: { name: 'sse-traced', tasks: [{ name: 'one' }] } });
      await events.take(1);
      const event = await waitFor('an event\'s span', async () => receiver.spans.find((s) => s.name === 'subscription SseEvents event'));
      expect(event).toMatchObject({ parentSpanId: '', links: [{ traceId, spanId: start.spanId }], attributes: expect.objectContaining({ 'graphql.transport': 'sse' }) });
      events.stop();
      // The stream's request span ends with the stream: the start is its child.
      const request = await waitFor('the stream\'s request span', async () => receiver.spans.find((s) => s.traceId === traceId && s.kind === SERVER));
      expect(request).toMatchObject({ name: 'POST /graphql/stream', parentSpanId: callerSpan, attributes: expect.objectContaining({ 'http.route': '/graphql/stream' }) });
      expect(start.parentSpanId).toBe(request.spanId);
    } finally {
      sse.dispose();
    }
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

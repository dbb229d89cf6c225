/**
 * GraphQL over Server-Sent Events at /graphql/stream, through graphql-sse's own client
 * (distinct connections mode) against the real server: the same sign-in, limits, audiences,
 * sharing and `after` resume as the WebSocket path; bad requests answered with a 4xx and
 * GraphQL errors; revocation, keep-alive comments and slow readers.
 */
import { request } from 'node:http';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SESSION_COOKIE } from '../../src/app/start.js';
import { expectHealthy, rawRequest } from '../support/hostile.js';
import { connect, connectSse, liveWorkflowEvents, until, workflowCursorsAfter, WORKFLOW_EVENTS, type LiveClient, type SseClient, type WorkflowEventData as Event } from '../support/live.js';
import { scrape } from '../support/prometheus.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { claim, newWorkflow } from '../support/workflows.js';

const EXECUTED = 'graphql_subscription_events_total{stage="executed"}';
const SENT = 'graphql_subscription_events_total{stage="sent"}';
const STREAMS = 'sse_streams';
const MAX_STREAMS = 3;

let server: TestServer;
let member: { id: string; email: string; token: string };
const clients: Array<SseClient | LiveClient> = [];
const sse = (options: Parameters<typeof connectSse>[1]) => {
  const client = connectSse(server.url, options);
  clients.push(client);
  return client;
};
const metric = async (name: string) => (await scrape(server.url)).get(name) ?? 0;
/** A stream request as sent by hand: `body` JSON-encoded unless a string. */
const stream = (options: { method?: string; body?: unknown; headers?: Record<string, string>; path?: string; token?: string | null }) =>
  rawRequest(server.url, {
    method: options.method ?? 'POST',
    path: options.path ?? '/graphql/stream',
    headers: {
      accept: 'text/event-stream',
      'content-type': 'application/json',
      ...(options.token === null ? {} : { authorization: `Bearer ${options.token ?? member.token}` }),
      ...options.headers,
    },
    body: options.body === undefined ? undefined : typeof options.body === 'string' ? options.body : JSON.stringify(options.body),
  });

beforeAll(async () => {
  server = await startTestServer({
    SSE_MAX_STREAMS: String(MAX_STREAMS),
    WS_KEEPALIVE_MS: '200',
    WS_MAX_BUFFERED_BYTES: '65536',
    WS_CREDENTIAL_RECHECK_MS: '600000',
  });
  member = await server.newUser('MEMBER');
});
// Streams count against their credential's SSE_MAX_STREAMS: each test ends its own.
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.dispose()));
  await until(async () => (await metric(STREAMS)) === 0, 'every stream to end');
});
afterAll(() => server?.stop());

describe('GraphQL over SSE', () => {
  describe('Subscribe', () => {
    it('should push the events of mutations as they happen, with their relations as they are now', async () => {
      const subscription = await liveWorkflowEvents(server.app, sse({ token: member.token }));
      const workflow = await newWorkflow(server, member.token, [{ name: 'only', queue: 'q-sse' }], 'over sse');
      await server.gqlOk('mutation ($id: ID!) { startWorkflow(id: $id) { id } }', { id: workflow.id }, member.token);
      const task = await claim(server, member.token, 'q-sse');
      await server.gqlOk('mutation ($id: ID!) { completeTask(id: $id) { id } }', { id: task!.id }, member.token);
      const events = await subscription.take(7);
      expect(events.map((e) => e.workflowEvents.kind)).toEqual(['CREATED', 'UPDATED', 'TASK_UPDATED', 'UPDATED', 'TASK_UPDATED', 'TASK_UPDATED', 'UPDATED']);
      expect(events[0].workflowEvents.workflow).toMatchObject({ id: workflow.id, name: 'over sse', status: 'DRAFT' });
      expect(events.at(-1)!.workflowEvents.workflow).toMatchObject({ status: 'SUCCEEDED', taskCounts: { succeeded: 1 } });
      expect(subscription.completed).toBe(false);
    });

    it('should accept the session cookie', async () => {
      const workflow = await newWorkflow(server, member.token, [], 'by cookie');
      const subscription = sse({ cookie: `${SESSION_COOKIE}=${encodeURIComponent(member.token)}` }).subscribe<Event>(WORKFLOW_EVENTS, { workflowId: workflow.id, after: '0' });
      const [created] = await subscription.take(1);
      expect(created.workflowEvents).toMatchObject({ kind: 'CREATED', workflow: { id: workflow.id, name: 'by cookie' } });
    });

    it('should deliver an event only to those allowed to see its workflow', async () => {
      const other = await server.newUser('MEMBER');
      const [mine, theirs, admin] = await Promise.all([member, other, { token: server.adminToken }].map((user) => liveWorkflowEvents(server.app, sse({ token: user.token }))));
      const made = await newWorkflow(server, other.token, [], 'theirs only');
      await admin.take(1);
      const [seen] = await theirs.take(1);
      expect(seen.workflowEvents.workflowId).toBe(made.id);
      const marker = await newWorkflow(server, member.token, [], 'marker');
      await until(() => mine.values.some((e) => e.workflowEvents.workflowId === marker.id), 'the marker event');
      expect(mine.values.map((e) => e.workflowEvents.workflowId)).toEqual([marker.id]);
    });

    it('should answer queries and mutations on a stream: one result, then complete', async () => {
      const client = sse({ token: member.token });
      const mutation = client.subscribe('mutation { createWorkflow(input: { name: "over sse" }) { name status } }');
      await mutation.done();
      expect(mutation.values).toEqual([{ createWorkflow: { name: 'over sse', status: 'DRAFT' } }]);
      const query = client.subscribe('{ viewer { email } }');
      await query.done();
      expect(query.values).toEqual([{ viewer: { email: member.email } }]);
    });

    it('should execute an event once for equal subscriptions of one audience, whichever transport they use', async () => {
      const query = 'subscription { metricSampled(names: ["sse-shared"]) { name value } }';
      const before = await metric('graphql_subscriptions');
      const over = [sse({ token: server.adminToken }), sse({ token: server.adminToken }), sse({ token: server.adminToken })].map((c) => c.subscribe(query));
      const ws = connect(server.url, { token: server.adminToken });
      clients.push(ws);
      over.push(ws.subscribe(query));
      await until(async () => (await metric('graphql_subscriptions')) === before + 4, 'four subscriptions to start');
      const [executed, sent] = [await metric(EXECUTED), await metric(SENT)];
      await server.gqlOk('mutation { recordMetrics(samples: [{ name: "sse-shared", service: "s", value: 1 }]) }', {}, server.adminToken);
      await Promise.all(over.map((s) => s.take(1)));
      await until(async () => (await metric(SENT)) >= sent + 4, 'four messages sent');
      expect([(await metric(EXECUTED)) - executed, (await metric(SENT)) - sent]).toEqual([1, 4]);
    });
  });

  describe('Refused', () => {
    it('should answer 401 UNAUTHENTICATED without a credential, or with one that does not check out', async () => {
      for (const client of [sse({}), sse({ token: 'not-a-token' }), sse({ cookie: `${SESSION_COOKIE}=stale` })]) {
        const subscription = client.subscribe(WORKFLOW_EVENTS);
        await subscription.done();
        expect(client.refusals.map((r) => [r.status, r.errors[0]?.extensions?.code])).toEqual([[401, 'UNAUTHENTICATED']]);
      }
    });

    it('should answer a bad request with a 4xx and GraphQL errors, never a stream', async () => {
      const other = await server.newUser('MEMBER');
      const theirs = await newWorkflow(server, other.token, [], 'not yours');
      const deep = `subscription { workflowEvents { ${'workflow { tasks { '.repeat(6)}id${' } }'.repeat(6)} } }`;
      const cases: Array<[string, Parameters<typeof stream>[0], number, string]> = [
        ['bad JSON', { body: '{"query": ' }, 400, 'BAD_REQUEST'],
        ['a JSON array', { body: [] }, 400, 'BAD_REQUEST'],
        ['no query', { body: { variables: {} } }, 400, 'BAD_REQUEST'],
        ['a query that is no string', { body: { query: 7 } }, 400, 'BAD_REQUEST'],
        ['variables that are no object', { body: { query: WORKFLOW_EVENTS, variables: [1] } }, 400, 'BAD_REQUEST'],
        ['a form body', { body: 'query=x', headers: { 'content-type': 'application/x-www-form-urlencoded' } }, 415, 'BAD_REQUEST'],
        ['no Accept: text/event-stream', { body: { query: WORKFLOW_EVENTS }, headers: { accept: 'application/json' } }, 406, 'BAD_REQUEST'],
        // As over the WebSocket: a document that does not parse is not a valid one.
        ['a syntax error', { body: { query: 'subscription {' } }, 400, 'GRAPHQL_VALIDATION_FAILED'],
        ['an unknown field', { body: { query: 'subscription { workflowEvents { nope } }' } }, 400, 'GRAPHQL_VALIDATION_FAILED'],
        ['an unknown operation', { body: { query: WORKFLOW_EVENTS, operationName: 'Nope' } }, 400, 'GRAPHQL_VALIDATION_FAILED'],
        ['a query too deep', { body: { query: deep } }, 400, 'BAD_USER_INPUT'],
        ['a cursor that is not one', { body: { query: WORKFLOW_EVENTS, variables: { after: 'yesterday' } } }, 400, 'BAD_USER_INPUT'],
        ["another member's workflow", { body: { query: WORKFLOW_EVENTS, variables: { workflowId: theirs.id } } }, 404, 'NOT_FOUND'],
        ['a NUL in a variable', { body: { query: WORKFLOW_EVENTS, variables: { after: 'a\u0000' } } }, 400, 'BAD_USER_INPUT'],
        ['a body past MAX_BODY_BYTES', { body: { query: `{ viewer { email } } #${'x'.repeat(1024 * 1024)}` } }, 413, 'PAYLOAD_TOO_LARGE'],
        ['a mutation over GET', { method: 'GET', path: `/graphql/stream?query=${encodeURIComponent('mutation { signOut }')}` }, 405, 'BAD_REQUEST'],
        ['variables over GET that are not JSON', { method: 'GET', path: `/graphql/stream?query=${encodeURIComponent(WORKFLOW_EVENTS)}&variables=%7B` }, 400, 'BAD_REQUEST'],
        ["graphql-sse's single connection mode (PUT)", { method: 'PUT', headers: { accept: 'text/plain' } }, 405, 'BAD_REQUEST'],
      ];
      for (const [what, request, status, code] of cases) {
        const response = await stream(request);
        expect([what, response.status, response.headers['content-type']]).toEqual([what, status, 'application/json; charset=utf-8']);
        expect([what, response.json().errors[0].extensions.code]).toEqual([what, code]);
      }
      // Refused requests hold no stream, and the server serves on.
      expect(await metric(STREAMS)).toBeGreaterThanOrEqual(0);
      await expectHealthy(server);
    });

    it('should refuse a credential more than SSE_MAX_STREAMS open streams at once (429), and accept one again once one ends', async () => {
      const user = await server.newUser('VIEWER');
      const open = Array.from({ length: MAX_STREAMS }, () => sse({ token: user.token }));
      const subscriptions = [];
      for (const client of open) subscriptions.push(await liveWorkflowEvents(server.app, client));
      const extra = sse({ token: user.token });
      await extra.subscribe(WORKFLOW_EVENTS).done();
      expect(extra.refusals).toEqual([{ status: 429, errors: [expect.objectContaining({ extensions: { code: 'RATE_LIMITED' } })] }]);
      expect(extra.refusals[0].errors[0].message).toMatch(/SSE_MAX_STREAMS/);
      // Another credential is not counted against this one.
      await liveWorkflowEvents(server.app, sse({ token: member.token }));
      open[0].dispose();
      await until(async () => (await stream({ body: { query: '{ viewer { email } }' }, token: user.token })).status === 200, 'a stream to be free again');
    });
  });

  describe('Resume', () => {
    it('should give a client that reconnects with its last cursor every later event exactly once, in order', async () => {
      const first = sse({ token: member.token });
      const head = await liveWorkflowEvents(server.app, first);
      await newWorkflow(server, member.token, [], 'before the break');
      const cursor = (await head.take(1))[0].workflowEvents.cursor;
      first.dispose();
      // Changes land while it is gone, and while the resumed stream replays.
      await Promise.all(Array.from({ length: 5 }, (_, i) => newWorkflow(server, member.token, [], `gone ${i}`)));
      const resumed = sse({ token: member.token }).subscribe<Event>(WORKFLOW_EVENTS, { after: cursor });
      await Promise.all(Array.from({ length: 5 }, (_, i) => newWorkflow(server, member.token, [], `back ${i}`)));
      const truth = await workflowCursorsAfter(server, member.id, cursor);
      expect(truth.length).toBeGreaterThanOrEqual(10);
      await resumed.take(truth.length);
      await new Promise((resolve) => setTimeout(resolve, 50)); // room for a duplicate to show up
      expect(resumed.values.map((e) => e.workflowEvents.cursor)).toEqual(truth);
    });
  });

  describe('Streams', () => {
    it('should send keep-alive comments while idle, and count the stream in sse_streams until it ends', async () => {
      const before = await metric(STREAMS);
      const controller = new AbortController();
      const response = await fetch(`${server.url}/graphql/stream`, {
        method: 'POST',
        signal: controller.signal,
        headers: { accept: 'text/event-stream', 'content-type': 'application/json', authorization: `Bearer ${member.token}` },
        body: JSON.stringify({ query: 'subscription { metricSampled(names: ["sse-idle"]) { value } }' }),
      });
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
      expect(response.headers.get('x-accel-buffering')).toBe('no');
      expect(await metric(STREAMS)).toBe(before + 1);
      const reader = response.body!.getReader();
      let text = '';
      // WS_KEEPALIVE_MS is 200 here: a few comments within a second, and nothing else.
      while ((text.match(/:\n\n/g) ?? []).length < 4) text += new TextDecoder().decode((await reader.read()).value);
      expect(text.replace(/:\n\n/g, '')).toBe('');
      controller.abort();
      await until(async () => (await metric(STREAMS)) === before, 'the stream to be counted out');
    });

    it('should end the streams of a session that signs out with UNAUTHENTICATED, and only those', async () => {
      const user = await server.newUser('MEMBER');
      const otherSession = await server.login(user.email, 'password-123');
      const signedOut = await liveWorkflowEvents(server.app, sse({ token: user.token }));
      const kept = await liveWorkflowEvents(server.app, sse({ token: otherSession }));
      await server.gqlOk('mutation { signOut }', {}, user.token);
      await signedOut.done(5_000);
      expect(signedOut.errors.map((e) => e.extensions?.code)).toEqual(['UNAUTHENTICATED']);
      expect(kept.completed).toBe(false);
    });

    it('should cut off a reader that stopped reading, and keep serving the others', async () => {
      const name = `slow-${'n'.repeat(190)}`;
      const service = 's'.repeat(200);
      const push = (metricName: string, count: number) =>
        server.gqlOk('mutation ($s: [MetricSampleInput!]!) { recordMetrics(samples: $s) }', { s: Array.from({ length: count }, (_, i) => ({ name: metricName, service, value: i })) }, server.adminToken);
      const probe = sse({ token: server.adminToken }).subscribe('subscription { metricSampled(names: ["sse-probe"]) { value } }');
      await until(async () => (await metric(STREAMS)) === 1, 'the probe stream to open');
      const before = 1;
      let received = 0;
      const slow = request(`${server.url}/graphql/stream`, {
        method: 'POST',
        headers: { accept: 'text/event-stream', 'content-type': 'application/json', authorization: `Bearer ${server.adminToken}` },
      });
      slow.on('error', () => undefined);
      slow.end(JSON.stringify({ query: `subscription { metricSampled(names: ["${name}"]) { name service value } }` }));
      const response = await new Promise<import('node:http').IncomingMessage>((resolve) => slow.once('response', resolve));
      response.on('data', (chunk: Buffer) => (received += chunk.length));
      response.on('error', () => undefined);
      await until(async () => {
        await push(name, 1);
        return received > 100;
      }, 'the slow reader to get a first sample');
      await until(async () => (await metric(STREAMS)) >= before + 1, 'the slow stream to count');
      // It stops reading: its socket's buffers fill, then the server's.
      response.pause();
      slow.socket?.pause();
      await until(async () => {
        await push(name, 2_000);
        return (await metric(STREAMS)) <= before;
      }, 'the slow reader to be cut off', 20_000);
      await until(async () => {
        await push('sse-probe', 1);
        return probe.values.length > 0;
      }, 'the reading client to get a probe');
      expect(probe.completed).toBe(false);
      slow.destroy();
    });
  });
});

describe('GraphQL over SSE: the rate budget', () => {
  let limited: TestServer;
  beforeAll(async () => {
    limited = await startTestServer({ RATE_LIMIT_PER_MINUTE: '3' });
  });
  afterAll(() => limited?.stop());

  it('should spend the token’s budget once per stream, and refuse past it with 429 and Retry-After', async () => {
    const user = await limited.newUser('MEMBER');
    const statuses: number[] = [];
    let last;
    for (let i = 0; i < 4; i++) {
      last = await rawRequest(limited.url, {
        path: '/graphql/stream',
        headers: { accept: 'text/event-stream', 'content-type': 'application/json', authorization: `Bearer ${user.token}` },
        body: JSON.stringify({ query: '{ viewer { email } }' }),
      });
      statuses.push(last.status);
    }
    expect(statuses).toEqual([200, 200, 200, 429]);
    expect(last!.json().errors[0].extensions.code).toBe('RATE_LIMITED');
    expect(Number(last!.headers['retry-after'])).toBeGreaterThan(0);
  });
});

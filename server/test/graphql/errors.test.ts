import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { captureLogs } from '../support/logs.js';
import { signedInSocket, until } from '../support/live.js';
import { scrape } from '../support/prometheus.js';
import { startHttpReceiver, type HttpReceiver } from '../support/receivers.js';
import { sqlOn } from '../support/database.js';
import { startTestServer, type TestServer } from '../support/server.js';

let server: TestServer;
let sentry: HttpReceiver;
const logs = captureLogs('info');

beforeAll(async () => {
  sentry = await startHttpReceiver();
  const dsn = `${sentry.url.replace('http://', 'http://publickey@')}/42`;
  server = await startTestServer({ SENTRY_DSN: dsn, LOG_LEVEL: 'info' }, undefined, logs.logger);
});
afterAll(async () => {
  await server?.stop();
  await sentry?.close();
});

const sql = (statement: string, params: unknown[] = []) => sqlOn(server.database.url, statement, params);

/** Exceptions Sentry received so far. */
const reported = () => sentry.received.filter((r) => r.path.startsWith('/api/42/envelope/') && r.body.includes('"exception"'));

function post(body: unknown, headers: Record<string, string> = {}) {
  return fetch(`${server.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${server.adminToken}`, ...headers },
    body: JSON.stringify(body),
  });
}

describe('internal errors', () => {
  it('should answer INTERNAL_SERVER_ERROR with a request id, never SQL or a stack, and keep serving', async () => {
    await sql('alter table workflows rename to workflows_moved');
    try {
      const response = await post({ query: '{ workflows { totalCount } }' }, { 'x-request-id': 'req-internal-1' });
      const text = await response.text();
      const body = JSON.parse(text);
      expect(body.errors[0]).toMatchObject({ message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR' } });
      expect(text).not.toMatch(/workflows_moved|relation|select|stack|\.ts:/i);
      // The caller's X-Request-Id is only logged beside it: the one answered is ours.
      expect(response.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
      // …and the answer names it, so a user can quote it to whoever reads the logs.
      expect(body.errors[0].extensions.requestId).toBe(response.headers.get('x-request-id'));
    } finally {
      await sql('alter table workflows_moved rename to workflows');
    }
    expect((await server.gqlOk('{ workflows { totalCount } }', {}, server.adminToken)).workflows.totalCount).toBe(0);
  });
});

describe('a subscription POSTed over HTTP (issue 11, defect 4)', () => {
  it('should answer 400 BAD_REQUEST pointing to the WebSocket, without an error log, a Sentry report or a server-error count', async () => {
    const errorsBefore = logs.errors().length;
    const reportsBefore = reported().length;
    const response = await post({ query: 'subscription OverHttp { healthChanged { status } }' });
    expect(response.status).toBe(400);
    const body = await response.json();
    expect(body.errors[0].extensions.code).toBe('BAD_REQUEST');
    expect(body.errors[0].message).toMatch(/WebSocket.*graphql-transport-ws/);
    const samples = await scrape(server.url);
    expect(samples.get('graphql_operation_duration_seconds_count{operation="OverHttp",type="subscription",outcome="client_error"}')).toBe(1);
    expect(samples.get('http_request_duration_seconds_count{route="/graphql",method="POST",status="400"}')).toBeGreaterThanOrEqual(1);
    expect([...samples.keys()].some((key) => key.includes('operation="OverHttp"') && key.includes('outcome="error"'))).toBe(false);
    // Give a wrongly sent report time to arrive.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(logs.errors().slice(errorsBefore)).toEqual([]);
    expect(reported().length).toBe(reportsBefore);
  });
});

describe('one classification for both transports (issue 11, defect 5)', () => {
  const CREATE = 'mutation ($input: CreateWorkflowInput!) { createWorkflow(input: $input) { id } }';
  const input = { name: 'nul\u0000here', tasks: [{ name: 'a' }] };

  it('should refuse a NUL character as BAD_USER_INPUT over HTTP and over WebSocket alike, logging no error', async () => {
    const errorsBefore = logs.errors().length;
    const reportsBefore = reported().length;
    const http = await post({ query: CREATE, variables: { input } });
    expect(http.status).toBe(400);
    expect((await http.json()).errors[0].extensions.code).toBe('BAD_USER_INPUT');

    const ws = await signedInSocket(server.url, server.adminToken);
    try {
      ws.socket.send(JSON.stringify({ id: 'nul', type: 'subscribe', payload: { query: CREATE, variables: { input } } }));
      await until(() => ws.received.some((m) => m.id === 'nul' && m.type !== 'next'), 'the operation to end');
      const errors = ws.received.filter((m) => m.id === 'nul').flatMap((m) => m.payload?.errors ?? m.payload ?? []);
      expect(errors.map((e: any) => e.extensions?.code)).toEqual(['BAD_USER_INPUT']);
    } finally {
      ws.socket.close();
    }
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(logs.errors().slice(errorsBefore)).toEqual([]);
    expect(reported().length).toBe(reportsBefore);
  });

  it('should give every WebSocket operation a request id of the server, refused ones too', async () => {
    const from = logs.lines.length;
    const ws = await signedInSocket(server.url, server.adminToken);
    try {
      ws.socket.send(JSON.stringify({ id: 'ok', type: 'subscribe', payload: { query: 'query WsId { viewer { id } }' } }));
      ws.socket.send(JSON.stringify({ id: 'bad', type: 'subscribe', payload: { query: 'query WsBroken { nope }' } }));
      await until(() => ws.received.filter((m) => m.type === 'complete' || m.type === 'error').length >= 2, 'both operations to end');
    } finally {
      ws.socket.close();
    }
    const logged = () => logs.lines.slice(from).filter((l) => l.msg === 'graphql operation' && l.transport === 'websocket');
    await until(() => logged().length >= 2, 'both operations to be logged');
    // Refused before its operation was identified, the broken one is anonymous (as over HTTP).
    expect(logged().map((l) => [l.operationName, l.outcome]).sort()).toEqual([['WsId', 'ok'], ['anonymous', 'client_error']]);
    const ids = logged().map((l) => l.requestId);
    for (const id of ids) expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(new Set(ids).size).toBe(2);
  });
});

describe('field suggestions (issue 11, defect 6)', () => {
  const TYPO = '{ workflw { id } }';

  it('should not suggest field names to an anonymous caller, over HTTP', async () => {
    const response = await fetch(`${server.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: TYPO }) });
    const body = await response.json();
    expect(body.errors[0].extensions.code).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(body.errors[0].message).toBe('Cannot query field "workflw" on type "Query".');
  });

  it('should not suggest enum values to an anonymous caller in variables', async () => {
    const body = await (await fetch(`${server.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: 'query ($s: [WorkflowStatus!]) { workflows(status: $s) { totalCount } }', variables: { s: 'RUNNNG' } }),
    })).json();
    expect(body.errors[0].extensions.code).toBe('BAD_USER_INPUT');
    expect(body.errors[0].message).not.toMatch(/Did you mean/);
  });

  it('should still suggest to a signed-in caller who may introspect', async () => {
    const body = await (await post({ query: TYPO })).json();
    expect(body.errors[0].message).toMatch(/Did you mean "workflow" or "workflows"\?/);
  });
});

describe('field suggestions with INTROSPECTION=0 (issue 11, defect 6)', () => {
  let closed: TestServer;
  beforeAll(async () => {
    closed = await startTestServer({ INTROSPECTION: '0' });
  });
  afterAll(() => closed?.stop());

  it('should suggest nothing to anyone, over HTTP and over WebSocket', async () => {
    const http = await closed.gql('{ workflw { id } }', {}, closed.adminToken);
    expect(http.errors?.[0].message).toBe('Cannot query field "workflw" on type "Query".');
    const ws = await signedInSocket(closed.url, closed.adminToken);
    try {
      ws.socket.send(JSON.stringify({ id: 't', type: 'subscribe', payload: { query: '{ workflw { id } }' } }));
      await until(() => ws.received.some((m) => m.id === 't'), 'the answer');
      expect(ws.received.find((m) => m.id === 't')!.payload[0].message).toBe('Cannot query field "workflw" on type "Query".');
    } finally {
      ws.socket.close();
    }
  });
});

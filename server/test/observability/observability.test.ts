import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect } from '../support/live.js';
import { scrape } from '../support/prometheus.js';
import { startHttpReceiver, type HttpReceiver } from '../support/receivers.js';
import { sqlOn } from '../support/database.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { waitFor } from '../support/wait.js';

let server: TestServer;
let sentry: HttpReceiver;
const logs: Array<Record<string, any>> = [];
const METRICS_TOKEN = 'scrape-token';

beforeAll(async () => {
  sentry = await startHttpReceiver();
  const sink = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n').filter(Boolean)) logs.push(JSON.parse(line));
      done();
    },
  });
  const dsn = `${sentry.url.replace('http://', 'http://publickey@')}/42`;
  server = await startTestServer({ SENTRY_DSN: dsn, METRICS_TOKEN, SAMPLE_INTERVAL_SECONDS: '1', LOG_LEVEL: 'info' }, undefined, pino({ level: 'info' }, sink));
});
afterAll(async () => {
  await server?.stop();
  await sentry?.close();
});

const sql = (statement: string, params: unknown[] = []) => sqlOn(server.database.url, statement, params);

/** The parsed envelopes (header line, item header, item) Sentry received so far. */
function envelopes(): Array<Record<string, any>> {
  return sentry.received
    .filter((r) => r.path.startsWith('/api/42/envelope/'))
    .map((r) => r.body.split('\n').filter(Boolean).map((line) => JSON.parse(line)))
    .map(([, , event]) => event)
    .filter((event) => event?.exception);
}

async function internalError(requestId: string) {
  await sql('alter table alert_rules rename to alert_rules_moved');
  try {
    const response = await fetch(`${server.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${server.adminToken}`, 'x-request-id': requestId },
      body: JSON.stringify({ query: 'query BrokenRules { alertRules { id } }' }),
    });
    const body = await response.json();
    expect(body.errors[0].extensions.code).toBe('INTERNAL_SERVER_ERROR');
    return response.headers.get('x-request-id')!;
  } finally {
    await sql('alter table alert_rules_moved rename to alert_rules');
  }
}

describe('Sentry', () => {
  it('should report an internal error with operation name and request id, and no client error', async () => {
    const bad = await server.gql('mutation BadPush { recordMetrics(samples: [{ name: "", service: "s", value: 1 }]) }', {}, server.adminToken);
    expect(bad.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    expect((await server.gql('{ alertRules { id } }')).errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');

    const requestId = await internalError('req-sentry-1');
    const [event] = await waitFor('an envelope', async () => (envelopes().length ? envelopes() : null));
    expect(event.tags).toMatchObject({ operationName: 'BrokenRules', requestId, clientRequestId: 'req-sentry-1' });
    expect(JSON.stringify(event.exception)).toMatch(/alert_rules/);
    // Give a wrongly reported client error time to arrive too.
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(envelopes()).toHaveLength(1);
  });

  it('should report a background job that fails', async () => {
    const before = envelopes().length;
    await sql('alter table heartbeats rename to heartbeats_moved');
    try {
      const event = await waitFor('an envelope from the sampler', async () =>
        envelopes().slice(before).find((e) => e.tags?.operationName === 'job:sampler'));
      expect(JSON.stringify(event.exception)).toMatch(/heartbeats/);
    } finally {
      await sql('alter table heartbeats_moved rename to heartbeats');
    }
  });

  it('should report an internal error of a WebSocket operation', async () => {
    const before = envelopes().length;
    await sql('alter table alert_rules rename to alert_rules_moved');
    const client = connect(server.url, { token: server.adminToken });
    try {
      const rules = client.subscribe('query { alertRules { id } }');
      await rules.done();
      expect(rules.errors[0].extensions?.code).toBe('INTERNAL_SERVER_ERROR');
      const event = await waitFor('an envelope from the socket', async () =>
        envelopes().slice(before).find((e) => e.tags?.operationName === 'websocket'));
      expect(JSON.stringify(event.exception)).toMatch(/alert_rules/);
    } finally {
      await client.dispose();
      await sql('alter table alert_rules_moved rename to alert_rules');
    }
  });

  it('should count internal errors in the sampled error rate', async () => {
    const since = new Date();
    await internalError('req-rate-1');
    const row = await waitFor('a non-zero error rate', async () => {
      const [found] = await server.app.orm.em.fork().execute(
        `select value from metrics where name = 'error_rate_percent' and time > ? and value > 0 limit 1`, [since]);
      return found;
    });
    expect(row.value).toBeGreaterThan(0);
  });
});

describe('GET /api/metrics', () => {
  it('should need the token when METRICS_TOKEN is set', async () => {
    expect((await fetch(`${server.url}/api/metrics`)).status).toBe(401);
    expect((await fetch(`${server.url}/api/metrics`, { headers: { authorization: 'Bearer wrong' } })).status).toBe(401);
  });

  it('should serve parseable Prometheus text with HTTP, GraphQL, WebSocket, bus and pool metrics', async () => {
    await server.gqlOk('query ScrapeMe { viewer { id } }', {}, server.adminToken);
    const samples = await scrape(server.url, METRICS_TOKEN);
    const find = (prefix: string) => [...samples.keys()].find((key) => key.startsWith(prefix));
    expect(find('graphql_operation_duration_seconds_count{operation="ScrapeMe",type="query",outcome="ok"}')).toBeTruthy();
    expect(find('http_request_duration_seconds_count{route="/graphql",method="POST",status="200"}')).toBeTruthy();
    expect(samples.get('websocket_connections')).toBe(0);
    expect(samples.get('db_pool_connections{state="max"}')).toBe(10);
    expect(samples.get('events_published_total{topic="metrics"}')).toBeGreaterThan(0);
    expect(find('process_resident_memory_bytes')).toBeTruthy();
  });
});

describe('WebSocket operations in the GraphQL histogram', () => {
  it('should time queries, mutations and each executed subscription event over the socket', async () => {
    const client = connect(server.url, { token: server.adminToken });
    try {
      const query = client.subscribe('query WsProbe { viewer { id } }');
      const live = client.subscribe('subscription WsLive { metricSampled(names: ["ws_probe"]) { value } }');
      await query.done();
      await waitFor('an event on the live subscription', async () => {
        await server.gqlOk('mutation ($s: [MetricSampleInput!]!) { recordMetrics(samples: $s) }', { s: [{ name: 'ws_probe', service: 'test', value: 1 }] }, server.adminToken);
        return live.values.length > 0;
      });
      const bad = client.subscribe('query WsBad { workflow(id: "nope") { id } }');
      await bad.done();
      const samples = await scrape(server.url, METRICS_TOKEN);
      expect(samples.get('graphql_operation_duration_seconds_count{operation="WsProbe",type="query",outcome="ok"}')).toBe(1);
      expect(samples.get('graphql_operation_duration_seconds_count{operation="WsLive",type="subscription",outcome="ok"}')).toBeGreaterThanOrEqual(1);
      expect(samples.get('graphql_operation_duration_seconds_count{operation="WsBad",type="query",outcome="client_error"}')).toBe(1);
    } finally {
      await client.dispose();
    }
  });
});

describe('logs', () => {
  it('should log each GraphQL operation as JSON with request id, operation name and duration', async () => {
    await fetch(`${server.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${server.adminToken}`, 'x-request-id': 'req-log-1' },
      body: JSON.stringify({ query: 'query LogMe { viewer { id } }' }),
    });
    const line = await waitFor('the log line', async () => logs.find((l) => l.clientRequestId === 'req-log-1'));
    expect(line).toMatchObject({ level: 30, operationName: 'LogMe', outcome: 'ok', msg: 'graphql operation', requestId: expect.stringMatching(/^[0-9a-f-]{36}$/) });
    expect(line.durationMs).toBeGreaterThan(0);
  });

  it('should account each request on its own when callers send the same X-Request-Id (issue 11, defect 8)', async () => {
    const PAIRS = 40;
    const ask = (query: string) => fetch(`${server.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${server.adminToken}`, 'x-request-id': 'same-id' },
      body: JSON.stringify({ query }),
    });
    const before = await scrape(server.url, METRICS_TOKEN);
    const count = (samples: Map<string, number>, operation: string, outcome: string) =>
      samples.get(`graphql_operation_duration_seconds_count{operation="${operation}",type="query",outcome="${outcome}"}`) ?? 0;
    await sql('alter table alert_rules rename to alert_rules_moved');
    let responses: Response[];
    try {
      // Interleaved: each fine request runs while failing ones with its id are in flight.
      responses = await Promise.all(Array.from({ length: PAIRS }, (_, i) => [ask('query BrokenRules { alertRules { id } }'), ask(`query Fine${i % 2} { viewer { id } }`)]).flat());
    } finally {
      await sql('alter table alert_rules_moved rename to alert_rules');
    }
    const ids = responses.map((response) => response.headers.get('x-request-id'));
    expect(new Set(ids).size).toBe(PAIRS * 2);
    const after = await scrape(server.url, METRICS_TOKEN);
    expect(count(after, 'BrokenRules', 'error') - count(before, 'BrokenRules', 'error')).toBe(PAIRS);
    for (const name of ['Fine0', 'Fine1']) {
      expect(count(after, name, 'ok') - count(before, name, 'ok'), name).toBe(PAIRS / 2);
      expect(count(after, name, 'error'), name).toBe(0);
    }
    const lines = logs.filter((l) => l.clientRequestId === 'same-id' && l.msg === 'graphql operation');
    expect(new Set(lines.map((l) => l.requestId))).toEqual(new Set(ids));
  });
});

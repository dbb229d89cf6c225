/**
 * Issue 11, defect 7: labels fed from client input stay a bounded set, whatever names and
 * methods clients send, so no client can grow the metrics registry without end.
 */
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dashboardOperationNames, LEARNED_OPERATIONS_CAP } from '../../src/observability/operation-labels.js';
import { scrape } from '../support/prometheus.js';
import { startTestServer, type TestServer } from '../support/server.js';

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server?.stop());

const operationLabels = (samples: Map<string, number>) =>
  new Set([...samples.keys()].map((key) => /^graphql_operation_duration_seconds_count\{operation="([^"]*)"/.exec(key)?.[1]).filter((name) => name !== undefined));

async function named(count: number, prefix: string, token?: string) {
  for (let i = 0; i < count; i += 25) {
    await Promise.all(Array.from({ length: Math.min(25, count - i) }, (_, j) => server.gql(`query ${prefix}${i + j} { health { status } }`, {}, token)));
  }
}

describe('the operation label', () => {
  it('should know the dashboard operations from its documents', async () => {
    const known = await dashboardOperationNames();
    expect(known).toEqual(expect.arrayContaining(['WorkflowList', 'WorkflowDetail', 'HealthChanged', 'Viewer']));
    expect(known.length).toBeGreaterThan(20);
  });

  it('should stay bounded under many distinct names: anonymous ones are other, signed-in ones are kept up to the cap', async () => {
    const known = await dashboardOperationNames();
    await server.gqlOk('query Health { health { status } }');
    await named(300, 'Anon');
    await named(LEARNED_OPERATIONS_CAP + 50, 'Signed', server.adminToken);
    const labels = operationLabels(await scrape(server.url));
    expect(labels.has('Health')).toBe(true);
    expect(labels.has('other')).toBe(true);
    expect([...labels].filter((label) => label.startsWith('Anon'))).toEqual([]);
    // startTestServer's own sign-in (the login mutation, unnamed) may take one more.
    expect([...labels].filter((label) => label.startsWith('Signed')).length).toBe(LEARNED_OPERATIONS_CAP);
    expect(labels.size).toBeLessThanOrEqual(known.length + LEARNED_OPERATIONS_CAP + 2);
  });
});

describe('the method label', () => {
  it('should label a method the server does not answer as other', async () => {
    const status = await new Promise<number>((resolve, reject) => {
      http.request(`${server.url}/graphql`, { method: 'PROPFIND' }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      }).on('error', reject).end();
    });
    expect(status).toBeLessThan(500);
    const samples = await scrape(server.url);
    expect([...samples.keys()].some((key) => key.startsWith('http_request_duration_seconds_count{route="/graphql",method="other"'))).toBe(true);
    expect([...samples.keys()].some((key) => key.includes('method="PROPFIND"'))).toBe(false);
  });
});

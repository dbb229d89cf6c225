import { serverAudits } from 'graphql-http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/server.js';

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server?.stop());

describe('GraphQL over HTTP audits', () => {
  it('should pass every MUST audit of graphql-http', async () => {
    // Several audits introspect (`__type`), which only signed-in callers may.
    const signedIn = (input: RequestInfo | URL, init: RequestInit = {}) =>
      fetch(input, { ...init, headers: { ...(init.headers as Record<string, string>), authorization: `Bearer ${server.adminToken}` } });
    const audits = serverAudits({ url: () => `${server.url}/graphql`, fetchFn: signedIn });
    const failures: string[] = [];
    for (const audit of audits) {
      const result = await audit.fn();
      if (audit.name.startsWith('MUST') && result.status !== 'ok') failures.push(`${audit.name}: ${result.reason}`);
    }
    expect(failures).toEqual([]);
  });
});

import { Client, fetchExchange } from '@urql/core';
import { serverAudits } from 'graphql-http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rawRequest } from '../support/hostile.js';
import { ADMIN, startTestServer, type TestServer } from '../support/server.js';

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

describe('GET queries (issue 11, defect 12)', () => {
  const get = (search: string, headers: Record<string, string>) => rawRequest(server.url, { method: 'GET', path: `/graphql?${search}`, headers });
  const VIEWER = `query=${encodeURIComponent('{ viewer { email } }')}`;

  it('should answer a bearer caller\'s plain GET, as curl -G sends it', async () => {
    const response = await get(VIEWER, { authorization: `Bearer ${server.adminToken}`, accept: '*/*' });
    expect(response.status).toBe(200);
    expect(response.json()).toEqual({ data: { viewer: { email: ADMIN.email } } });
  });

  it('should answer queries from urql\'s default client (GET within URL limits) with a token', async () => {
    const methods: string[] = [];
    const client = new Client({
      url: `${server.url}/graphql`,
      exchanges: [fetchExchange],
      fetchOptions: { headers: { authorization: `Bearer ${server.adminToken}` } },
      fetch: (input, init) => (methods.push(init?.method ?? 'GET'), fetch(input, init)),
    });
    const result = await client.query('query Viewer($n: Int) { viewer { email } workflows(first: $n) { totalCount } }', { n: 5 }).toPromise();
    expect(result.error).toBeUndefined();
    expect(result.data).toEqual({ viewer: { email: ADMIN.email }, workflows: { totalCount: expect.any(Number) } });
    expect(methods).toEqual(['GET']);
  });

  it('should still refuse a simple GET signed in by cookie, or anonymous, as a possible CSRF', async () => {
    const cookie = `wf_session=${await server.login(ADMIN.email, ADMIN.password)}`;
    for (const headers of [{ cookie }, {}] as Array<Record<string, string>>) {
      const response = await get(VIEWER, headers);
      expect(response.status).toBe(400);
      expect(response.text).toMatch(/Cross-Site Request Forgery/);
    }
    // With the preflight header a browser page can only send same-site, the cookie works.
    expect((await get(VIEWER, { cookie, 'apollo-require-preflight': '1' })).json()).toEqual({ data: { viewer: { email: ADMIN.email } } });
  });

  it('should refuse a mutation over GET with 405 and Allow: POST, even from a bearer caller', async () => {
    const response = await get(`query=${encodeURIComponent('mutation { signOut }')}`, { authorization: `Bearer ${server.adminToken}` });
    expect(response.status).toBe(405);
    expect(response.headers.allow).toBe('POST');
    expect((await server.gqlOk('{ viewer { email } }', {}, server.adminToken)).viewer.email).toBe(ADMIN.email);
  });
});

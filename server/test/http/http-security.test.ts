import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { codeOf, expectHealthy, postGraphQL, rawRequest } from '../support/hostile.js';
import { startTestServer, type TestServer } from '../support/server.js';

let server: TestServer;
let small: TestServer;
const ALLOWED = 'https://dashboard.example';

beforeAll(async () => {
  server = await startTestServer({ CORS_ORIGINS: `${ALLOWED}, https://other.example` });
  small = await startTestServer({ MAX_BODY_BYTES: '2048', MAX_VARIABLES_BYTES: '100' }, server.database);
});
afterAll(async () => {
  await small?.stop();
  await server?.stop();
});

describe('request limits', () => {
  it('should refuse a body over 1 MB with 413, whether declared or streamed', async () => {
    const big = JSON.stringify({ query: '{ viewer { id } }', variables: { pad: 'x'.repeat(1024 * 1024) } });
    const declared = await rawRequest(server.url, { headers: { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(big)) }, body: big });
    expect(declared.status).toBe(413);
    expect(declared.json().errors[0].message).toContain('MAX_BODY_BYTES');
    const chunked = await rawRequest(server.url, { headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' }, body: big });
    expect(chunked.status).toBe(413);
    await expectHealthy(server);
  });

  it('should take the body limit from MAX_BODY_BYTES', async () => {
    const query = `{ viewer { id } } # ${'x'.repeat(2100)}`;
    expect((await postGraphQL(small, { query }, small.adminToken)).status).toBe(413);
    expect((await postGraphQL(small, { query: '{ viewer { id } }' }, small.adminToken)).status).toBe(200);
  });

  it('should refuse variables over MAX_VARIABLES_BYTES, also when nested too deep to serialize', async () => {
    const response = await postGraphQL(small, { query: 'query ($s: String) { viewer { id } }', variables: { s: 'y'.repeat(200) } }, small.adminToken);
    expect(response.status).toBe(413);
    expect(codeOf(response.json())).toBe('BAD_USER_INPUT');
    expect(response.json().errors[0].message).toContain('MAX_VARIABLES_BYTES');
    const deep = `{"query":"query ($s: String) { viewer { id } }","variables":{"s":${'['.repeat(100_000)}${']'.repeat(100_000)}}}`;
    const refused = await postGraphQL(server, deep, server.adminToken);
    expect(refused.status).toBeGreaterThanOrEqual(400);
    expect(refused.status).toBeLessThan(500);
    await expectHealthy(server);
  });

  it('should refuse batched requests', async () => {
    const response = await postGraphQL(server, [{ query: '{ viewer { id } }' }, { query: '{ viewer { id } }' }], server.adminToken);
    expect(response.status).toBe(400);
    expect(response.text).toMatch(/batch/i);
    await expectHealthy(server);
  });

  it('should cap first at 100', async () => {
    const response = await postGraphQL(server, { query: '{ workflows(first: 101) { totalCount } }' }, server.adminToken);
    expect(codeOf(response.json())).toBe('BAD_USER_INPUT');
    expect(response.json().errors[0].message).toContain('100');
  });

  it('should answer malformed JSON with 400', async () => {
    const response = await postGraphQL(server, '{"query": "{ viewer { id } }"', server.adminToken);
    expect(response.status).toBe(400);
    expect(codeOf(response.json())).toBe('BAD_REQUEST');
  });
});

describe('CSRF prevention', () => {
  it('should refuse a simple cross-site POST (text/plain) and a GET without a preflight header', async () => {
    const form = await rawRequest(server.url, { headers: { 'content-type': 'text/plain' }, body: JSON.stringify({ query: 'mutation { signOut }' }) });
    expect(form.status).toBe(400);
    expect(form.text).toMatch(/CSRF/i);
    const get = await rawRequest(server.url, { method: 'GET', path: '/graphql?query=%7Bviewer%7Bid%7D%7D' });
    expect(get.status).toBe(400);
    const preflighted = await rawRequest(server.url, { method: 'GET', path: '/graphql?query=%7B__typename%7D', headers: { 'apollo-require-preflight': '1' } });
    expect(preflighted.status).toBe(200);
  });

  it('should refuse mutations over GET', async () => {
    const response = await rawRequest(server.url, { method: 'GET', path: '/graphql?query=mutation%7BsignOut%7D', headers: { 'apollo-require-preflight': '1' } });
    expect(response.status).toBe(405);
  });
});

describe('CORS', () => {
  it('should answer a preflight from an allowed origin', async () => {
    const response = await rawRequest(server.url, {
      method: 'OPTIONS',
      headers: { origin: ALLOWED, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type, authorization' },
    });
    expect(response.status).toBe(204);
    expect(response.headers['access-control-allow-origin']).toBe(ALLOWED);
    expect(response.headers['access-control-allow-credentials']).toBe('true');
    expect(String(response.headers['access-control-allow-headers'])).toContain('authorization');
  });

  it('should refuse a preflight from any other origin and give its requests no CORS headers', async () => {
    const preflight = await rawRequest(server.url, { method: 'OPTIONS', headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' } });
    expect(preflight.status).toBe(403);
    expect(preflight.headers['access-control-allow-origin']).toBeUndefined();
    const post = await postGraphQL(server, { query: '{ __typename }' }, undefined, { origin: 'https://evil.example' });
    expect(post.headers['access-control-allow-origin']).toBeUndefined();
    const allowed = await postGraphQL(server, { query: '{ __typename }' }, undefined, { origin: ALLOWED });
    expect(allowed.headers['access-control-allow-origin']).toBe(ALLOWED);
    expect(allowed.headers.vary).toContain('Origin');
  });

  it('should allow no cross-origin caller when CORS_ORIGINS is empty', async () => {
    const preflight = await rawRequest(small.url, { method: 'OPTIONS', headers: { origin: ALLOWED, 'access-control-request-method': 'POST' } });
    expect(preflight.status).toBe(403);
  });
});

describe('security headers', () => {
  it('should send a strict CSP with a fresh nonce on the explorer, and load its assets', async () => {
    const page = await rawRequest(server.url, { method: 'GET', headers: { accept: 'text/html' } });
    expect(page.status).toBe(200);
    const csp = String(page.headers['content-security-policy']);
    const nonce = /'nonce-([^']+)'/.exec(csp)?.[1];
    expect(nonce).toBeTruthy();
    expect(page.text).toContain(`nonce="${nonce}"`);
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toContain("default-src 'self'");
    expect(csp).not.toMatch(/script-src[^;]*unsafe-inline/);
    expect(page.headers['x-content-type-options']).toBe('nosniff');
    expect(page.headers['x-frame-options']).toBe('DENY');
    expect(page.headers['referrer-policy']).toBe('no-referrer');
    const again = await rawRequest(server.url, { method: 'GET', headers: { accept: 'text/html' } });
    expect(again.headers['content-security-policy']).not.toBe(csp);
    const base = new URL(/<base href="([^"]+)"/.exec(page.text)![1], server.url);
    for (const asset of page.text.matchAll(/src="([^"]+\.js)"/g)) {
      const response = await rawRequest(server.url, { method: 'GET', path: new URL(asset[1], base).pathname });
      expect(response.status).toBe(200);
      expect(response.headers['x-content-type-options']).toBe('nosniff');
    }
  });

  it('should not reflect a forged Host header into the explorer page or its CSP', async () => {
    const page = await rawRequest(server.url, { method: 'GET', headers: { accept: 'text/html', host: 'evil`${alert(1)}`; script-src *' } });
    expect(page.status).toBe(200);
    expect(page.text).toContain('ws://localhost/graphql');
    expect(page.text).not.toContain('alert(1)');
    expect(String(page.headers['content-security-policy'])).not.toContain('script-src *');
  });

  it('should send the headers on API responses too', async () => {
    for (const path of ['/api/health', '/graphql', '/nowhere']) {
      const response = await rawRequest(server.url, { method: path === '/graphql' ? 'POST' : 'GET', path, headers: { 'content-type': 'application/json' }, body: path === '/graphql' ? '{"query":"{ __typename }"}' : undefined });
      expect(response.headers['x-content-type-options']).toBe('nosniff');
      expect(String(response.headers['content-security-policy'])).toContain("frame-ancestors 'none'");
    }
  });
});

describe('error masking', () => {
  it('should refuse NUL characters, which PostgreSQL cannot store, with BAD_USER_INPUT and no SQL or stack', async () => {
    for (const [query, variables] of [
      ['mutation ($n: String!) { createWorkflow(input: { name: $n }) { id } }', { n: 'a\u0000b' }],
      ['query ($s: String) { workflows(search: $s) { totalCount } }', { s: '\u0000' }],
      ['{ workflows(search: "\\u0000") { totalCount } }', {}],
    ] as const) {
      const response = await postGraphQL(server, { query, variables }, server.adminToken);
      const body = response.json();
      expect(codeOf(body)).toBe('BAD_USER_INPUT');
      expect(response.text).not.toMatch(/select|insert|postgres|\bat \w|\.ts:\d/i);
      expect(body.errors[0].extensions.stacktrace).toBeUndefined();
    }
    const get = await rawRequest(server.url, { method: 'GET', path: `/graphql?query=${encodeURIComponent('{ workflows(search: "\\u0000") { totalCount } }')}`, headers: { 'apollo-require-preflight': '1', authorization: `Bearer ${server.adminToken}` } });
    expect(get.status).toBe(400);
    expect(codeOf(get.json())).toBe('BAD_USER_INPUT');
    await expectHealthy(server);
  });

  it('should answer variables with too many errors to list with BAD_USER_INPUT', async () => {
    const tasks = Array.from({ length: 60 }, (_, i) => ({ name: `t${i}`, maxAttempts: 1.5 }));
    const response = await postGraphQL(server, { query: 'mutation ($input: CreateWorkflowInput!) { createWorkflow(input: $input) { id } }', variables: { input: { name: 'w', tasks } } }, server.adminToken);
    expect(response.status).toBeLessThan(500);
    expect(codeOf(response.json())).toBe('BAD_USER_INPUT');
    expect(response.text).not.toMatch(/node_modules|\.js:\d/);
  });

  it('should answer a value PostgreSQL refuses (a cursor time it cannot read) with BAD_USER_INPUT', async () => {
    const cursor = Buffer.from(JSON.stringify(['workflows', '1', '00000000-0000-0000-0000-000000000000'])).toString('base64url');
    const response = await postGraphQL(server, { query: 'query ($c: String) { workflows(after: $c) { totalCount } }', variables: { c: cursor } }, server.adminToken);
    expect(codeOf(response.json())).toBe('BAD_USER_INPUT');
    expect(response.text).not.toMatch(/select|timestamptz|postgres/i);
  });
});

import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN, startTestServer, type TestServer } from '../support/server.js';

let server: TestServer;
let emptyBuild: string;

beforeAll(async () => {
  emptyBuild = await mkdtemp(path.join(os.tmpdir(), 'wf-no-build-'));
  server = await startTestServer({ CLIENT_BUILD_DIR: emptyBuild });
});
afterAll(async () => {
  await server?.stop();
  await rm(emptyBuild, { recursive: true, force: true });
});

const session = (method: string, body?: unknown, headers: Record<string, string> = {}) =>
  fetch(`${server.url}/api/session`, {
    method,
    headers: { 'content-type': 'application/json', ...headers },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });

const viewerWithCookie = async (cookie: string) => {
  const response = await fetch(`${server.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', cookie },
    body: JSON.stringify({ query: '{ viewer { email } }' }),
  });
  const body = (await response.json()) as { data?: { viewer: { email: string } | null }; errors?: Array<{ extensions: { code: string } }> };
  return response.status === 401 ? body.errors![0].extensions.code : body.data!.viewer;
};

describe('/api/session', () => {
  it('should sign in with an HttpOnly, SameSite=Strict cookie that GraphQL accepts', async () => {
    const response = await session('POST', { email: ADMIN.email, password: ADMIN.password });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ user: { email: ADMIN.email, name: 'Administrator', role: 'ADMIN' } });
    const setCookie = response.headers.get('set-cookie')!;
    expect(setCookie).toMatch(/^wf_session=[^;]+; Path=\/; HttpOnly; SameSite=Strict; Max-Age=\d+$/);
    const cookie = setCookie.split(';')[0];
    expect(await viewerWithCookie(cookie)).toEqual({ email: ADMIN.email });
  });

  it('should revoke the session and clear the cookie on DELETE', async () => {
    const cookie = (await session('POST', { email: ADMIN.email, password: ADMIN.password })).headers.get('set-cookie')!.split(';')[0];
    const response = await session('DELETE', undefined, { cookie });
    expect(response.status).toBe(200);
    expect(response.headers.get('set-cookie')).toMatch(/^wf_session=; .*Max-Age=0/);
    // The old cookie, replayed, is refused rather than taken for anonymous.
    expect(await viewerWithCookie(cookie)).toBe('UNAUTHENTICATED');
  });

  it('should refuse a wrong password with 401 and no cookie', async () => {
    const response = await session('POST', { email: ADMIN.email, password: 'not-the-password' });
    expect(response.status).toBe(401);
    expect(response.headers.get('set-cookie')).toBeNull();
    expect(await response.json()).toEqual({ error: { code: 'UNAUTHENTICATED', message: 'Invalid email or password' } });
  });

  it('should refuse bodies that are not JSON credentials', async () => {
    for (const [body, headers] of [
      ['email=a&password=b', { 'content-type': 'application/x-www-form-urlencoded' }],
      ['{not json', {}],
      [{ email: 1, password: [] }, {}],
      ['null', {}],
    ] as const) {
      const response = await session('POST', body, headers);
      expect(response.status).toBe(400);
      expect(((await response.json()) as { error: { code: string } }).error.code).toBe('BAD_USER_INPUT');
    }
  });

  it('should answer other methods with 405', async () => {
    const response = await fetch(`${server.url}/api/session`);
    expect(response.status).toBe(405);
    expect(response.headers.get('allow')).toBe('POST, DELETE');
  });
});

describe('dashboard routes without a build', () => {
  it('should answer 404 saying how to build the dashboard, and keep the API working', async () => {
    const page = await fetch(`${server.url}/workflows`);
    expect(page.status).toBe(404);
    expect(((await page.json()) as { hint: string }).hint).toContain('npm run build -w client');
    expect((await fetch(`${server.url}/api/nope`)).status).toBe(404);
    expect((await fetch(`${server.url}/api/health`)).status).toBe(200);
  });
});

import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { codeOf, expectHealthy, postGraphQL, rawRequest, type RawResponse } from '../support/hostile.js';
import { connect } from '../support/live.js';
import { freePort } from '../support/ports.js';
import { describeRedis, redisEnv, redisUrl, uniqueRedisPrefix } from '../support/redis.js';
import { startTestServer, type TestServer } from '../support/server.js';

// The helpers sign users in anonymously from 127.0.0.1, which spends that address's budget too.
const PER_MINUTE = 20;
let server: TestServer;

beforeAll(async () => {
  // One trusted proxy: each test speaks for its own client addresses through X-Forwarded-For.
  server = await startTestServer({ RATE_LIMIT_PER_MINUTE: String(PER_MINUTE), LOGIN_ATTEMPTS_PER_15_MIN: '3', TRUST_PROXY_HOPS: '1' });
});
afterAll(() => server?.stop());

let addresses = 0;
const newIp = () => `198.51.100.${++addresses}`;

function ask(target: TestServer, ip: string, token?: string, query = '{ __typename }'): Promise<RawResponse> {
  return postGraphQL(target, { query }, token, { 'x-forwarded-for': ip });
}

function expectRateLimited(response: RawResponse): void {
  expect(response.status).toBe(429);
  const retryAfter = Number(response.headers['retry-after']);
  expect(retryAfter).toBeGreaterThan(0);
  expect(retryAfter).toBeLessThanOrEqual(60);
  expect(codeOf(response.json())).toBe('RATE_LIMITED');
  expect(response.json().errors[0].extensions.retryAfter).toBe(retryAfter);
}

async function spend(count: number, send: () => Promise<RawResponse>): Promise<void> {
  for (let i = 0; i < count; i++) expect((await send()).status).toBe(200);
}

describe('rate limiting', () => {
  it('should limit anonymous requests per IP, and only that IP', async () => {
    const ip = newIp();
    await spend(PER_MINUTE, () => ask(server, ip));
    expectRateLimited(await ask(server, ip));
    expect((await ask(server, newIp())).status).toBe(200);
    await expectHealthy(server);
  });

  it('should limit each token on its own budget, wherever it comes from', async () => {
    const { token } = await server.newUser('MEMBER');
    await spend(PER_MINUTE, () => ask(server, newIp(), token));
    expectRateLimited(await ask(server, newIp(), token));
    const other = await server.newUser('MEMBER');
    expect((await ask(server, newIp(), other.token)).status).toBe(200);
  });

  it('should spend the same budget on operations over a WebSocket', async () => {
    const { token } = await server.newUser('MEMBER');
    const client = connect(server.url, { token });
    try {
      for (let i = 0; i < PER_MINUTE; i++) {
        const query = client.subscribe('{ viewer { role } }');
        await query.done();
        expect(query.values).toEqual([{ viewer: { role: 'MEMBER' } }]);
      }
      const refused = client.subscribe('subscription { workflowEvents { kind } }');
      await refused.done();
      expect(refused.errors.map((e) => e.extensions)).toEqual([{ code: 'RATE_LIMITED', retryAfter: expect.any(Number) }]);
      // Over HTTP too: one budget per token.
      expectRateLimited(await ask(server, newIp(), token));
    } finally {
      await client.dispose();
    }
  });

  it('should charge invalid tokens to the IP, so guessing tokens is limited', async () => {
    const ip = newIp();
    for (let i = 0; i < PER_MINUTE; i++) {
      const response = await ask(server, ip, `wft_${randomBytes(32).toString('base64url')}`, '{ viewer { id } }');
      expect(response.status).toBe(401);
    }
    expectRateLimited(await ask(server, ip, `wft_${randomBytes(32).toString('base64url')}`));
  });

  it('should not limit when RATE_LIMIT_PER_MINUTE is 0', async () => {
    const open = await startTestServer({ RATE_LIMIT_PER_MINUTE: '0' }, server.database);
    try {
      const statuses = await Promise.all(Array.from({ length: 30 }, () => ask(open, '203.0.113.9').then((r) => r.status)));
      expect(new Set(statuses)).toEqual(new Set([200]));
    } finally {
      await open.stop();
    }
  });
});

describe('login throttling', () => {
  const login = (target: TestServer, ip: string, email: string, password: string) =>
    postGraphQL(target, { query: 'mutation ($e: String!, $p: String!) { login(email: $e, password: $p) { token } }', variables: { e: email, p: password } }, undefined, { 'x-forwarded-for': ip });

  it('should refuse an account after 3 failed logins, even with the right password, from any IP', async () => {
    const user = await server.newUser('VIEWER');
    for (let i = 0; i < 3; i++) expect(codeOf((await login(server, newIp(), user.email, 'wrong-password')).json())).toBe('UNAUTHENTICATED');
    const refused = await login(server, newIp(), user.email, 'password-123');
    const body = refused.json();
    expect(codeOf(body)).toBe('RATE_LIMITED');
    expect(body.errors[0].extensions.retryAfter).toBeGreaterThan(60);
    expect(body.errors[0].extensions.retryAfter).toBeLessThanOrEqual(15 * 60);
    expect(refused.headers['retry-after']).toBe(String(body.errors[0].extensions.retryAfter));
    expect(body.data).toBeNull();
  });

  it('should refuse an IP after 3 failed logins, whichever accounts it tries', async () => {
    const ip = newIp();
    for (let i = 0; i < 3; i++) await login(server, ip, `nobody-${i}@test.local`, 'wrong-password');
    const user = await server.newUser('VIEWER');
    expect(codeOf((await login(server, ip, user.email, 'password-123')).json())).toBe('RATE_LIMITED');
    expect((await login(server, newIp(), user.email, 'password-123')).json().data.login.token).toBeTruthy();
  });

  it("should throttle the dashboard's sign-in route the same way, per client IP", async () => {
    const user = await server.newUser('VIEWER');
    const signIn = (ip: string, email: string, password: string) =>
      rawRequest(server.url, { path: '/api/session', headers: { 'content-type': 'application/json', 'x-forwarded-for': ip }, body: JSON.stringify({ email, password }) });
    const ip = newIp();
    for (let i = 0; i < 3; i++) expect((await signIn(ip, `nobody-${i}@test.local`, 'wrong-password')).status).toBe(401);
    const refused = await signIn(ip, user.email, 'password-123');
    expect(refused.status).toBe(429);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    expect(refused.json().error.code).toBe('RATE_LIMITED');
    expect((await signIn(newIp(), user.email, 'password-123')).status).toBe(200);
  });

  it('should count only failures', async () => {
    const user = await server.newUser('VIEWER');
    const ip = newIp();
    for (let i = 0; i < 5; i++) expect((await login(server, ip, user.email, 'password-123')).json().data.login.token).toBeTruthy();
  });
});

describeRedis('rate limiting across replicas (Redis)', () => {
  it('should share one budget between replicas, under the configured key prefix', async () => {
    const prefix = uniqueRedisPrefix();
    const env = { ...redisEnv(prefix), RATE_LIMIT_PER_MINUTE: String(PER_MINUTE), TRUST_PROXY_HOPS: '1' };
    const [a, b] = [await startTestServer(env, server.database), await startTestServer(env, server.database)];
    const redis = new Redis(redisUrl!);
    try {
      const ip = newIp();
      await spend(12, () => ask(a, ip));
      await spend(8, () => ask(b, ip));
      expectRateLimited(await ask(a, ip));
      expectRateLimited(await ask(b, ip));
      const keys = await redis.keys(`${prefix}*`);
      expect(keys).toContain(`${prefix}rate:ip:${ip}`);
    } finally {
      redis.disconnect();
      await a.stop();
      await b.stop();
    }
  });

  it('should let requests through while Redis is unreachable', async () => {
    const down = await startTestServer({ REDIS_URL: `redis://127.0.0.1:${await freePort()}`, RATE_LIMIT_PER_MINUTE: '2' }, server.database);
    try {
      const statuses = [];
      for (let i = 0; i < 4; i++) statuses.push((await ask(down, '203.0.113.10')).status);
      expect(statuses).toEqual([200, 200, 200, 200]);
    } finally {
      await down.stop();
    }
  });
});

/**
 * Trusted documents over raw HTTP (what curl would send) and a WebSocket: the dashboard's and
 * the SDK's documents run by id (or, for the SDK, as the text it sends), with
 * TRUSTED_DOCUMENTS=only nothing else does unless an ADMIN sends it; with `allow` any document
 * runs and texts a client registers under their hash are shared by replicas through Redis.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WorkerClaimTaskDocument } from '../../../sdk/src/generated/graphql.js';
import { MANIFESTS, UNTRUSTED_DOCUMENT } from '../../src/http/trusted-documents.js';
import { describeRedis, redisEnv } from '../support/redis.js';
import { startTestServer, type TestServer } from '../support/server.js';

const dashboard = JSON.parse(readFileSync(MANIFESTS[0], 'utf8')) as Record<string, string>;
/** The dashboard's id of its operation `name` (without codegen's `sha256:`). */
const idOf = (name: string) => Object.entries(dashboard).find(([, text]) => new RegExp(`(query|mutation) ${name}\\b`).test(text))![0].replace(/^sha256:/, '');
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

interface Answer {
  status: number;
  body: { data?: any; errors?: Array<{ message: string; extensions: { code: string } }> };
}

/** One POST /graphql as curl sends it: a JSON body, a bearer token or none. */
async function post(server: TestServer, body: Record<string, unknown>, token?: string): Promise<Answer> {
  const response = await fetch(`${server.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Answer['body'] };
}

const byId = (id: string, variables: Record<string, unknown> = {}) => ({ variables, extensions: { persistedQuery: { version: 1, sha256Hash: id } } });

describe('TRUSTED_DOCUMENTS=only', () => {
  let server: TestServer;
  let member: { token: string };
  beforeAll(async () => {
    server = await startTestServer({ TRUSTED_DOCUMENTS: 'only' });
    member = await server.newUser('MEMBER');
  });
  afterAll(() => server?.stop());

  it('should run the dashboard\'s documents sent by id alone, for anyone', async () => {
    const viewer = await post(server, byId(idOf('Viewer')), member.token);
    expect(viewer).toMatchObject({ status: 200, body: { data: { viewer: { role: 'MEMBER' } } } });
    expect(viewer.body.errors).toBeUndefined();
    const anonymous = await post(server, byId(idOf('Viewer')));
    expect(anonymous.body).toEqual({ data: { viewer: null } });
  });

  it('should refuse any other document from anonymous callers and members, by text or by an unknown id', async () => {
    for (const token of [undefined, member.token]) {
      const text = await post(server, { query: '{ viewer { id email } }' }, token);
      expect(text).toMatchObject({ status: 403, body: { errors: [{ message: UNTRUSTED_DOCUMENT, extensions: { code: 'FORBIDDEN' } }] } });
      expect(text.body.data).toBeUndefined();
      const registering = await post(server, { query: '{ viewer { id } }', ...byId(sha256('{ viewer { id } }')) }, token);
      expect(registering.status).toBe(403);
      const unknown = await post(server, byId(sha256('{ viewer { id } }')), token);
      expect(unknown.body.errors?.[0].extensions.code).toBe('PERSISTED_QUERY_NOT_FOUND');
    }
  });

  it('should run the worker SDK\'s documents as the SDK sends them (text), and anything an ADMIN sends', async () => {
    const claim = await post(server, { query: String(WorkerClaimTaskDocument), variables: { queues: ['nothing-here'] } }, member.token);
    expect(claim).toMatchObject({ status: 200, body: { data: { claimTask: null } } });
    const admin = await post(server, { query: '{ viewer { email } }' }, server.adminToken);
    expect(admin).toMatchObject({ status: 200, body: { data: { viewer: { email: 'admin@test.local' } } } });
  });

  it('should refuse other documents over a WebSocket too, and run trusted ones', async () => {
    const url = server.url.replace(/^http/, 'ws') + '/graphql';
    const client = createClient({ url, webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${member.token}` }, retryAttempts: 0 });
    const run = (query: string, variables?: Record<string, unknown>) => new Promise<{ data?: any; errors?: any[] }>((resolve, reject) => {
      let result: { data?: any; errors?: any[] } = {};
      client.subscribe({ query, variables }, {
        next: (value) => (result = value as typeof result),
        error: (error) => (Array.isArray(error) ? resolve({ errors: error }) : reject(error)),
        complete: () => resolve(result),
      });
    });
    try {
      const refused = await run('{ viewer { id } }');
      expect(refused.errors?.[0]).toMatchObject({ message: UNTRUSTED_DOCUMENT, extensions: { code: 'FORBIDDEN' } });
      expect(await run(String(WorkerClaimTaskDocument), { queues: ['nothing-here'] })).toEqual({ data: { claimTask: null } });
    } finally {
      await client.dispose();
    }
  });
});

describe('TRUSTED_DOCUMENTS=allow (the default)', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server?.stop());

  it('should run any document, and the dashboard\'s by id', async () => {
    expect((await post(server, { query: '{ viewer { email } }' }, server.adminToken)).body).toEqual({ data: { viewer: { email: 'admin@test.local' } } });
    expect((await post(server, byId(idOf('Viewer')), server.adminToken)).body.data.viewer.email).toBe('admin@test.local');
  });
});

describeRedis('automatic persisted queries over Redis', () => {
  const servers: TestServer[] = [];
  beforeAll(async () => {
    const env = redisEnv();
    servers.push(await startTestServer(env));
    servers.push(await startTestServer(env, servers[0].database));
  });
  afterAll(async () => {
    await servers[1]?.stop();
    await servers[0]?.stop();
  });

  it('should know on every replica a text registered on one', async () => {
    const query = `{ viewer { id email } } # ${Math.random()}`;
    const id = sha256(query);
    expect((await post(servers[1], byId(id), servers[1].adminToken)).body.errors?.[0].extensions.code).toBe('PERSISTED_QUERY_NOT_FOUND');
    expect((await post(servers[0], { query, ...byId(id) }, servers[0].adminToken)).body.data.viewer.email).toBe('admin@test.local');
    // Registered after the answer, without waiting for Redis: give it a moment.
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect((await post(servers[1], byId(id), servers[1].adminToken)).body.data.viewer.email).toBe('admin@test.local');
  });
});

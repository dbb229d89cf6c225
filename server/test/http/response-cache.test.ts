import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { describeRedis, redisEnv } from '../support/redis.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { countStatements } from '../support/statements.js';
import { newWorkflow } from '../support/workflows.js';

const LIST = '{ workflows(first: 50) { totalCount edges { node { name status owner { email } tasks { name status } } } } }';

/** POSTs a query and says whether the response cache answered it. */
async function ask(server: TestServer, query: string, token: string, variables?: Record<string, unknown>) {
  const response = await fetch(`${server.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as { data?: any; errors?: unknown[] };
  if (body.errors) throw new Error(JSON.stringify(body.errors));
  return { data: body.data, cache: response.headers.get('x-cache') };
}

const names = (data: any): string[] => data.workflows.edges.map((e: any) => e.node.name).sort();

function cacheSuite(label: string, env: () => Record<string, string>) {
  describe(`response cache (${label})`, () => {
    let server: TestServer;
    let member: { id: string; token: string };
    let other: { id: string; token: string };
    let viewer: { id: string; token: string };

    beforeAll(async () => {
      server = await startTestServer({ CACHE_TTL_SECONDS: '30', ...env() });
      member = await server.newUser('MEMBER');
      other = await server.newUser('MEMBER');
      viewer = await server.newUser('VIEWER');
      await newWorkflow(server, member.token, [{ name: 'a' }], 'mine');
      await newWorkflow(server, other.token, [{ name: 'a' }], 'theirs');
    });
    afterAll(() => server?.stop());

    it('should answer a repeated query from the cache without reading workflows again', async () => {
      const first = await ask(server, LIST, server.adminToken);
      const again = await countStatements(server.app, () => ask(server, LIST, server.adminToken));
      const second = await ask(server, LIST, server.adminToken);
      expect(first.cache).toBe('MISS');
      expect(second.cache).toBe('HIT');
      expect(second.data).toEqual(first.data);
      expect(again.sql.filter((sql) => /workflows|tasks|users u? ?where/.test(sql))).toEqual([]);
    });

    it('should never be stale after a mutation, for the list and for a single workflow', async () => {
      await ask(server, LIST, member.token);
      const created = await newWorkflow(server, member.token, [{ name: 'x' }], 'fresh');
      const afterCreate = await ask(server, LIST, member.token);
      expect(names(afterCreate.data)).toContain('fresh');
      const one = 'query ($id: ID!) { workflow(id: $id) { status tasks { status } } }';
      expect((await ask(server, one, member.token, { id: created.id })).data.workflow.status).toBe('DRAFT');
      expect((await ask(server, one, member.token, { id: created.id })).cache).toBe('HIT');
      await server.gqlOk('mutation ($id: ID!) { startWorkflow(id: $id) { id } }', { id: created.id }, member.token);
      const started = await ask(server, one, member.token, { id: created.id });
      expect(started.cache).toBe('MISS');
      expect(started.data.workflow.status).toBe('PENDING');
      expect(started.data.workflow.tasks[0].status).toBe('READY');
      // An admin's cached list sees the member's change too.
      expect((await ask(server, LIST, server.adminToken)).data.workflows.edges.find((e: any) => e.node.name === 'fresh').node.status).toBe('PENDING');
    });

    it('should never share an answer between viewers who may see different workflows', async () => {
      const admin = await ask(server, LIST, server.adminToken);
      const mine = await ask(server, LIST, member.token);
      const theirs = await ask(server, LIST, other.token);
      const seen = await ask(server, LIST, viewer.token);
      expect(names(mine.data)).not.toContain('theirs');
      expect(names(theirs.data)).toEqual(['theirs']);
      expect(names(admin.data)).toEqual(expect.arrayContaining(['mine', 'theirs']));
      expect(names(seen.data)).toEqual(names(admin.data));
      // The other member's answer came from its own entry, not the first member's.
      expect((await ask(server, LIST, other.token)).data).toEqual(theirs.data);
    });

    it('should keep a member’s entry when only someone else’s workflows change', async () => {
      await ask(server, LIST, other.token);
      await newWorkflow(server, member.token, [{ name: 'y' }], 'unrelated');
      expect((await ask(server, LIST, other.token)).cache).toBe('HIT');
      expect((await ask(server, LIST, server.adminToken)).cache).toBe('MISS');
    });

    it('should not cache per-user fields or mutations', async () => {
      const a = await ask(server, '{ viewer { email } }', member.token);
      const b = await ask(server, '{ viewer { email } }', other.token);
      expect(a.data.viewer.email).not.toBe(b.data.viewer.email);
      expect(a.cache).toBeNull();
      const mixed = await ask(server, '{ viewer { email } workflows { totalCount } }', member.token);
      expect(mixed.cache).toBeNull();
    });
  });
}

cacheSuite('in-process', () => ({}));
describeRedis('with Redis', () => {
  cacheSuite('Redis', () => redisEnv());

  describe('response cache across replicas', () => {
    let database: TestDatabase;
    let a: TestServer;
    let b: TestServer;

    beforeAll(async () => {
      database = await createTestDatabase();
      const shared = redisEnv();
      a = await startTestServer({ CACHE_TTL_SECONDS: '30', ...shared }, database);
      b = await startTestServer({ CACHE_TTL_SECONDS: '30', ...shared }, database);
    });
    afterAll(async () => {
      await a?.stop();
      await b?.stop();
      await database?.drop();
    });

    it('should share entries and never serve one replica a list another replica changed', async () => {
      await ask(a, LIST, a.adminToken);
      expect((await ask(b, LIST, b.adminToken)).cache).toBe('HIT');
      await newWorkflow(a, a.adminToken, [{ name: 'z' }], 'made-on-a');
      const fromB = await ask(b, LIST, b.adminToken);
      expect(names(fromB.data)).toContain('made-on-a');
    });
  });
});

describe('response cache settings', () => {
  it('should fall back to the TTL for changes that carry no event, and cache nothing at CACHE_TTL_SECONDS=0', async () => {
    const server = await startTestServer({ CACHE_TTL_SECONDS: '1' });
    const off = await startTestServer({ CACHE_TTL_SECONDS: '0' }, server.database);
    try {
      await newWorkflow(server, server.adminToken, [{ name: 'a' }], 'before');
      await ask(server, LIST, server.adminToken);
      const db = new pg.Client({ connectionString: server.database.url });
      await db.connect();
      await db.query("update workflows set name = 'behind-its-back'");
      await db.end();
      expect(names((await ask(server, LIST, server.adminToken)).data)).toEqual(['before']);
      await new Promise((resolve) => setTimeout(resolve, 1_100));
      expect(names((await ask(server, LIST, server.adminToken)).data)).toEqual(['behind-its-back']);
      await ask(off, LIST, off.adminToken);
      expect((await ask(off, LIST, off.adminToken)).cache).toBeNull();
    } finally {
      await off.stop();
      await server.stop();
    }
  });
});

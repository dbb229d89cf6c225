import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedPostgres, type EmbeddedDatabase } from '../../src/platform/embedded-postgres.js';
import { createLogger } from '../../src/platform/logger.js';
import { startTestServer, type TestServer } from '../support/server.js';

const QUERY = '{ slowQueries(limit: 3) { query calls meanMs maxMs totalMs rows } }';

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

describe('slowQueries without pg_stat_statements', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server?.stop());

  it('should say how to enable the extension', async () => {
    const result = await server.gql(QUERY, {}, server.adminToken);
    expect(result.errors?.[0].extensions?.code).toBe('CONFLICT');
    expect(result.errors?.[0].message).toMatch(/shared_preload_libraries = 'pg_stat_statements'.*CREATE EXTENSION pg_stat_statements/);
  });

  it('should be for admins only', async () => {
    const member = await server.newUser('MEMBER');
    expect((await server.gql(QUERY, {}, member.token)).errors?.[0].extensions?.code).toBe('FORBIDDEN');
  });

  it('should reject a limit out of range', async () => {
    const result = await server.gql('{ slowQueries(limit: 0) { query } }', {}, server.adminToken);
    expect(result.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
  });
});

describe('slowQueries on the embedded PostgreSQL', () => {
  let dir: string;
  let database: EmbeddedDatabase;
  let server: TestServer;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'wf-slow-'));
    await chmod(dir, 0o755);
    database = await startEmbeddedPostgres(dir, await freePort(), createLogger('silent'));
    server = await startTestServer({}, { url: database.url, drop: async () => undefined });
  });
  afterAll(async () => {
    await server?.app.stop();
    await database?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('should list the slowest statements, slowest first', async () => {
    // Statistics so far include the migrations, which a busy machine can make slow.
    await server.app.orm.em.fork().execute('select pg_stat_statements_reset()');
    await server.app.orm.em.fork().execute('select pg_sleep(0.2)');
    const { slowQueries } = await server.gqlOk(QUERY, {}, server.adminToken);
    expect(slowQueries).toHaveLength(3);
    expect(slowQueries[0].query).toMatch(/pg_sleep/);
    expect(slowQueries[0].meanMs).toBeGreaterThanOrEqual(200);
    const means = slowQueries.map((q: any) => q.meanMs);
    expect(means).toEqual([...means].sort((a, b) => b - a));
  });
});

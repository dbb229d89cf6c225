import { chmod, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedPostgres, type EmbeddedDatabase } from '../../src/db/embedded-postgres.js';
import { createLogger } from '../../src/core/logger.js';
import { freePort } from '../support/ports.js';
import { startTestServer, type TestServer } from '../support/server.js';

const QUERY = '{ slowQueries(limit: 3) { query calls meanMs maxMs totalMs rows } }';

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

  it('should refuse a snapshot, and list none', async () => {
    expect((await server.gql('mutation { snapshotSlowQueries }', {}, server.adminToken)).errors?.[0].extensions?.code).toBe('CONFLICT');
    expect((await server.gqlOk('{ slowQuerySnapshots }', {}, server.adminToken)).slowQuerySnapshots).toEqual([]);
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

  it('should give each statement its calls and mean time since a snapshot, against its mean before', async () => {
    const em = server.app.orm.em.fork();
    await em.execute('select pg_stat_statements_reset()');
    for (let i = 0; i < 2; i++) await em.execute('select pg_sleep(0.05)');
    const { snapshotSlowQueries: taken } = await server.gqlOk('mutation { snapshotSlowQueries }', {}, server.adminToken);
    for (let i = 0; i < 2; i++) await em.execute('select pg_sleep(0.15)');
    const { slowQuerySnapshots } = await server.gqlOk('{ slowQuerySnapshots }', {}, server.adminToken);
    expect(slowQuerySnapshots).toEqual([taken]);

    const TRENDS = 'query ($since: DateTime) { slowQueries(limit: 5, since: $since) { queryId query calls meanMs trend { since calls meanMs previousMeanMs changePercent } } }';
    const { slowQueries } = await server.gqlOk(TRENDS, { since: new Date().toISOString() }, server.adminToken);
    const sleep = slowQueries.find((q: any) => /pg_sleep/.test(q.query));
    expect(sleep.calls).toBe(4);
    expect(sleep.trend).toMatchObject({ since: taken, calls: 2 });
    expect(sleep.trend.previousMeanMs).toBeGreaterThanOrEqual(50);
    expect(sleep.trend.previousMeanMs).toBeLessThan(150);
    expect(sleep.trend.meanMs).toBeGreaterThanOrEqual(150);
    expect(sleep.trend.changePercent).toBeCloseTo(((sleep.trend.meanMs - sleep.trend.previousMeanMs) / sleep.trend.previousMeanMs) * 100, 6);
    // Before the oldest snapshot there is nothing to compare with.
    const early = await server.gqlOk(TRENDS, { since: new Date(Date.parse(taken) - 60_000).toISOString() }, server.adminToken);
    expect(early.slowQueries.every((q: any) => q.trend === null)).toBe(true);
    // After a reset the counters are below the snapshot's: no trend rather than a negative one.
    await em.execute('select pg_stat_statements_reset()');
    await em.execute('select pg_sleep(0.01)');
    const reset = await server.gqlOk(TRENDS, { since: new Date().toISOString() }, server.adminToken);
    expect(reset.slowQueries.find((q: any) => /pg_sleep/.test(q.query)).trend).toBeNull();
  });
});

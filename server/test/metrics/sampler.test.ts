import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pruneMetrics } from '../../src/metrics/retention.js';
import type { EntityManager } from '../../src/db/orm.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { waitFor } from '../support/wait.js';

let server: TestServer;

const SELF_METRICS = [
  'cpu_percent', 'memory_percent', 'event_loop_lag_ms', 'requests_per_second', 'response_time_p95_ms',
  'error_rate_percent', 'db_connections_percent', 'disk_percent', 'disk_io_percent', 'ws_connections',
];

beforeAll(async () => {
  server = await startTestServer({ SAMPLE_INTERVAL_SECONDS: '1', INSTANCE_ID: 'sampler-test-1' });
});
afterAll(() => server?.stop());

async function latest(name: string): Promise<Record<string, any> | undefined> {
  const rows = await server.app.orm.em.fork().execute(
    `select * from metrics where name = ? and service = 'api' order by time desc limit 1`, [name]);
  return rows[0];
}

describe('self-sampling', () => {
  it('should store every self metric as service api with this replica as instance', async () => {
    await waitFor('a sampler tick', async () => (await latest('ws_connections')) !== undefined);
    for (const name of SELF_METRICS) {
      const row = await latest(name);
      expect(row, name).toMatchObject({ service: 'api', instance: 'sampler-test-1' });
      expect(Number.isFinite(row!.value), name).toBe(true);
    }
    for (const name of ['cpu_percent', 'memory_percent', 'db_connections_percent', 'disk_percent', 'disk_io_percent', 'error_rate_percent']) {
      const value = (await latest(name))!.value;
      expect(value, name).toBeGreaterThanOrEqual(0);
      expect(value, name).toBeLessThanOrEqual(100);
    }
    expect((await latest('memory_percent'))!.value).toBeGreaterThan(0);
  });

  it('should measure the request rate and p95 from real requests', async () => {
    const since = new Date();
    for (let i = 0; i < 20; i++) await server.gqlOk('{ viewer { id } }', {}, server.adminToken);
    const row = await waitFor('a tick that saw the requests', async () => {
      const [found] = await server.app.orm.em.fork().execute(
        `select * from metrics where name = 'requests_per_second' and time > ? and value > 0 order by time limit 1`, [since]);
      return found;
    });
    expect(row.value).toBeGreaterThan(0);
    const [p95] = await server.app.orm.em.fork().execute(
      `select value from metrics where name = 'response_time_p95_ms' and time = ?`, [row.time]);
    expect(p95.value).toBeGreaterThan(0);
  });

  it('should write a heartbeat every tick', async () => {
    const first = await server.app.orm.em.fork().execute(`select last_seen_at from heartbeats where instance = 'sampler-test-1'`);
    expect(first).toHaveLength(1);
    await waitFor('a newer heartbeat', async () => {
      const [row] = await server.app.orm.em.fork().execute(`select last_seen_at from heartbeats where instance = 'sampler-test-1'`);
      return new Date(row.last_seen_at) > new Date(first[0].last_seen_at);
    });
  });

  it('should announce samples on the bus', async () => {
    const iterator = server.app.services.bus.subscribe('metrics')[Symbol.asyncIterator]();
    const batch = await iterator.next();
    await iterator.return?.();
    expect(batch.value.points.map((p: any) => p.name)).toEqual(expect.arrayContaining(SELF_METRICS));
  });
});

describe('retention', () => {
  it('should delete samples older than the retention and keep newer ones', async () => {
    const old = new Date(Date.now() - 8 * 86_400_000).toISOString();
    const recent = new Date(Date.now() - 6 * 86_400_000).toISOString();
    await server.gqlOk('mutation ($s: [MetricSampleInput!]!) { recordMetrics(samples: $s) }', {
      s: [{ name: 'retained', service: 's', value: 1, time: old }, { name: 'retained', service: 's', value: 2, time: recent }],
    }, server.adminToken);
    const deleted = await pruneMetrics(server.app.orm.em.fork() as EntityManager, 7);
    expect(deleted).toBeGreaterThanOrEqual(1);
    const rows = await server.app.orm.em.fork().execute(`select value from metrics where name = 'retained'`);
    expect(rows.map((r: any) => r.value)).toEqual([2]);
  });

  it('should skip pruning while another replica prunes', async () => {
    const other = new pg.Client({ connectionString: server.database.url });
    await other.connect();
    try {
      await other.query('begin');
      await other.query('select pg_advisory_xact_lock(7316040)');
      expect(await pruneMetrics(server.app.orm.em.fork() as EntityManager, 7)).toBeNull();
    } finally {
      await other.query('rollback');
      await other.end();
    }
  });
});

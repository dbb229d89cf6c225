/**
 * Redis beyond one node, on real topologies started from redis-server: a primary with a
 * replica watched by three Sentinels, and a three-primary Redis Cluster. On each, two replicas
 * of the server (one database) share live events, rate-limit counters and the response cache.
 * The table poll is set to ten minutes, so whatever arrives came through Redis. The Sentinel
 * failover is in redis-failover.test.ts.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { connect, liveWorkflowEvents } from '../support/live.js';
import { describeRedis, uniqueRedisPrefix } from '../support/redis.js';
import { startRedisCluster, startSentinelTopology } from '../support/redis-topology.js';
import { pairOnTopology } from '../support/replica-pair.js';
import type { TestServer } from '../support/server.js';
import { waitFor } from '../support/wait.js';
import { newWorkflow } from '../support/workflows.js';

const LIST = '{ workflows(first: 20) { totalCount edges { node { name } } } }';

async function cached(server: TestServer, token: string): Promise<string | null> {
  const response = await fetch(`${server.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query: LIST }),
  });
  const body = (await response.json()) as { errors?: unknown[] };
  if (body.errors) throw new Error(JSON.stringify(body.errors));
  return response.headers.get('x-cache');
}

function sharedSuite(label: string, start: () => Promise<{ env: Record<string, string>; stop(): Promise<void> }>) {
  describe(`on ${label}`, () => {
    const pair = pairOnTopology(start, { CACHE_TTL_SECONDS: '30' });
    const clients = pair.clients;
    let a: TestServer;
    let b: TestServer;
    beforeAll(() => ({ a, b } = pair));

    it('should be ready and deliver an event made on B to a subscriber on A', async () => {
      for (const server of [a, b]) expect((await fetch(`${server.url}/api/ready`)).status).toBe(200);
      expect(a.app.services.bus.kind).toBe('redis');
      const client = connect(a.url, { token: a.adminToken });
      clients.push(client);
      const live = await liveWorkflowEvents(a.app, client);
      const made = await newWorkflow(b, b.adminToken, [], `made on B (${label})`);
      expect((await live.take(1))[0].workflowEvents).toMatchObject({ kind: 'CREATED', workflow: { id: made.id } });
    });

    it('should count rate limits once for both replicas', async () => {
      const key = `test:${uniqueRedisPrefix()}`;
      expect(a.app.services.limiter.kind).toBe('redis');
      expect((await a.app.services.limiter.hit(key, 60)).count).toBe(1);
      expect((await b.app.services.limiter.hit(key, 60)).count).toBe(2);
      expect((await a.app.services.limiter.hit(key, 60)).count).toBe(3);
    });

    it('should share the response cache between replicas and retire it on a change made on either', async () => {
      expect(await cached(a, a.adminToken)).toBe('MISS');
      expect(await cached(a, a.adminToken)).toBe('HIT');
      // Stored by A, read by B: the entry and the generations live in Redis.
      expect(await cached(b, b.adminToken)).toBe('HIT');
      await newWorkflow(b, b.adminToken, [], `retires the cache (${label})`);
      await waitFor('A to see the change', async () => (await cached(a, a.adminToken)) === 'MISS', 5_000, 20);
    });
  });
}

describeRedis('Redis topologies', () => {
  sharedSuite('Sentinel (a primary, a replica, three sentinels)', startSentinelTopology);
  sharedSuite('Redis Cluster (three primaries)', startRedisCluster);
});

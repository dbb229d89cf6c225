/**
 * A Sentinel failover during a stream of mutations: two replicas of the server on a primary,
 * a replica and three sentinels (real redis-server processes); the primary is killed with
 * SIGKILL, the sentinels promote the replica, the server follows it, and subscribers (one that
 * stays connected, one that resumes with `after`) end with every event exactly once, in order.
 * The table poll is set to ten minutes: what arrives came through Redis, or through the
 * catch-up that its return triggers.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectRedis, type RedisClient } from '../../src/core/redis.js';
import { connect, liveWorkflowEvents, WORKFLOW_EVENTS, type WorkflowEventData } from '../support/live.js';
import type { Redis } from 'ioredis';
import { describeRedis, uniqueRedisPrefix } from '../support/redis.js';
import { startSentinelTopology, type SentinelTopology } from '../support/redis-topology.js';
import { createdIds, createdInOrder, pairOnTopology, uuidOf } from '../support/replica-pair.js';
import type { TestServer } from '../support/server.js';
import { waitFor } from '../support/wait.js';
import { newWorkflow } from '../support/workflows.js';

describeRedis('Redis Sentinel', () => {
  describe('connections through a failover', () => {
    let topology: SentinelTopology;
    const connections: RedisClient[] = [];
    beforeAll(async () => {
      topology = await startSentinelTopology();
    }, 60_000);
    afterAll(async () => {
      for (const connection of connections) connection.disconnect();
      await topology?.stop();
    });

    // ioredis ends a connection whose reconnection the +switch-master announcement interrupts;
    // with many connections some are always reconnecting when it arrives.
    it('should bring every connection to the promoted replica, whenever the announcement comes', async () => {
      const sentinels = topology.env.REDIS_SENTINELS.split(',').map((node) => ({ host: node.split(':')[0], port: Number(node.split(':')[1]) }));
      for (let i = 0; i < 40; i++) {
        const connection = connectRedis(
          { kind: 'sentinel', sentinels, name: topology.env.REDIS_SENTINEL_NAME },
          { offlineQueue: i % 2 === 0, maxRetriesPerRequest: i % 2 === 0 ? null : 1 },
        );
        connection.on('error', () => undefined);
        connections.push(connection);
      }
      await waitFor('every connection to be ready', async () => connections.every((c) => c.status === 'ready'), 15_000, 50);
      await topology.primary.kill();
      await waitFor('the sentinels to promote the replica', async () => (await topology.currentPrimaryPort()) === topology.replica.port, 20_000, 100);
      await waitFor('every connection to answer from the promoted replica', async () => {
        const roles = await Promise.all(connections.map((c) => c.status === 'ready' ? (c as Redis).role().then(([role]) => role, () => 'failed') : c.status));
        if (roles.some((role) => role !== 'master')) throw new Error(roles.join(' '));
        return true;
      }, 30_000, 200);
    }, 90_000);
  });

  describe('a failover during a stream of mutations', () => {
    const pair = pairOnTopology(startSentinelTopology);
    const clients = pair.clients;
    let topology: SentinelTopology;
    let a: TestServer;
    let b: TestServer;
    beforeAll(() => ({ topology, a, b } = pair));

    it('should promote the replica, follow it, and lose nothing', async () => {
      const client = connect(a.url, { token: a.adminToken });
      clients.push(client);
      const live = await liveWorkflowEvents(a.app, client);
      const first = await newWorkflow(b, b.adminToken, [], 'before the failover');
      const [firstEvent] = await live.take(1);

      let killed = false;
      const stream = (async () => {
        for (let i = 0; i < 60; i++) {
          // Mutations never wait for Redis: the event is in the table, the news follows.
          await newWorkflow(i % 2 ? a : b, a.adminToken, [], `during ${i}`);
          if (i === 10) {
            await topology.primary.kill();
            killed = true;
          }
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      })();
      await waitFor('the sentinels to promote the replica', async () => killed && (await topology.currentPrimaryPort()) === topology.replica.port, 20_000, 100);
      await stream;
      // Generous: on a loaded 2-core machine a replica's reconnection has taken over 20 s; a
      // timeout says which component of which replica was still not ready.
      await waitFor('both replicas to be ready on the new primary', async () => {
        const replies = await Promise.all([a, b].map(async (s) => {
          const reply = await fetch(`${s.url}/api/ready`);
          return { status: reply.status, body: await reply.text() };
        }));
        if (replies.some((r) => r.status !== 200)) throw new Error(replies.map((r) => `${r.status} ${r.body}`).join(' / '));
        return true;
      }, 45_000, 100);
      // After the failover, news crosses again without any table poll.
      const last = await newWorkflow(b, b.adminToken, [], 'after the failover');

      const created = await createdInOrder(a.database.url);
      expect(created.at(-1)).toBe(uuidOf(last.id));
      await waitFor('the subscriber on A to see the last event', async () => createdIds(live.values).at(-1) === created.at(-1), 15_000, 20);
      expect(createdIds(live.values)).toEqual(created.slice(created.indexOf(uuidOf(first.id))));
      expect(live.errors).toEqual([]);

      // A subscriber that resumes from the first cursor on B gets the same, exactly once.
      const other = connect(b.url, { token: b.adminToken });
      clients.push(other);
      const resumed = other.subscribe<WorkflowEventData>(WORKFLOW_EVENTS, { after: firstEvent.workflowEvents.cursor });
      const later = created.slice(created.indexOf(uuidOf(first.id)) + 1);
      await resumed.take(later.length);
      expect(createdIds(resumed.values)).toEqual(later);

      // The limiter counts on the new primary again.
      const key = `test:${uniqueRedisPrefix()}`;
      expect((await a.app.services.limiter.hit(key, 60)).count).toBe(1);
      expect((await b.app.services.limiter.hit(key, 60)).count).toBe(2);
    }, 120_000);
  });
});

/**
 * Live events across replicas: two real servers sharing one database and one Redis, a
 * subscriber on one and changes made on the other — then Redis killed and brought back
 * mid-test. The table poll is set to ten minutes, so whatever arrives came through Redis
 * or through the catch-up that Redis' return triggers.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientsForSuite, liveWorkflowEvents, WORKFLOW_EVENTS, type WorkflowEventData } from '../support/live.js';
import { describeRedis, redisEnv, ThrowawayRedis, uniqueRedisPrefix } from '../support/redis.js';
import { NO_POLL, startPair } from '../support/replica-pair.js';
import type { TestServer } from '../support/server.js';
import { waitFor } from '../support/wait.js';
import { newWorkflow } from '../support/workflows.js';


async function stopPair(a?: TestServer, b?: TestServer): Promise<void> {
  await b?.stop();
  await a?.stop();
}

const status = async (server: TestServer, path: string) => {
  const response = await fetch(`${server.url}${path}`);
  return { status: response.status, body: (await response.json()) as Record<string, any> };
};

describeRedis('live events across replicas', () => {
  const open = clientsForSuite();

  describe('on a shared Redis', () => {
    let a: TestServer;
    let b: TestServer;
    beforeAll(async () => {
      [a, b] = await startPair({ ...redisEnv(), ...NO_POLL });
    });
    afterAll(() => stopPair(a, b));

    it('should deliver an event made on B to a subscriber on A', async () => {
      const member = await a.newUser('MEMBER');
      const subscription = await liveWorkflowEvents(a.app, open(a, member.token));
      const made = await newWorkflow(b, member.token, [], 'made on B');
      const [event] = await subscription.take(1);
      expect(event.workflowEvents).toMatchObject({ kind: 'CREATED', workflow: { id: made.id, name: 'made on B' } });
    });

    it('should not cross to servers on another prefix', async () => {
      const [c, d] = await startPair({ ...redisEnv(uniqueRedisPrefix()), ...NO_POLL });
      try {
        const onA = await liveWorkflowEvents(a.app, open(a, a.adminToken));
        const onC = await liveWorkflowEvents(c.app, open(c, c.adminToken));
        await newWorkflow(d, d.adminToken, [], 'on the other prefix');
        await newWorkflow(b, b.adminToken, [], 'on this prefix');
        expect((await onC.take(1))[0].workflowEvents.workflow.name).toBe('on the other prefix');
        expect((await onA.take(1))[0].workflowEvents.workflow.name).toBe('on this prefix');
        expect(onA.values).toHaveLength(1);
      } finally {
        await stopPair(c, d);
      }
    });
  });

  describe('when Redis dies and comes back', () => {
    let redis: ThrowawayRedis;
    let a: TestServer;
    let b: TestServer;
    beforeAll(async () => {
      redis = await ThrowawayRedis.start();
      [a, b] = await startPair({ REDIS_URL: redis.url, REDIS_PREFIX: uniqueRedisPrefix(), ...NO_POLL });
    });
    afterAll(async () => {
      await stopPair(a, b);
      await redis?.kill();
    });

    it('should keep serving, report not ready, keep subscribers, and lose nothing', async () => {
      const member = await a.newUser('MEMBER');
      const names = (events: WorkflowEventData[]) => events.map((e) => e.workflowEvents.workflow?.name);
      await waitFor('A to be ready', async () => (await status(a, '/api/ready')).status === 200);
      const client = open(a, member.token);
      const live = await liveWorkflowEvents(a.app, client);
      await newWorkflow(b, member.token, [], 'before');
      const [before] = await live.take(1);

      await redis.kill();
      await waitFor('A to notice Redis is gone', async () => (await status(a, '/api/ready')).status === 503);
      expect((await status(a, '/api/ready')).body).toEqual({ ready: false, notReady: ['redis'] });
      expect((await status(a, '/api/health')).status).toBe(200);

      // Queries and mutations keep working; A's own changes still reach A's subscribers.
      await newWorkflow(a, member.token, [], 'on A during the outage');
      expect(names(await live.take(2))).toEqual(['before', 'on A during the outage']);
      await newWorkflow(b, member.token, [], 'on B during the outage');
      const listed = await b.gqlOk('{ workflows { totalCount } }', {}, member.token);
      expect(listed.workflows.totalCount).toBe(3);

      await redis.restart();
      await waitFor('A to be ready again', async () => (await status(a, '/api/ready')).status === 200);
      // Redis' return makes A re-read the table: B's outage-time change arrives without a poll.
      expect(names(await live.take(3))).toEqual(['before', 'on A during the outage', 'on B during the outage']);
      await waitFor('B to be ready again', async () => (await status(b, '/api/ready')).status === 200);
      await newWorkflow(b, member.token, [], 'after');
      expect(names(await live.take(4))).toEqual(['before', 'on A during the outage', 'on B during the outage', 'after']);
      expect(client.closed).toEqual([]);

      // A subscriber that resumes from its last cursor before the outage has lost nothing either.
      const resumed = open(b, member.token).subscribe<WorkflowEventData>(WORKFLOW_EVENTS, { after: before.workflowEvents.cursor });
      expect(names(await resumed.take(3))).toEqual(['on A during the outage', 'on B during the outage', 'after']);
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(live.values).toHaveLength(4);
      expect(resumed.values).toHaveLength(3);
    });
  });
});

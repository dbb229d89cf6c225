/**
 * Multiplexed subscriptions: an event is executed once per group of equal subscriptions
 * (same document and variables, viewers who see the same data), and never shared between
 * viewers who may see different things. Counted through the server's own Prometheus counters.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { connect, until, workflowCursorsAfter, WORKFLOW_EVENTS, type LiveClient, type LiveSubscription, type WorkflowEventData as Event } from '../support/live.js';
import { scrape } from '../support/prometheus.js';
import { describeRedis, redisEnv } from '../support/redis.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { newWorkflow } from '../support/workflows.js';

const EXECUTED = 'graphql_subscription_events_total{stage="executed"}';
const SENT = 'graphql_subscription_events_total{stage="sent"}';
const GROUPS = 'graphql_subscription_groups';
const SUBSCRIPTIONS = 'graphql_subscriptions';

function multiplexingSuite(mode: 'in-process' | 'redis', env: () => Record<string, string>) {
  let server: TestServer;
  let users: Record<'admin2' | 'viewer' | 'owner' | 'other', { id: string; token: string }>;
  const clients: LiveClient[] = [];
  const open = (token: string) => {
    const client = connect(server.url, { token });
    clients.push(client);
    return client;
  };
  const counters = async () => {
    const samples = await scrape(server.url);
    // A counter without increments yet is not in the text at all.
    const read = (name: string) => samples.get(name) ?? 0;
    return { executed: read(EXECUTED), sent: read(SENT), groups: read(GROUPS), subscriptions: read(SUBSCRIPTIONS) };
  };
  /** Subscribes every client to `query` and waits until all of them follow events. */
  async function subscribeAll<T>(query: string, tokens: string[], variables?: Record<string, unknown>): Promise<Array<LiveSubscription<T>>> {
    const before = (await counters()).subscriptions;
    const subscriptions = tokens.map((token) => open(token).subscribe<T>(query, variables));
    await until(async () => (await counters()).subscriptions === before + tokens.length, `${tokens.length} subscriptions to start`);
    return subscriptions;
  }
  /** Waits until `count` more messages were sent than at `since`, and returns the counters then. */
  async function afterSending(since: { sent: number }, count: number) {
    await until(async () => (await counters()).sent >= since.sent + count, `${count} messages sent`);
    return counters();
  }

  beforeAll(async () => {
    server = await startTestServer(env());
    const [admin2, viewer, owner, other] = await Promise.all([server.newUser('ADMIN'), server.newUser('VIEWER'), server.newUser('MEMBER'), server.newUser('MEMBER')]);
    users = { admin2, viewer, owner, other };
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.dispose()));
    // A group goes with its last member.
    await until(async () => (await counters()).groups === 0, 'no groups left');
  });
  afterAll(async () => {
    await server?.stop();
  });

  describe(`multiplexed subscriptions (${mode} bus)`, () => {
    it('should execute each event once per group of equal subscriptions and send it to every member', async () => {
      const before = await counters();
      // Groups: the admins (two people, one audience), the viewers, the owner, the other member.
      const [admins, viewers, [owner], [other]] = [
        await subscribeAll<Event>(WORKFLOW_EVENTS, [server.adminToken, server.adminToken, server.adminToken, users.admin2.token]),
        await subscribeAll<Event>(WORKFLOW_EVENTS, [users.viewer.token, users.viewer.token]),
        await subscribeAll<Event>(WORKFLOW_EVENTS, [users.owner.token]),
        await subscribeAll<Event>(WORKFLOW_EVENTS, [users.other.token]),
      ];
      expect((await counters()).groups - before.groups).toBe(4);

      const workflow = await newWorkflow(server, users.owner.token, [{ name: 'one' }], 'shared');
      const received = await Promise.all([...admins, ...viewers, owner].map((s) => s.take(1)));
      for (const [event] of received) {
        expect(event.workflowEvents).toMatchObject({ kind: 'CREATED', workflowId: workflow.id, workflow: { id: workflow.id, name: 'shared' } });
      }
      // Three groups may see it: three executions, seven messages.
      const after = await afterSending(before, 7);
      expect(after.executed - before.executed).toBe(3);
      expect(after.sent - before.sent).toBe(7);

      // The other member's subscription is alive and got nothing of the owner's workflow.
      const own = await newWorkflow(server, users.other.token, [{ name: 'one' }], 'not shared');
      const [first] = await other.take(1);
      expect(first.workflowEvents.workflowId).toBe(own.id);
      expect(other.values).toHaveLength(1);
    });

    it('should keep subscriptions with other variables in their own group', async () => {
      const workflow = await newWorkflow(server, server.adminToken, [{ name: 'one' }], 'scoped');
      const [all] = await subscribeAll<Event>(WORKFLOW_EVENTS, [server.adminToken]);
      const [one] = await subscribeAll<Event>(WORKFLOW_EVENTS, [server.adminToken], { workflowId: workflow.id });
      const before = await counters();
      await server.gqlOk('mutation ($id: ID!) { deleteWorkflow(id: $id) }', { id: workflow.id }, server.adminToken);
      const [[fromAll], [fromOne]] = await Promise.all([all.take(1), one.take(1)]);
      expect(fromAll.workflowEvents).toMatchObject({ kind: 'DELETED', workflowId: workflow.id, workflow: null });
      expect(fromAll).toEqual(fromOne);
      const after = await afterSending(before, 2);
      expect(after.executed - before.executed).toBe(2);
    });

    it('should send every member of a group each event once and in order, across the seam from its own replay to the shared stream', async () => {
      const start = await newWorkflow(server, users.owner.token, [], 'seam start');
      const head = open(users.owner.token).subscribe<Event>(WORKFLOW_EVENTS, { workflowId: start.id, after: '0' });
      const cursor = (await head.take(1))[0].workflowEvents.cursor;
      // One group (same variables, same viewer), its members joining while events land: some
      // replay from the table while others already share the group's stream.
      const burst = Promise.all(Array.from({ length: 12 }, (_, i) => newWorkflow(server, users.owner.token, [], `seam ${i}`)));
      const members: Array<LiveSubscription<Event>> = [];
      for (let i = 0; i < 3; i++) {
        members.push(open(users.owner.token).subscribe<Event>(WORKFLOW_EVENTS, { after: cursor }));
        await newWorkflow(server, users.owner.token, [], `seam joined ${i}`);
      }
      await burst;
      const truth = await workflowCursorsAfter(server, users.owner.id, cursor);
      expect(truth.length).toBeGreaterThanOrEqual(15);
      await Promise.all(members.map((m) => m.take(truth.length)));
      await new Promise((resolve) => setTimeout(resolve, 50)); // room for a duplicate to show up
      for (const member of members) expect(member.values.map((e) => e.workflowEvents.cursor)).toEqual(truth);
    });

    it('should share metric points between equal subscriptions, and not across roles', async () => {
      const query = 'subscription { metricSampled(names: ["mux_probe"]) { name value instance } }';
      const subs = await subscribeAll<{ metricSampled: { value: number } }>(query, [server.adminToken, users.admin2.token, users.viewer.token]);
      const before = await counters();
      await server.gqlOk(
        'mutation ($s: [MetricSampleInput!]!) { recordMetrics(samples: $s) }',
        { s: [1, 2, 3].map((value) => ({ name: 'mux_probe', service: 'test', value })) },
        server.adminToken,
      );
      const received = await Promise.all(subs.map((s) => s.take(3)));
      for (const values of received) expect(values.map((v) => v.metricSampled.value)).toEqual([1, 2, 3]);
      // Two audiences (ADMIN, VIEWER) × three points; nine messages.
      const after = await afterSending(before, 9);
      expect(after.executed - before.executed).toBe(6);
      expect(after.sent - before.sent).toBe(9);
    });

    it('should answer queries and mutations over the socket once, then complete', async () => {
      const client = open(users.owner.token);
      const query = client.subscribe<{ viewer: { id: string } }>('{ viewer { id role } }');
      await query.done();
      expect(query.values).toEqual([{ viewer: { id: users.owner.id, role: 'MEMBER' } }]);
      const mutation = client.subscribe<{ createWorkflow: { name: string } }>(
        'mutation ($input: CreateWorkflowInput!) { createWorkflow(input: $input) { name } }',
        { input: { name: 'over the socket', tasks: [{ name: 'one' }] } },
      );
      await mutation.done();
      expect(mutation.values).toEqual([{ createWorkflow: { name: 'over the socket' } }]);
      const bad = client.subscribe('mutation { createWorkflow(input: { name: "", tasks: [] }) { name } }');
      await bad.done();
      expect(bad.errors.map((e) => e.extensions?.code)).toEqual(['BAD_USER_INPUT']);
    });
  });
}

multiplexingSuite('in-process', () => ({}));
describeRedis('with Redis', () => multiplexingSuite('redis', () => redisEnv()));

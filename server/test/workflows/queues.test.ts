/**
 * The backlog of task queues (`taskQueues`, `taskQueueChanged`) over real HTTP and WebSocket
 * clients on a real PostgreSQL: what each count means, who sees what, the index behind it,
 * bad input, coalescing, delayed tasks waking subscribers, and two replicas over Redis.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backlogRecomputes, backlogStatement } from '../../src/workflows/queues.js';
import { clientsForSuite, until, type LiveSubscription } from '../support/live.js';
import { describeRedis, redisEnv } from '../support/redis.js';
import { NO_POLL, startPair } from '../support/replica-pair.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { startedWorkflow, type TaskSpec } from '../support/workflows.js';

const QUEUES = 'query { taskQueues { name ready running delayed oldestReadyAgeSeconds } }';
const CHANGED = 'subscription ($queues: [String!]) { taskQueueChanged(queues: $queues) { name ready running delayed oldestReadyAgeSeconds } }';
type Queue = { name: string; ready: number; running: number; delayed: number; oldestReadyAgeSeconds: number | null };
type Changed = { taskQueueChanged: Queue };

let counter = 0;
/** A queue name no other test uses (they share one database). */
const fresh = (label: string) => `${label}-${++counter}-${Date.now()}`;

const open = clientsForSuite();

const claimFrom = async (server: TestServer, token: string, queue: string) =>
  (await server.gqlOk('mutation ($q: String) { claimTask(queue: $q) { id attempts } }', { q: queue }, token)).claimTask as { id: string; attempts: number } | null;
const complete = (server: TestServer, token: string, id: string) => server.gqlOk('mutation ($id: ID!) { completeTask(id: $id) { id } }', { id }, token);
const fail = (server: TestServer, token: string, id: string) => server.gqlOk('mutation ($id: ID!) { failTask(id: $id, error: "boom") { id status } }', { id }, token);
const queuesOf = async (server: TestServer, token: string): Promise<Queue[]> => (await server.gqlOk(QUEUES, {}, token)).taskQueues;
const queueOf = async (server: TestServer, token: string, name: string) => (await queuesOf(server, token)).find((q) => q.name === name);
const last = (subscription: LiveSubscription<Changed>, name: string) => subscription.values.map((v) => v.taskQueueChanged).filter((q) => q.name === name).at(-1);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('task queue backlog on one server', () => {
  let server: TestServer;
  let owner: { id: string; token: string };
  let other: { id: string; token: string };
  let viewer: { id: string; token: string };
  beforeAll(async () => {
    server = await startTestServer({ DB_POOL_MAX: '20' });
    owner = await server.newUser('MEMBER');
    other = await server.newUser('MEMBER');
    viewer = await server.newUser('VIEWER');
  });
  afterAll(() => server?.stop());

  describe('taskQueues', () => {
    it('should count ready, running and delayed tasks and age the oldest ready one; PENDING and finished tasks are no backlog', async () => {
      const queue = fresh('counts');
      await startedWorkflow(server, owner.token, [{ name: 'backoff', queue, maxAttempts: 2, retry: { initialIntervalSeconds: 60 } } as TaskSpec]);
      const backoff = (await claimFrom(server, owner.token, queue))!;
      await fail(server, owner.token, backoff.id);
      expect(await queueOf(server, owner.token, queue)).toEqual({ name: queue, ready: 0, running: 0, delayed: 1, oldestReadyAgeSeconds: null });
      await startedWorkflow(server, owner.token, [
        { name: 'a', queue }, { name: 'b', queue }, { name: 'c', queue },
        { name: 'gate', queue: fresh('gate') }, { name: 'later', queue, dependsOn: ['gate'] },
      ]);
      // The backing-off task is skipped: a, then b.
      const a = (await claimFrom(server, owner.token, queue))!;
      await complete(server, owner.token, a.id);
      await claimFrom(server, owner.token, queue);
      // c READY, b RUNNING, backoff delayed, later PENDING, a SUCCEEDED.
      const counted = (await queueOf(server, owner.token, queue))!;
      expect(counted).toMatchObject({ name: queue, ready: 1, running: 1, delayed: 1 });
      expect(counted.oldestReadyAgeSeconds).toBeGreaterThanOrEqual(0);
      expect(counted.oldestReadyAgeSeconds).toBeLessThan(10);
    });

    it('should report the age of the oldest claimable task', async () => {
      const queue = fresh('age');
      await startedWorkflow(server, owner.token, [{ name: 'old', queue }]);
      await sleep(1_100);
      await startedWorkflow(server, owner.token, [{ name: 'new', queue }]);
      const counted = (await queueOf(server, owner.token, queue))!;
      expect(counted.ready).toBe(2);
      expect(counted.oldestReadyAgeSeconds).toBeGreaterThanOrEqual(1);
      expect(counted.oldestReadyAgeSeconds).toBeLessThan(10);
    });

    it('should show a member only its own workflows\' tasks, and admins and viewers everyone\'s', async () => {
      const queue = fresh('scoped');
      await startedWorkflow(server, owner.token, [{ name: 'mine', queue }, { name: 'mine too', queue }]);
      await startedWorkflow(server, other.token, [{ name: 'theirs', queue }]);
      expect(await queueOf(server, owner.token, queue)).toMatchObject({ ready: 2 });
      expect(await queueOf(server, other.token, queue)).toMatchObject({ ready: 1 });
      expect(await queueOf(server, server.adminToken, queue)).toMatchObject({ ready: 3 });
      expect(await queueOf(server, viewer.token, queue)).toMatchObject({ ready: 3 });
      const third = await server.newUser('MEMBER');
      expect(await queueOf(server, third.token, queue)).toBeUndefined();
      const anonymous = await server.gql(QUEUES);
      expect(anonymous.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
    });

    it('should drop a queue once nothing in it is READY or RUNNING, and forget a deleted workflow\'s tasks', async () => {
      const queue = fresh('drained');
      const workflow = await startedWorkflow(server, owner.token, [{ name: 'one', queue }, { name: 'two', queue }]);
      const one = (await claimFrom(server, owner.token, queue))!;
      await complete(server, owner.token, one.id);
      expect(await queueOf(server, owner.token, queue)).toMatchObject({ ready: 1, running: 0 });
      await server.gqlOk('mutation ($id: ID!) { cancelWorkflow(id: $id) { id } }', { id: workflow.id }, owner.token);
      expect(await queueOf(server, owner.token, queue)).toBeUndefined();
      const deleted = fresh('deleted');
      const doomed = await startedWorkflow(server, owner.token, [{ name: 'x', queue: deleted }]);
      expect(await queueOf(server, owner.token, deleted)).toMatchObject({ ready: 1 });
      await server.gqlOk('mutation ($id: ID!) { deleteWorkflow(id: $id) }', { id: doomed.id }, owner.token);
      expect(await queueOf(server, owner.token, deleted)).toBeUndefined();
    });

    it('should be read through tasks_backlog_idx (for everyone and for a member), never a scan of tasks', async () => {
      const client = new pg.Client({ connectionString: server.database.url });
      await client.connect();
      try {
        // The test table is small enough for a sequential scan to be cheapest: rule it out to see the index can serve.
        await client.query('set enable_seqscan = off; set enable_bitmapscan = off');
        const ownerUuid = Buffer.from(owner.id, 'base64').toString().replace(/^User:/, '');
        for (const [queues, ownerId] of [[null, null], [['a', 'b'], null], [null, ownerUuid]] as const) {
          const { sql, params } = backlogStatement(queues, ownerId, 1000);
          let n = 0;
          const text = sql.replace(/\?/g, () => `$${++n}`);
          const plan = (await client.query(`explain ${text}`, params)).rows.map((r) => r['QUERY PLAN']).join('\n');
          expect(plan, plan).toMatch(/Index (Only )?Scan using tasks_backlog_idx on tasks/);
          expect(plan).not.toMatch(/Seq Scan on tasks/);
        }
      } finally {
        await client.end();
      }
    });
  });

  describe('taskQueueChanged', () => {
    it('should refuse bad queue lists with BAD_USER_INPUT naming the field', async () => {
      const live = open(server, owner.token);
      const cases: Array<[unknown, RegExp, string]> = [
        [[], /at least one queue/, 'queues'],
        [[''], /^queues\[0\] must be 1 to 100/, 'queues[0]'],
        [['ok', 'x'.repeat(101)], /^queues\[1\] must be 1 to 100/, 'queues[1]'],
        [['with space'], /^queues\[0\] must be/, 'queues[0]'],
        [Array.from({ length: 51 }, (_, i) => `q${i}`), /at most 50 queues/, 'queues'],
      ];
      for (const [queues, message, field] of cases) {
        const subscription = live.subscribe<Changed>(CHANGED, { queues });
        await subscription.done();
        expect(subscription.values).toEqual([]);
        expect(subscription.errors[0]?.extensions?.code, JSON.stringify(queues)).toBe('BAD_USER_INPUT');
        expect(subscription.errors[0].message).toMatch(message);
        expect((subscription.errors[0].extensions as any).field).toBe(field);
      }
    });

    it('should send the backlog now, then each change: READY, claimed, finished, cancelled', async () => {
      const queue = fresh('live');
      const subscription = open(server, owner.token).subscribe<Changed>(CHANGED, { queues: [queue] });
      await subscription.take(1);
      expect(subscription.values[0].taskQueueChanged).toEqual({ name: queue, ready: 0, running: 0, delayed: 0, oldestReadyAgeSeconds: null });
      const workflow = await startedWorkflow(server, owner.token, [{ name: 'one', queue }, { name: 'two', queue }]);
      await until(() => last(subscription, queue)?.ready === 2, 'two ready');
      const one = (await claimFrom(server, owner.token, queue))!;
      await until(() => last(subscription, queue)?.running === 1, 'one running');
      expect(last(subscription, queue)).toMatchObject({ ready: 1, running: 1 });
      await complete(server, owner.token, one.id);
      await until(() => last(subscription, queue)?.running === 0, 'none running');
      await server.gqlOk('mutation ($id: ID!) { cancelWorkflow(id: $id) { id } }', { id: workflow.id }, owner.token);
      await until(() => last(subscription, queue)?.ready === 0, 'the cancelled task gone');
      expect(last(subscription, queue)).toEqual({ name: queue, ready: 0, running: 0, delayed: 0, oldestReadyAgeSeconds: null });
    });

    it('should give a member only its own workflows\' changes, and tell nobody of queues it did not ask for', async () => {
      const queue = fresh('private');
      const elsewhere = fresh('elsewhere');
      const mine = open(server, owner.token).subscribe<Changed>(CHANGED, { queues: [queue] });
      const everyone = open(server, server.adminToken).subscribe<Changed>(CHANGED, { queues: [queue] });
      await Promise.all([mine.take(1), everyone.take(1)]);
      await startedWorkflow(server, other.token, [{ name: 'theirs', queue }, { name: 'far', queue: elsewhere }]);
      await until(() => last(everyone, queue)?.ready === 1, 'the admin to see it');
      await startedWorkflow(server, owner.token, [{ name: 'mine', queue }]);
      await until(() => last(everyone, queue)?.ready === 2, 'the admin to see both');
      await until(() => last(mine, queue)?.ready === 1, 'the owner to see its own');
      expect(mine.values.map((v) => v.taskQueueChanged.ready)).toEqual([0, 1]);
      expect([...mine.values, ...everyone.values].every((v) => v.taskQueueChanged.name === queue)).toBe(true);
    });

    it('should wake subscribers when a delayed task becomes claimable, with no change to tell of it', async () => {
      const queue = fresh('backoff');
      await startedWorkflow(server, owner.token, [{ name: 'flaky', queue, maxAttempts: 2, retry: { initialIntervalSeconds: 1 } } as TaskSpec]);
      const subscription = open(server, owner.token).subscribe<Changed>(CHANGED, { queues: [queue] });
      await subscription.take(1);
      const task = (await claimFrom(server, owner.token, queue))!;
      await fail(server, owner.token, task.id);
      await until(() => last(subscription, queue)?.delayed === 1, 'the task to back off');
      const failedAt = Date.now();
      expect(last(subscription, queue)).toMatchObject({ ready: 0, running: 0 });
      await until(() => last(subscription, queue)?.ready === 1, 'the backoff to end', 5_000);
      expect(Date.now() - failedAt).toBeGreaterThan(700);
      expect(last(subscription, queue)).toMatchObject({ delayed: 0, running: 0 });
      expect((await claimFrom(server, owner.token, queue))?.attempts).toBe(2);
    });

    it('should coalesce a burst: 1,000 tasks readied and claimed make a handful of reads, shared by every subscriber', async () => {
      const queue = fresh('burst');
      const subscriptions = [open(server, owner.token), open(server, owner.token), open(server, owner.token)].map((live) => live.subscribe<Changed>(CHANGED, { queues: [queue] }));
      await Promise.all(subscriptions.map((s) => s.take(1)));
      const before = backlogRecomputes(server.app.services);
      await startedWorkflow(server, owner.token, Array.from({ length: 1_000 }, (_, i) => ({ name: `t${i}`, queue })));
      await until(() => subscriptions.every((s) => last(s, queue)?.ready === 1_000), 'every subscriber to see 1,000 ready');
      // 50 concurrent claims: 50 events in as many transactions.
      await Promise.all(Array.from({ length: 50 }, () => claimFrom(server, owner.token, queue)));
      await until(() => subscriptions.every((s) => last(s, queue)?.running === 50), 'every subscriber to see 50 running');
      const reads = backlogRecomputes(server.app.services) - before;
      // 1,050 task events: read at most once per 100 ms for all three subscribers (10 here; a read per event: 1,050, checked).
      expect(reads).toBeGreaterThanOrEqual(2);
      expect(reads).toBeLessThan(40);
      for (const s of subscriptions) {
        expect(s.values.length).toBeLessThan(41);
        expect(last(s, queue)).toMatchObject({ ready: 950, running: 50 });
      }
    });

    it('should name every queue with a backlog first when no queue is named', async () => {
      const queue = fresh('any');
      await startedWorkflow(server, owner.token, [{ name: 'waiting', queue }]);
      const subscription = open(server, owner.token).subscribe<Changed>(CHANGED, {});
      await until(() => last(subscription, queue)?.ready === 1, 'the backlog');
      const later = fresh('any-later');
      await startedWorkflow(server, owner.token, [{ name: 'new', queue: later }]);
      await until(() => last(subscription, later)?.ready === 1, 'the new queue');
      expect(subscription.values.every((v) => v.taskQueueChanged.ready + v.taskQueueChanged.running + v.taskQueueChanged.delayed > 0)).toBe(true);
    });
  });
});

describeRedis('taskQueueChanged across replicas', () => {
  let a: TestServer;
  let b: TestServer;
  beforeAll(async () => {
    [a, b] = await startPair({ ...redisEnv(), ...NO_POLL });
  });
  afterAll(async () => {
    await b?.stop();
    await a?.stop();
  });

  it('should tell a subscriber on A of tasks readied, claimed and finished on B', async () => {
    const member = await a.newUser('MEMBER');
    const queue = fresh('replicas');
    const onA = open(a, member.token).subscribe<Changed>(CHANGED, { queues: [queue] });
    await onA.take(1);
    await startedWorkflow(b, member.token, [{ name: 'far', queue }]);
    await until(() => last(onA, queue)?.ready === 1, 'A to hear of the READY task');
    const task = (await claimFrom(b, member.token, queue))!;
    await until(() => last(onA, queue)?.running === 1, 'A to hear of the claim');
    await complete(b, member.token, task.id);
    await until(() => last(onA, queue)?.running === 0, 'A to hear of the completion');
    expect(last(onA, queue)).toEqual({ name: queue, ready: 0, running: 0, delayed: 0, oldestReadyAgeSeconds: null });
  });
});

/**
 * `workflowEvents` phase by phase over both live transports (real graphql-ws sockets, and
 * graphql-sse's client on /graphql/stream), each once with the in-process bus and once with
 * Redis pub/sub: SSE subscriptions pass the same tests as WebSocket ones, only the way a
 * refusal shows differs (a close code, an HTTP status).
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, connectSse, liveWorkflowEvents, until, WORKFLOW_EVENTS, type ConnectOptions, type LiveClient, type SseClient, type WorkflowEventData as Event } from '../support/live.js';
import { describeRedis, redisEnv } from '../support/redis.js';
import { SESSION_COOKIE } from '../../src/app/start.js';
import { idOf } from '../../src/core/ids.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { claim, newWorkflow, startedWorkflow } from '../support/workflows.js';

type Transport = 'websocket' | 'sse';
/** How each transport refuses a credential: a close code, an HTTP status. */
const REFUSED: Record<Transport, { unknown: number; missing: number }> = { websocket: { unknown: 4403, missing: 4401 }, sse: { unknown: 401, missing: 401 } };

function eventSuite(mode: 'in-process' | 'redis', env: () => Record<string, string>, transport: Transport) {
  let server: TestServer;
  let member: { id: string; token: string };
  let other: { id: string; token: string };
  let viewer: { id: string; token: string };
  const clients: Array<LiveClient | SseClient> = [];
  const open = (options: ConnectOptions) => {
    const client = transport === 'sse' ? connectSse(server.url, options) : connect(server.url, options);
    clients.push(client);
    return client;
  };
  /** How the client was refused: the socket's first close code, or the first refused request's status. */
  const refusal = (client: LiveClient | SseClient) => ('closed' in client ? client.closed[0]?.code : client.refusals[0]?.status);
  const subscribeLive = (token: string, variables: Record<string, unknown> = {}) => liveWorkflowEvents(server.app, open({ token }), variables);
  const kinds = (events: Event[]) => events.map((e) => e.workflowEvents.kind);

  beforeAll(async () => {
    server = await startTestServer(env());
    [member, other, viewer] = await Promise.all([server.newUser('MEMBER'), server.newUser('MEMBER'), server.newUser('VIEWER')]);
  });
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.dispose()));
    await server?.stop();
  });

  describe(`workflowEvents over ${transport} (${mode} bus)`, () => {
    describe('Connect', () => {
      it(`should refuse a token that does not check out (${REFUSED[transport].unknown})`, async () => {
        const client = open({ token: 'not-a-token' });
        const subscription = client.subscribe(WORKFLOW_EVENTS);
        await subscription.done();
        expect(refusal(client)).toBe(REFUSED[transport].unknown);
      });

      it(`should refuse a client that brings no credentials (${REFUSED[transport].missing})`, async () => {
        const client = open({});
        const subscription = client.subscribe(WORKFLOW_EVENTS);
        await subscription.done();
        expect(refusal(client)).toBe(REFUSED[transport].missing);
      });

      it('should accept the session cookie', async () => {
        const workflow = await newWorkflow(server, member.token, [], 'by cookie');
        const subscription = open({ cookie: `${SESSION_COOKIE}=${encodeURIComponent(member.token)}` }).subscribe<Event>(WORKFLOW_EVENTS, {
          workflowId: workflow.id,
          after: '0',
        });
        const [created] = await subscription.take(1);
        expect(created.workflowEvents).toMatchObject({ kind: 'CREATED', workflow: { id: workflow.id, name: 'by cookie' } });
      });
    });

    describe('Subscribe', () => {
      it('should answer bad input with an error and keep the connection open', async () => {
        const client = open({ token: member.token });
        // Kept open so the (lazy) client keeps its socket: the bad operations must not close it.
        const keeper = client.subscribe<Event>(WORKFLOW_EVENTS, { after: '0' });
        const badCursor = client.subscribe(WORKFLOW_EVENTS, { after: 'yesterday' });
        const badId = client.subscribe(WORKFLOW_EVENTS, { workflowId: 'nope' });
        const badQuery = client.subscribe('subscription { workflowEvents { nope } }');
        const syntax = client.subscribe('subscription {');
        const tooDeep = client.subscribe(`subscription { workflowEvents { ${'workflow { tasks { '.repeat(6)}id${' } }'.repeat(6)} } }`);
        await Promise.all([badCursor.done(), badId.done(), badQuery.done(), syntax.done(), tooDeep.done()]);
        expect(badCursor.errors[0].extensions?.code).toBe('BAD_USER_INPUT');
        expect(badId.errors[0].extensions?.code).toBe('BAD_USER_INPUT');
        expect(badQuery.errors[0].extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
        expect(syntax.errors[0].extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
        expect(tooDeep.errors[0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT', limit: 'QUERY_MAX_DEPTH' } });
        const workflow = await newWorkflow(server, member.token, [], 'still open');
        await until(() => keeper.values.some((e) => e.workflowEvents.workflowId === workflow.id), 'the event on the same socket');
        // Over SSE each operation is a stream of its own: the keeper's event shows it stayed open.
        if ('closed' in client) expect(client.closed).toEqual([]);
      });

      it("should answer NOT_FOUND for another member's workflow", async () => {
        const workflow = await newWorkflow(server, other.token, [], 'not yours');
        const subscription = open({ token: member.token }).subscribe(WORKFLOW_EVENTS, { workflowId: workflow.id });
        await subscription.done();
        expect(subscription.errors.map((e) => e.extensions?.code)).toEqual(['NOT_FOUND']);
      });

      it('should run queries and mutations over it too', async () => {
        const result = open({ token: member.token }).subscribe(`mutation { createWorkflow(input: { name: "over ${transport}" }) { name status } }`);
        const [data] = await result.take(1);
        expect(data).toEqual({ createWorkflow: { name: `over ${transport}`, status: 'DRAFT' } });
      });
    });

    describe('Live', () => {
      it('should push each lifecycle change with its relations as they are now', async () => {
        const subscription = await subscribeLive(member.token);
        const workflow = await newWorkflow(server, member.token, [{ name: 'only', queue: `q-live-${mode}` }], 'live');
        const [created] = await subscription.take(1);
        expect(created.workflowEvents).toMatchObject({ kind: 'CREATED', workflowId: workflow.id, workflow: { id: workflow.id, status: 'DRAFT', taskCounts: { total: 1 } }, task: null });

        await server.gqlOk('mutation ($id: ID!) { startWorkflow(id: $id) { id } }', { id: workflow.id }, member.token);
        await subscription.take(3);
        // A fresh context per event: the workflow is read as it is now, not from the first event's cache.
        expect(subscription.values.slice(1).map((e) => [e.workflowEvents.kind, e.workflowEvents.workflow.status])).toEqual([
          ['UPDATED', 'PENDING'],
          ['TASK_UPDATED', 'PENDING'],
        ]);
        expect(subscription.values[2].workflowEvents.task).toMatchObject({ name: 'only', status: 'READY' });

        const task = await claim(server, member.token, `q-live-${mode}`);
        await server.gqlOk('mutation ($id: ID!) { completeTask(id: $id) { id } }', { id: task!.id }, member.token);
        const events = await subscription.take(7);
        expect(kinds(events.slice(3))).toEqual(['UPDATED', 'TASK_UPDATED', 'TASK_UPDATED', 'UPDATED']);
        expect(events.at(-1)!.workflowEvents.workflow).toMatchObject({ status: 'SUCCEEDED', taskCounts: { succeeded: 1 } });

        await server.gqlOk('mutation ($id: ID!) { deleteWorkflow(id: $id) }', { id: workflow.id }, member.token);
        const [deleted] = (await subscription.take(8)).slice(7);
        expect(deleted.workflowEvents).toMatchObject({ kind: 'DELETED', workflowId: workflow.id, workflow: null, task: null });
        const cursors = subscription.values.map((e) => BigInt(e.workflowEvents.cursor.replace(/^workflow:/, '')));
        expect(cursors).toEqual([...cursors].sort((a, b) => (a < b ? -1 : 1)));
      });

      it('should only push the events of the workflow asked for', async () => {
        const mine = await newWorkflow(server, member.token, [], 'watched');
        const subscription = await subscribeLive(member.token, { workflowId: mine.id });
        await newWorkflow(server, member.token, [], 'not watched');
        await server.gqlOk('mutation ($id: ID!) { startWorkflow(id: $id) { id } }', { id: mine.id }, member.token);
        const events = await subscription.take(2);
        expect(events.map((e) => [e.workflowEvents.kind, e.workflowEvents.workflowId])).toEqual([
          ['UPDATED', mine.id],
          ['UPDATED', mine.id],
        ]);
      });
    });

    describe('Isolation', () => {
      it('should deliver an event only to those allowed to see its workflow, DELETED included', async () => {
        const [mineSub, otherSub, adminSub, viewerSub] = await Promise.all([
          subscribeLive(member.token),
          subscribeLive(other.token),
          subscribeLive(server.adminToken),
          subscribeLive(viewer.token),
        ]);
        const mine = await newWorkflow(server, member.token, [], 'mine');
        const theirs = await newWorkflow(server, other.token, [], 'theirs');
        await server.gqlOk('mutation ($id: ID!) { deleteWorkflow(id: $id) }', { id: mine.id }, member.token);
        await server.gqlOk('mutation ($id: ID!) { deleteWorkflow(id: $id) }', { id: theirs.id }, other.token);

        const seen = (events: Event[]) => events.map((e) => `${e.workflowEvents.kind} ${e.workflowEvents.workflowId === mine.id ? 'mine' : 'theirs'}`);
        expect(seen(await adminSub.take(4))).toEqual(['CREATED mine', 'CREATED theirs', 'DELETED mine', 'DELETED theirs']);
        expect(seen(await viewerSub.take(4))).toEqual(['CREATED mine', 'CREATED theirs', 'DELETED mine', 'DELETED theirs']);
        expect(seen(await mineSub.take(2))).toEqual(['CREATED mine', 'DELETED mine']);
        expect(seen(await otherSub.take(2))).toEqual(['CREATED theirs', 'DELETED theirs']);
        // The admin saw the last event, so anything meant for the members has been handed out too.
        expect(mineSub.values).toHaveLength(2);
        expect(otherSub.values).toHaveLength(2);
      });

      it("should not replay another member's events on resume", async () => {
        const theirs = await newWorkflow(server, other.token, [], 'private');
        const subscription = open({ token: member.token }).subscribe<Event>(WORKFLOW_EVENTS, { after: '0' });
        const marker = await newWorkflow(server, member.token, [], 'marker');
        await until(() => subscription.values.some((e) => e.workflowEvents.workflowId === marker.id), 'the marker event');
        expect(subscription.values.some((e) => e.workflowEvents.workflowId === theirs.id)).toBe(false);
      });
    });

    describe('Resume', () => {
      it('should replay every later event in order, then live ones, with no gap and no duplicate at the seam', async () => {
        const first = await startedWorkflow(server, member.token, [{ name: 'a' }, { name: 'b' }], 'resume');
        const head = open({ token: member.token }).subscribe<Event>(WORKFLOW_EVENTS, { workflowId: first.id, after: '0' });
        const cursor = (await head.take(1))[0].workflowEvents.cursor;

        // Changes keep landing while the resumed stream replays: the seam is crossed under load.
        const resumed = open({ token: member.token }).subscribe<Event>(WORKFLOW_EVENTS, { after: cursor });
        await Promise.all(Array.from({ length: 12 }, (_, i) => newWorkflow(server, member.token, [], `burst ${i}`)));

        // The truth: every event of this member after the cursor, from the table.
        const db = new pg.Client({ connectionString: server.database.url });
        await db.connect();
        const { rows } = await db.query("select id::text from events where topic = 'workflow' and owner_id = $1 and id > $2 order by id", [
          idOf('User', member.id),
          cursor.replace(/^workflow:/, ''),
        ]);
        await db.end();
        const truth = rows.map((row) => `workflow:${row.id}`);
        expect(truth.length).toBeGreaterThan(12);
        await resumed.take(truth.length);
        await new Promise((resolve) => setTimeout(resolve, 50)); // room for a duplicate to show up
        expect(resumed.values.map((e) => e.workflowEvents.cursor)).toEqual(truth);
      });

      it('should end the server side of a subscription when the client stops it', async () => {
        const before = server.app.services.feed.streamCount();
        const subscription = await subscribeLive(member.token);
        subscription.stop();
        await until(() => server.app.services.feed.streamCount() === before, 'the stream to close');
      });
    });
  });
}

for (const transport of ['websocket', 'sse'] as const) {
  describe('with the in-process bus', () => {
    eventSuite('in-process', () => ({}), transport);
  });
  describeRedis('with Redis', () => {
    eventSuite('redis', () => redisEnv(), transport);
  });
}

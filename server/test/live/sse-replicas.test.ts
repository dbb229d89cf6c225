/**
 * Server-Sent Events across replicas on one database and one Redis (the table poll at ten
 * minutes: what crosses came through the bus): an event made on one replica reaches a stream
 * on another, a revocation on one ends streams on the other, and a subscriber whose replica
 * shuts down reconnects (graphql-sse's own retry) to another and resumes with its last cursor,
 * every event exactly once.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { connectSse, liveWorkflowEvents, until, workflowCursorsAfter, WORKFLOW_EVENTS, type SseClient, type WorkflowEventData as Event } from '../support/live.js';
import { describeRedis, redisEnv } from '../support/redis.js';
import { NO_POLL, startPair } from '../support/replica-pair.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { newWorkflow } from '../support/workflows.js';

describeRedis('GraphQL over SSE across replicas', () => {
  let a: TestServer;
  let b: TestServer;
  const env = { ...redisEnv(), ...NO_POLL, WS_CREDENTIAL_RECHECK_MS: '600000' };
  const clients: SseClient[] = [];
  const sse = (server: TestServer | (() => string), token: string, retryAttempts = 0) => {
    const client = connectSse(typeof server === 'function' ? server : server.url, { token, retryAttempts });
    clients.push(client);
    return client;
  };
  beforeAll(async () => {
    [a, b] = await startPair(env);
  });
  afterAll(async () => {
    clients.forEach((c) => c.dispose());
    await b?.stop();
    await a?.stop();
  });

  it('should deliver an event made on A to a stream on B', async () => {
    const member = await a.newUser('MEMBER');
    const subscription = await liveWorkflowEvents(b.app, sse(b, member.token));
    const made = await newWorkflow(a, member.token, [], 'made on A');
    const [event] = await subscription.take(1);
    expect(event.workflowEvents).toMatchObject({ kind: 'CREATED', workflow: { id: made.id, name: 'made on A' } });
  });

  it('should end on B the streams of an API token revoked on A', async () => {
    const user = await a.newUser('VIEWER');
    const token = (await a.gqlOk('mutation { createApiToken(name: "sse") }', {}, user.token)).createApiToken;
    const live = await liveWorkflowEvents(b.app, sse(b, token));
    const { id } = (await a.gqlOk('{ apiTokens { id } }', {}, user.token)).apiTokens[0];
    await a.gqlOk('mutation ($id: ID!) { revokeApiToken(id: $id) }', { id }, user.token);
    await live.done(5_000);
    expect(live.errors.map((e) => e.extensions?.code)).toEqual(['UNAUTHENTICATED']);
  });

  it('should resume on another replica after its own shut down, with every event exactly once and in order', async () => {
    const leaving = await startTestServer(env, a.database);
    const member = await a.newUser('MEMBER');
    let target = leaving.url;
    const client = sse(() => target, member.token, 10);
    // graphql-sse sends this same request again on every retry: `after` moves with what arrived.
    const variables: { after: string } = { after: '0' };
    const received: string[] = [];
    let connects = 0;
    const errors: unknown[] = [];
    const unsubscribe = client.client.subscribe<Event>(
      { query: WORKFLOW_EVENTS, variables },
      {
        next: (result) => {
          if (!result.data) return void errors.push(result.errors);
          received.push(result.data.workflowEvents.cursor);
          variables.after = result.data.workflowEvents.cursor;
        },
        error: (error) => errors.push(error),
        complete: () => errors.push('completed'),
      },
      { connecting: () => void connects++ },
    );
    for (let i = 0; i < 3; i++) await newWorkflow(a, member.token, [], `before ${i}`);
    await until(() => received.length === 3, 'the first events on the leaving replica');
    // It shuts down while changes keep landing; its streams end without `complete`.
    target = a.url;
    const writes = Promise.all(Array.from({ length: 6 }, (_, i) => newWorkflow(a, member.token, [], `during ${i}`)));
    await leaving.stop();
    await writes;
    for (let i = 0; i < 3; i++) await newWorkflow(a, member.token, [], `after ${i}`);
    const truth = await workflowCursorsAfter(a, member.id, 'workflow:0');
    expect(truth).toHaveLength(12);
    await until(() => received.length >= truth.length, 'every event, after the reconnect');
    await new Promise((resolve) => setTimeout(resolve, 50)); // room for a duplicate to show up
    unsubscribe();
    expect(received).toEqual(truth);
    expect(errors).toEqual([]);
    expect(connects).toBeGreaterThanOrEqual(2);
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { connect, rawSocket, signedInSocket, until, WORKFLOW_EVENTS, type LiveClient } from '../support/live.js';
import { expectHealthy } from '../support/hostile.js';
import { startTestServer, type TestServer } from '../support/server.js';

let server: TestServer;
const clients: LiveClient[] = [];

beforeAll(async () => {
  server = await startTestServer({ WS_INIT_TIMEOUT_MS: '300', MAX_BODY_BYTES: '4096', WS_MAX_SUBSCRIPTIONS: '2', WS_CREDENTIAL_RECHECK_MS: '100', WS_KEEPALIVE_MS: '200' });
});
afterAll(async () => {
  await Promise.all(clients.map((client) => client.dispose()));
  await server?.stop();
});

function open(token: string): LiveClient {
  const client = connect(server.url, { token });
  clients.push(client);
  return client;
}

describe('WebSocket limits', () => {
  it('should close a socket that does not initialise in time with 4408', async () => {
    const { closed } = await rawSocket(server.url);
    expect((await closed).code).toBe(4408);
    await expectHealthy(server);
  });

  it('should close a socket that sends a message over MAX_BODY_BYTES with 1009', async () => {
    const { socket, closed } = await rawSocket(server.url);
    socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${server.adminToken}` } }));
    socket.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query: `{ viewer { id } } # ${'x'.repeat(5000)}` } }));
    expect((await closed).code).toBe(1009);
    await expectHealthy(server);
  });

  it('should close a socket that sends garbage with 4400', async () => {
    const { socket, closed } = await rawSocket(server.url);
    socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${server.adminToken}` } }));
    socket.send('{"type": "subscribe", "id": 7, "payload": "\u0000"}');
    expect((await closed).code).toBe(4400);
    await expectHealthy(server);
  });

  it('should refuse operations past WS_MAX_SUBSCRIPTIONS on one socket, and keep the others', async () => {
    const client = open(server.adminToken);
    const live = [client.subscribe(WORKFLOW_EVENTS), client.subscribe(WORKFLOW_EVENTS)];
    await until(() => server.app.services.feed.streamCount() >= 2, 'two subscriptions to start');
    const before = server.app.services.feed.streamCount();
    const third = client.subscribe(WORKFLOW_EVENTS);
    await third.done();
    expect(third.errors.map((e) => e.extensions?.code)).toEqual(['RATE_LIMITED']);
    expect(third.errors[0].message).toContain('WS_MAX_SUBSCRIPTIONS');
    expect(live.every((s) => !s.completed)).toBe(true);
    expect(server.app.services.feed.streamCount()).toBe(before);
  });
});

describe('graphql-transport-ws protocol', () => {
  it('should close a socket without the graphql-transport-ws subprotocol with 4406', async () => {
    const { closed } = await rawSocket(server.url, []);
    expect((await closed).code).toBe(4406);
  });

  it('should close a socket that subscribes before it is acknowledged with 4401', async () => {
    const { socket, closed } = await rawSocket(server.url);
    socket.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query: '{ viewer { id } }' } }));
    expect((await closed).code).toBe(4401);
  });

  it('should answer ping with pong, and close a second connection_init with 4429', async () => {
    const { socket, closed, received } = await signedInSocket(server.url, server.adminToken);
    socket.send(JSON.stringify({ type: 'ping', payload: { at: 1 } }));
    await until(() => received.some((m) => m.type === 'pong'), 'a pong');
    expect(received.find((m) => m.type === 'pong')).toEqual({ type: 'pong', payload: { at: 1 } });
    socket.send(JSON.stringify({ type: 'connection_init' }));
    expect((await closed).code).toBe(4429);
  });

  it('should close a socket reusing the id of a running operation with 4409', async () => {
    const { socket, closed } = await signedInSocket(server.url, server.adminToken);
    const subscribe = JSON.stringify({ id: 'same', type: 'subscribe', payload: { query: 'subscription { workflowEvents { kind } }' } });
    socket.send(subscribe);
    socket.send(subscribe);
    expect((await closed).code).toBe(4409);
    await expectHealthy(server);
  });

  it('should close a socket that sends a server message with 4400', async () => {
    const { socket, closed } = await signedInSocket(server.url, server.adminToken);
    socket.send(JSON.stringify({ id: '1', type: 'next', payload: { data: {} } }));
    expect((await closed).code).toBe(4400);
  });

  it('should cut off a peer that stops answering pings, and keep one that answers', async () => {
    const answering = await signedInSocket(server.url, server.adminToken);
    const silent = await rawSocket(server.url, ['graphql-transport-ws'], { autoPong: false });
    silent.socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${server.adminToken}` } }));
    // Cut off without a close handshake: the client sees 1006.
    expect((await silent.closed).code).toBe(1006);
    expect(answering.socket.readyState).toBe(WebSocket.OPEN);
  });

  it('should stop a subscription the client completes, and keep the socket', async () => {
    const { socket, received } = await signedInSocket(server.url, server.adminToken);
    const before = server.app.services.feed.streamCount();
    socket.send(JSON.stringify({ id: 'a', type: 'subscribe', payload: { query: 'subscription { workflowEvents { kind } }' } }));
    await until(() => server.app.services.feed.streamCount() === before + 1, 'the subscription to start');
    socket.send(JSON.stringify({ id: 'a', type: 'complete' }));
    await until(() => server.app.services.feed.streamCount() === before, 'the subscription to stop');
    // The id is free again, and the socket answers.
    socket.send(JSON.stringify({ id: 'a', type: 'subscribe', payload: { query: '{ viewer { role } }' } }));
    await until(() => received.some((m) => m.type === 'complete'), 'the query to complete');
    expect(received.filter((m) => m.id === 'a')).toEqual([
      { id: 'a', type: 'next', payload: { data: { viewer: { role: 'ADMIN' } } } },
      { id: 'a', type: 'complete' },
    ]);
  });
});

describe('reusing an id', () => {
  it('should run a subscription that reuses the id of one the client just completed', async () => {
    const { socket, received } = await signedInSocket(server.url, server.adminToken);
    const before = server.app.services.feed.streamCount();
    const subscribe = JSON.stringify({ id: 'a', type: 'subscribe', payload: { query: 'subscription { workflowEvents { kind workflow { name } } }' } });
    socket.send(subscribe);
    await until(() => server.app.services.feed.streamCount() === before + 1, 'the subscription to start');
    // Back to back: the first one's end must not take the second one's place with it.
    socket.send(JSON.stringify({ id: 'a', type: 'complete' }));
    socket.send(subscribe);
    await until(() => server.app.services.feed.streamCount() === before + 1, 'the second subscription to start');
    await server.gqlOk('mutation { createWorkflow(input: { name: "reused", tasks: [{ name: "one" }] }) { id } }', {}, server.adminToken);
    await until(() => received.some((m) => m.type === 'next'), 'the event on the reused id');
    expect(received.filter((m) => m.id === 'a')).toEqual([{ id: 'a', type: 'next', payload: { data: { workflowEvents: { kind: 'CREATED', workflow: { name: 'reused' } } } } }]);
  });
});

describe('credentials of open sockets', () => {
  it('should close every socket with 4403 once their API token is revoked, and no other', async () => {
    const user = await server.newUser('MEMBER');
    const token = (await server.gqlOk('mutation { createApiToken(name: "live") }', {}, user.token)).createApiToken;
    const before = server.app.services.feed.streamCount();
    // Two sockets share the token (re-checked once for both); a third signs in otherwise.
    const [first, second, bystander] = [open(token), open(token), open(user.token)];
    const subscriptions = [first, second, bystander].map((client) => client.subscribe(WORKFLOW_EVENTS));
    await until(() => server.app.services.feed.streamCount() >= before + 3, 'the subscriptions to start');
    const { id } = (await server.gqlOk('{ apiTokens { id } }', {}, user.token)).apiTokens[0];
    await server.gqlOk('mutation ($id: ID!) { revokeApiToken(id: $id) }', { id }, user.token);
    await Promise.all(subscriptions.slice(0, 2).map((subscription) => subscription.done(5_000)));
    expect([first.closed[0]?.code, second.closed[0]?.code]).toEqual([4403, 4403]);
    // Several re-checks later the session's socket is still open.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(bystander.closed).toEqual([]);
    expect(subscriptions[2].completed).toBe(false);
  });

  it('should close a socket with 4403 once its API token expires (the periodic re-check)', async () => {
    const user = await server.newUser('MEMBER');
    const expiresAt = new Date(Date.now() + 1_500).toISOString();
    const token = (await server.gqlOk('mutation ($at: DateTime) { createApiToken(name: "short", expiresAt: $at) }', { at: expiresAt }, user.token)).createApiToken;
    const client = open(token);
    const subscription = client.subscribe(WORKFLOW_EVENTS);
    await subscription.done(10_000);
    expect(client.closed[0]?.code).toBe(4403);
    expect(Date.now()).toBeGreaterThanOrEqual(Date.parse(expiresAt));
  });

  it('should close a socket with 4403 once its session signs out', async () => {
    const user = await server.newUser('VIEWER');
    const client = open(user.token);
    const subscription = client.subscribe(WORKFLOW_EVENTS);
    await until(() => client.closed.length === 0 && server.app.services.feed.streamCount() > 0, 'the subscription to start');
    await server.gqlOk('mutation { signOut }', {}, user.token);
    await subscription.done(5_000);
    expect(client.closed[0]?.code).toBe(4403);
    await expectHealthy(server);
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { connect, until, WORKFLOW_EVENTS, type LiveClient } from '../support/live.js';
import { expectHealthy } from '../support/hostile.js';
import { startTestServer, type TestServer } from '../support/server.js';

let server: TestServer;
const clients: LiveClient[] = [];

beforeAll(async () => {
  server = await startTestServer({ WS_INIT_TIMEOUT_MS: '300', MAX_BODY_BYTES: '4096', WS_MAX_SUBSCRIPTIONS: '2', WS_CREDENTIAL_RECHECK_MS: '100' });
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

/** A bare socket speaking graphql-transport-ws, for what a well-behaved client never sends. */
function rawSocket(): Promise<{ socket: WebSocket; closed: Promise<{ code: number; reason: string }> }> {
  const socket = new WebSocket(`${server.url.replace(/^http/, 'ws')}/graphql`, 'graphql-transport-ws');
  const closed = new Promise<{ code: number; reason: string }>((resolve) => socket.once('close', (code, reason) => resolve({ code, reason: String(reason) })));
  return new Promise((resolve, reject) => {
    socket.once('open', () => resolve({ socket, closed }));
    socket.once('error', reject);
  });
}

describe('WebSocket limits', () => {
  it('should close a socket that does not initialise in time with 4408', async () => {
    const { closed } = await rawSocket();
    expect((await closed).code).toBe(4408);
    await expectHealthy(server);
  });

  it('should close a socket that sends a message over MAX_BODY_BYTES with 1009', async () => {
    const { socket, closed } = await rawSocket();
    socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${server.adminToken}` } }));
    socket.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query: `{ viewer { id } } # ${'x'.repeat(5000)}` } }));
    expect((await closed).code).toBe(1009);
    await expectHealthy(server);
  });

  it('should close a socket that sends garbage with 4400', async () => {
    const { socket, closed } = await rawSocket();
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

describe('credentials of open sockets', () => {
  it('should close a socket with 4403 once its API token is revoked', async () => {
    const user = await server.newUser('MEMBER');
    const token = (await server.gqlOk('mutation { createApiToken(name: "live") }', {}, user.token)).createApiToken;
    const client = open(token);
    const subscription = client.subscribe(WORKFLOW_EVENTS);
    await until(() => server.app.services.feed.streamCount() > 0, 'the subscription to start');
    const { id } = (await server.gqlOk('{ apiTokens { id } }', {}, user.token)).apiTokens[0];
    await server.gqlOk('mutation ($id: ID!) { revokeApiToken(id: $id) }', { id }, user.token);
    await subscription.done(5_000);
    expect(client.closed[0]?.code).toBe(4403);
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

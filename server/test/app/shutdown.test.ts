/**
 * Graceful shutdown: a replica that is told to stop finishes what it is doing, tells its
 * WebSocket clients to reconnect elsewhere (1012 Service Restart), tells keep-alive HTTP clients
 * not to reuse their connection, and exits 0 in time.
 */
import { Agent, request, type IncomingHttpHeaders } from 'node:http';
import { describe, expect, it } from 'vitest';
import { ADMIN, startTestServer } from '../support/server.js';
import { connect, liveWorkflowEvents, WORKFLOW_EVENTS } from '../support/live.js';
import { startServerProcess } from '../support/process.js';
import { waitFor } from '../support/wait.js';

/** Sends the first half of a GraphQL POST now; `finish()` sends the rest and resolves with the reply. */
function slowRequest(url: string, token: string, agent?: Agent) {
  const body = JSON.stringify({ query: '{ viewer { email } }' });
  const req = request(`${url}/graphql`, {
    method: 'POST',
    agent,
    headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), authorization: `Bearer ${token}` },
  });
  const reply = new Promise<{ status: number; body: string; headers: IncomingHttpHeaders; reusedSocket: boolean }>((resolve, reject) => {
    req.on('response', (res) => {
      let text = '';
      res.on('data', (chunk) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode!, body: text, headers: res.headers, reusedSocket: req.reusedSocket }));
    });
    req.on('error', reject);
  });
  req.write(body.slice(0, 10));
  return { finish: () => (req.end(body.slice(10)), reply) };
}

describe('graceful shutdown', () => {
  it('should finish in-flight requests and close sockets with 1012 when the app stops', async () => {
    const server = await startTestServer();
    const client = connect(server.url, { token: server.adminToken });
    const subscription = await liveWorkflowEvents(server.app, client);
    const inFlight = slowRequest(server.url, server.adminToken);
    await new Promise((resolve) => setTimeout(resolve, 50));

    const stopAt = performance.now();
    const stopping = server.app.stop();
    await waitFor('the socket to close', async () => client.closed.length > 0, 5_000, 10);
    expect(client.closed[0].code).toBe(1012);
    const reply = await inFlight.finish();
    expect(reply.status).toBe(200);
    expect(JSON.parse(reply.body)).toEqual({ data: { viewer: { email: ADMIN.email } } });
    await stopping;
    // Nothing waited for the 8 s grace period: the finished request's connection closed at once.
    expect(performance.now() - stopAt).toBeLessThan(5_000);
    expect(subscription.completed).toBe(true);
    await client.dispose();
    await server.database.drop();
  });

  it('should exit 0 within 10 s of SIGTERM with a WebSocket open', async () => {
    const replica = await startServerProcess();
    try {
      const client = connect(replica.url, { token: replica.adminToken });
      client.subscribe(WORKFLOW_EVENTS);
      await waitFor('the socket to open', async () => (await fetch(`${replica.url}/api/metrics`).then((r) => r.text())).includes('websocket_connections 1'), 10_000, 50);

      const signalled = performance.now();
      replica.child.kill('SIGTERM');
      expect((await replica.exited).code).toBe(0);
      expect(performance.now() - signalled).toBeLessThan(10_000);
      expect(client.closed[0]?.code).toBe(1012);
      await client.dispose();
    } finally {
      await replica.stop();
    }
  }, 60_000);

  it('should answer with Connection: close once draining, so keep-alive clients do not reuse the socket', async () => {
    const replica = await startServerProcess();
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const before = slowRequest(replica.url, replica.adminToken, agent);
      expect((await before.finish()).headers.connection).toBe('keep-alive');
      // In flight when SIGTERM comes (on the socket the agent kept), answered while draining.
      const inFlight = slowRequest(replica.url, replica.adminToken, agent);
      await new Promise((resolve) => setTimeout(resolve, 100));
      replica.child.kill('SIGTERM');
      await new Promise((resolve) => setTimeout(resolve, 300));
      const reply = await inFlight.finish();
      expect(reply.status).toBe(200);
      expect(reply.headers.connection).toBe('close');
      expect(reply.reusedSocket).toBe(true);
      expect((await replica.exited).code).toBe(0);
    } finally {
      agent.destroy();
      await replica.stop();
    }
  }, 60_000);
});

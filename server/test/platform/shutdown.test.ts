/**
 * Graceful shutdown: a replica that is told to stop finishes what it is doing, tells its
 * WebSocket clients to reconnect elsewhere (1012 Service Restart), and exits 0 in time.
 */
import { spawn } from 'node:child_process';
import { request } from 'node:http';
import { afterAll, describe, expect, it } from 'vitest';
import { ADMIN, startTestServer } from '../support/server.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { connect, liveWorkflowEvents, WORKFLOW_EVENTS } from '../support/live.js';
import { freePort } from '../support/ports.js';
import { waitFor } from '../support/wait.js';

/** Sends the first half of a GraphQL POST now; `finish()` sends the rest and resolves with the reply. */
function slowRequest(url: string, token: string) {
  const body = JSON.stringify({ query: '{ viewer { email } }' });
  const req = request(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), authorization: `Bearer ${token}` },
  });
  const reply = new Promise<{ status: number; body: string }>((resolve, reject) => {
    req.on('response', (res) => {
      let text = '';
      res.on('data', (chunk) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode!, body: text }));
    });
    req.on('error', reject);
  });
  req.write(body.slice(0, 10));
  return { finish: () => (req.end(body.slice(10)), reply) };
}

describe('graceful shutdown', () => {
  let database: TestDatabase | undefined;
  afterAll(() => database?.drop());

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
    database = await createTestDatabase();
    const port = await freePort();
    const { DATABASE_URL: _db, REDIS_URL: _redis, ...baseEnv } = process.env;
    const child = spawn(process.execPath, ['--import', '@swc-node/register/esm-register', 'src/main.ts'], {
      env: { ...baseEnv, DATABASE_URL: database.url, PORT: String(port), HOST: '127.0.0.1', ADMIN_EMAIL: ADMIN.email, ADMIN_PASSWORD: ADMIN.password, DEMO: '0', LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      const url = `http://127.0.0.1:${port}`;
      await waitFor('the server to serve', async () => child.exitCode === null && (await fetch(`${url}/api/ready`).then((r) => r.ok, () => false)), 25_000);
      const login = await fetch(`${url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: `mutation { login(email: "${ADMIN.email}", password: "${ADMIN.password}") { token } }` }),
      });
      const token = ((await login.json()) as any).data.login.token as string;
      const client = connect(url, { token });
      client.subscribe(WORKFLOW_EVENTS);
      await waitFor('the socket to open', async () => (await fetch(`${url}/api/metrics`).then((r) => r.text())).includes('websocket_connections 1'), 10_000, 50);

      const signalled = performance.now();
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect(performance.now() - signalled).toBeLessThan(10_000);
      expect(client.closed[0]?.code).toBe(1012);
      await client.dispose();
    } finally {
      child.kill('SIGKILL');
    }
  }, 60_000);
});

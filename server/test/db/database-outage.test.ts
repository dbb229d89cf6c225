/**
 * Issue 11, defect 16: a database outage is an outage, not a server bug. Against a private
 * PostgreSQL the test stops and starts (never the machine's shared one): requests answer 503
 * SERVICE_UNAVAILABLE with Retry-After, the outage is logged once (and its end), new sockets
 * are closed with 1013 (which graphql-ws clients retry), `healthChanged` hears it, and
 * everything works again once the database is back.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postgresBinaries, startCluster, type Cluster } from '../support/cluster.js';
import { captureLogs } from '../support/logs.js';
import { connect, rawSocket, until, type LiveClient } from '../support/live.js';
import { startHttpReceiver, type HttpReceiver } from '../support/receivers.js';
import { startTestServer, type TestServer } from '../support/server.js';

const bin = await postgresBinaries();
if (!bin) console.warn('database outage test skipped: no PostgreSQL binaries under /usr/lib/postgresql');

let cluster: Cluster;
let server: TestServer;
let sentry: HttpReceiver;
let live: LiveClient;
const logs = captureLogs('info');
const HEALTH = 'subscription { healthChanged { status components { name status } } }';

const reported = () => sentry.received.filter((r) => r.path.startsWith('/api/42/envelope/') && r.body.includes('"exception"'));

beforeAll(async () => {
  if (!bin) return;
  cluster = await startCluster(bin);
  sentry = await startHttpReceiver();
  const dsn = `${sentry.url.replace('http://', 'http://publickey@')}/42`;
  server = await startTestServer({ SENTRY_DSN: dsn, LOG_LEVEL: 'info', SAMPLE_INTERVAL_SECONDS: '1' }, { url: cluster.url, drop: async () => undefined }, logs.logger);
  live = connect(server.url, { token: server.adminToken });
});
afterAll(async () => {
  await live?.dispose();
  await cluster?.start().catch(() => undefined);
  await server?.stop();
  await sentry?.close();
  await cluster?.destroy();
});

function workflows() {
  return fetch(`${server.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${server.adminToken}` },
    body: JSON.stringify({ query: '{ workflows { totalCount } }' }),
  });
}

describe.skipIf(!bin)('a database outage', () => {
  it('should answer 503 SERVICE_UNAVAILABLE with Retry-After, log it once, close new sockets with 1013, tell healthChanged, and recover', async () => {
    const health = live.subscribe(HEALTH);
    await health.take(1);
    expect(health.values[0].healthChanged.status).toBe('healthy');
    const from = logs.lines.length;
    const reportsBefore = reported().length;

    await cluster.stop();
    const login = await server.gql('mutation { login(email: "nobody@test.local", password: "wrong-password") { token } }');
    expect(login.errors?.[0].extensions?.code).toBe('SERVICE_UNAVAILABLE');
    for (let i = 0; i < 5; i++) {
      const response = await workflows();
      expect(response.status).toBe(503);
      expect(response.headers.get('retry-after')).toMatch(/^\d+$/);
      const body = await response.json();
      expect(body.errors[0].extensions.code).toBe('SERVICE_UNAVAILABLE');
      expect(JSON.stringify(body)).not.toMatch(/ECONNREFUSED|select|stack/i);
    }
    // Liveness checks no dependency: an orchestrator must not restart a replica for the database's outage.
    const liveness = await fetch(`${server.url}/api/live`);
    expect(liveness.status).toBe(200);
    expect(await liveness.json()).toEqual({ live: true });
    expect((await fetch(`${server.url}/api/health`)).status).toBe(503);

    const socket = await rawSocket(server.url);
    socket.socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${server.adminToken}` } }));
    expect((await socket.closed).code).toBe(1013);
    // A stock graphql-ws client keeps retrying through the outage (4500 would end its tries).
    const retrying = connect(server.url, { token: server.adminToken, retryAttempts: 1_000 });
    const viewer = retrying.subscribe('query { viewer { email } }');
    await until(() => retrying.closed.some((c) => c.code === 1013), 'the retrying client to be told to try again later');

    await until(() => health.values.some((v) => v.healthChanged.status === 'unhealthy'), 'healthChanged to say the database is down');
    const down = health.values.find((v) => v.healthChanged.status === 'unhealthy');
    expect(down.healthChanged.components).toContainEqual({ name: 'database', status: 'down' });
    // The sampler (every second) keeps failing meanwhile.
    await new Promise((resolve) => setTimeout(resolve, 2_500));

    const during = logs.lines.slice(from);
    expect(during.filter((l) => l.level >= 50).map((l) => l.msg)).toEqual(['database unavailable']);
    expect(reported().length - reportsBefore).toBeLessThanOrEqual(1);

    await cluster.start();
    await until(() => logs.lines.slice(from).some((l) => l.msg === 'database reachable again'), 'the end of the outage to be logged', 15_000);
    expect((await workflows()).status).toBe(200);
    await until(() => health.values.at(-1)?.healthChanged.status === 'healthy', 'healthChanged to say healthy again');
    try {
      expect((await viewer.take(1))[0].viewer.email).toBe('admin@test.local');
    } finally {
      await retrying.dispose();
    }
  });
});

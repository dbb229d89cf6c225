/**
 * The database-down page without Redis (fallback/pager.ts): one replica pages on its own. A
 * private PostgreSQL stopped for less than the route's group wait pages nobody and leaves no
 * alert; stopped for longer, the route's contact point is paged once, and the page is in the
 * alert history once PostgreSQL is back.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postgresBinaries, startCluster, type Cluster } from '../support/cluster.js';
import { captureLogs } from '../support/logs.js';
import { startHttpReceiver, type HttpReceiver } from '../support/receivers.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { waitFor } from '../support/wait.js';

const bin = await postgresBinaries();
if (!bin) console.warn('database-down (no Redis) test skipped: no PostgreSQL binaries under /usr/lib/postgresql');

const GROUP_WAIT_SECONDS = 10;
let cluster: Cluster;
let receiver: HttpReceiver;
let server: TestServer;
const logs = captureLogs('info');
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

beforeAll(async () => {
  if (!bin) return;
  cluster = await startCluster(bin);
  receiver = await startHttpReceiver();
  server = await startTestServer({ ALERT_EVAL_INTERVAL_SECONDS: '1', SAMPLE_INTERVAL_SECONDS: '1', ALERT_DELIVERY_INTERVAL_MS: '500' }, { url: cluster.url, drop: async () => undefined }, logs.logger);
}, 60_000);
afterAll(async () => {
  await cluster?.start().catch(() => undefined);
  await server?.stop();
  await receiver?.close();
  await cluster?.destroy();
});

describe.skipIf(!bin)('a database outage without Redis', () => {
  it('should page nobody for a blip shorter than the group wait, and page once on its own for a longer one', async () => {
    const admin = (query: string, variables = {}) => server.gqlOk(query, variables, server.adminToken);
    const { createContactPoint } = await admin(`mutation { createContactPoint(input: { name: "on-call", kind: WEBHOOK, settings: { url: "${receiver.url}/on-call" } }) { id } }`);
    await admin('mutation ($input: NotificationRouteInput!) { createNotificationRoute(input: $input) { id } }', {
      input: { matchers: [{ label: 'severity', op: '=', value: 'CRITICAL' }], contactPointIds: [createContactPoint.id], groupWaitSeconds: GROUP_WAIT_SECONDS },
    });
    await pause(2_500);
    const databaseAlerts = async () => (await admin('{ alerts(first: 20) { edges { node { service notifications { event status } } } } }')).alerts.edges.filter((e: any) => e.node.service === 'database');

    await cluster.stop();
    await waitFor('the replica to see the outage', async () => logs.lines.some((l) => l.msg === 'database unavailable'));
    await pause(3_000);
    await cluster.start();
    await waitFor('the server to answer again', async () => (await server.gql('{ viewer { email } }', {}, server.adminToken)).data?.viewer);
    await pause((GROUP_WAIT_SECONDS - 2) * 1000);
    expect(receiver.received).toEqual([]);
    expect(await databaseAlerts()).toEqual([]);

    await cluster.stop();
    await waitFor('the page', async () => receiver.received.length >= 1, GROUP_WAIT_SECONDS * 1000 + 20_000);
    await pause(3_000);
    expect(receiver.received).toHaveLength(1);
    expect(JSON.parse(receiver.received[0].body)).toMatchObject({ event: 'FIRING', alerts: [{ service: 'database', rule: { name: 'A component down' } }] });
    await cluster.start();
    const recorded = await waitFor('the page in the history', async () => {
      const alerts = await databaseAlerts();
      return alerts.length && alerts[0].node.notifications.some((n: any) => n.event === 'RESOLVED' && n.status === 'DELIVERED') ? alerts : null;
    }, 40_000);
    expect(recorded).toHaveLength(1);
    expect(recorded[0].node.notifications).toEqual([{ event: 'FIRING', status: 'DELIVERED' }, { event: 'RESOLVED', status: 'DELIVERED' }]);
  }, 150_000);
});

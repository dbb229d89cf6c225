/**
 * Issue 15 item 8: a database outage pages through the fallback. Two replicas over Redis on a
 * private PostgreSQL that the test stops for a minute: the CRITICAL route's contact point is
 * paged once (its first answer is a 503, so the page is retried), from memory, by one replica;
 * a contact point the route does not name hears nothing; once PostgreSQL is back the page is in
 * the alert history (a RESOLVED "A component down" on database with the delivery state of
 * every message) and the RESOLVED message goes out through the outbox.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { postgresBinaries, type Cluster } from '../support/cluster.js';
import { captureLogs } from '../support/logs.js';
import { startOutageReplicas, type OutageReplicas } from '../support/outage.js';
import type { HttpReceiver } from '../support/receivers.js';
import { describeRedis, redisEnv, redisUrl } from '../support/redis.js';
import type { TestServer } from '../support/server.js';
import { waitFor } from '../support/wait.js';

const bin = await postgresBinaries();
if (!bin) console.warn('database-down paging test skipped: no PostgreSQL binaries under /usr/lib/postgresql');

const OUTAGE_MS = 60_000;
let outage: OutageReplicas;
let cluster: Cluster;
let receiver: HttpReceiver;
let replicas: TestServer[] = [];
const logs = captureLogs('info');
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

beforeAll(async () => {
  if (!bin || !redisUrl) return;
  outage = await startOutageReplicas(bin, redisEnv(), ['pager-a', 'pager-b'], logs.logger);
  ({ cluster, receiver, replicas } = outage);
}, 90_000);
afterAll(async () => {
  await outage?.stop();
});

describeRedis('a database outage', () => {
  it.skipIf(!bin)('should page the CRITICAL route\'s contact point once from memory, with retries, and record it once the database is back', async () => {
    const [a] = replicas;
    const admin = (query: string, variables = {}) => a.gqlOk(query, variables, a.adminToken);
    const point = async (name: string) => (await admin(`mutation { createContactPoint(input: { name: "${name}", kind: WEBHOOK, settings: { url: "${receiver.url}/${name}" } }) { id } }`)).createContactPoint.id;
    const onCall = await point('on-call');
    await point('chat');
    await admin('mutation ($input: NotificationRouteInput!) { createNotificationRoute(input: $input) { id } }', {
      input: { matchers: [{ label: 'severity', op: '=', value: 'CRITICAL' }], contactPointIds: [onCall], groupWaitSeconds: 2 },
    });
    let pages = 0;
    receiver.setAnswer((request) => (request.path === '/on-call' && ++pages === 1 ? { status: 503, body: 'try later' } : { status: 200, body: 'ok' }));
    // Every replica's snapshot is retaken each second; let both see the route.
    await pause(3_000);

    await cluster.stop();
    const stoppedAt = Date.now();
    const toOnCall = () => receiver.received.filter((r) => r.path === '/on-call');
    await waitFor('the page to get through', async () => toOnCall().length >= 2, 30_000);
    await pause(Math.max(0, stoppedAt + OUTAGE_MS - Date.now()));

    // One replica sent it, once: the 503 and its retry, the same notification.
    const firing = toOnCall();
    expect(firing).toHaveLength(2);
    expect(new Set(firing.map((r) => r.headers['x-notification-id'])).size).toBe(1);
    const message = JSON.parse(firing[1].body);
    expect(message).toMatchObject({ event: 'FIRING', status: 'firing', groupLabels: { rule: 'A component down', service: 'database' } });
    expect(message.alerts).toHaveLength(1);
    expect(message.alerts[0]).toMatchObject({ status: 'FIRING', severity: 'CRITICAL', service: 'database', value: 0, rule: { name: 'A component down' } });
    expect(message.summary).toContain('the database is unreachable');
    expect(receiver.received.filter((r) => r.path === '/chat')).toEqual([]);
    expect(logs.lines.filter((l) => l.msg === 'database down: paged from memory')).toHaveLength(1);

    await cluster.start();
    const ALERTS = '{ alerts(first: 20, status: [RESOLVED]) { edges { node { id service rule { name } startedAt firedAt resolvedAt notifications { event status attempts error contactPoint { name } } } } } }';
    const recorded = await waitFor('the page in the alert history, and its RESOLVED delivered', async () => {
      const { alerts } = await admin(ALERTS);
      const mine = alerts.edges.map((e: any) => e.node).filter((n: any) => n.service === 'database');
      return mine.length && mine[0].notifications.some((n: any) => n.event === 'RESOLVED' && n.status === 'DELIVERED') ? mine : null;
    }, 40_000);
    expect(recorded).toHaveLength(1);
    expect(recorded[0].id).toBe(message.alerts[0].id);
    expect(recorded[0].rule.name).toBe('A component down');
    expect(new Date(recorded[0].startedAt).getTime()).toBeGreaterThanOrEqual(stoppedAt - 1_000);
    expect(recorded[0].notifications).toEqual([
      { event: 'FIRING', status: 'DELIVERED', attempts: 2, error: null, contactPoint: { name: 'on-call' } },
      { event: 'RESOLVED', status: 'DELIVERED', attempts: 1, error: null, contactPoint: { name: 'on-call' } },
    ]);
    const resolved = toOnCall().slice(2).map((r) => JSON.parse(r.body));
    expect(resolved).toHaveLength(1);
    expect(resolved[0]).toMatchObject({ event: 'RESOLVED', groupKey: message.groupKey, alerts: [{ id: message.alerts[0].id, status: 'RESOLVED' }] });
    expect(receiver.received.filter((r) => r.path === '/chat')).toEqual([]);
  }, 150_000);
});

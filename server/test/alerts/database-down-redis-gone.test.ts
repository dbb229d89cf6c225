/**
 * The database-down page when Redis is configured but unreachable too (fallback/pager.ts): the
 * replicas cannot agree, so each pages on its own, once per outage (its local dedupe), and each
 * records its page once PostgreSQL is back. Two replicas on a private redis-server that the test
 * kills, then a private PostgreSQL that it stops; kept short (a 2 s group wait).
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { postgresBinaries, type Cluster } from '../support/cluster.js';
import { captureLogs } from '../support/logs.js';
import { startOutageReplicas, type OutageReplicas } from '../support/outage.js';
import type { HttpReceiver } from '../support/receivers.js';
import { describeRedis, redisUrl, ThrowawayRedis, uniqueRedisPrefix } from '../support/redis.js';
import type { TestServer } from '../support/server.js';
import { waitFor } from '../support/wait.js';

const bin = await postgresBinaries();
if (!bin) console.warn('database-down (Redis gone) test skipped: no PostgreSQL binaries under /usr/lib/postgresql');

let outage: OutageReplicas;
let cluster: Cluster;
let redis: ThrowawayRedis;
let receiver: HttpReceiver;
let replicas: TestServer[] = [];
const logs = captureLogs('info');
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

beforeAll(async () => {
  if (!bin || !redisUrl) return;
  redis = await ThrowawayRedis.start();
  outage = await startOutageReplicas(bin, { REDIS_URL: redis.url, REDIS_PREFIX: uniqueRedisPrefix() }, ['alone-a', 'alone-b'], logs.logger);
  ({ cluster, receiver, replicas } = outage);
}, 90_000);
afterAll(async () => {
  await outage?.stop();
  await redis?.kill();
});

describeRedis('a database outage with Redis unreachable too', () => {
  it.skipIf(!bin)('should page once from each replica (no one to agree with), and record each page once the database is back', async () => {
    const [a] = replicas;
    const admin = (query: string, variables = {}) => a.gqlOk(query, variables, a.adminToken);
    const { createContactPoint } = await admin(`mutation { createContactPoint(input: { name: "on-call", kind: WEBHOOK, settings: { url: "${receiver.url}/on-call" } }) { id } }`);
    await admin('mutation ($input: NotificationRouteInput!) { createNotificationRoute(input: $input) { id } }', {
      input: { matchers: [{ label: 'severity', op: '=', value: 'CRITICAL' }], contactPointIds: [createContactPoint.id], groupWaitSeconds: 2 },
    });
    // Both replicas retake their snapshot every second: let them see the route.
    await pause(2_500);

    await redis.kill();
    await cluster.stop();
    await waitFor('a page from each replica', async () => receiver.received.length >= 2, 20_000);
    // The outage goes on: neither pages again.
    await pause(6_000);
    const pages = receiver.received.map((r) => ({ id: r.headers['x-notification-id'], body: JSON.parse(r.body) }));
    expect(pages).toHaveLength(2);
    expect(new Set(pages.map((p) => p.id)).size).toBe(2);
    expect(new Set(pages.map((p) => p.body.alerts[0].id)).size).toBe(2);
    for (const { body } of pages) {
      expect(body).toMatchObject({ event: 'FIRING', groupLabels: { rule: 'A component down', service: 'database' }, alerts: [{ service: 'database', severity: 'CRITICAL', value: 0 }] });
      expect(body.summary).toContain('the database is unreachable');
    }
    expect(logs.lines.filter((l) => l.msg === 'database down: paged from memory')).toHaveLength(2);
    expect(logs.lines.some((l) => l.msg === 'database down and Redis unreachable too: this replica pages on its own')).toBe(true);

    await redis.restart();
    await cluster.start();
    const recorded = await waitFor('both pages in the alert history', async () => {
      const { alerts } = await admin('{ alerts(first: 20, status: [RESOLVED]) { edges { node { id service notifications { event status } } } } }');
      const mine = alerts.edges.map((e: any) => e.node).filter((n: any) => n.service === 'database');
      return mine.length === 2 && mine.every((n: any) => n.notifications.some((x: any) => x.event === 'RESOLVED' && x.status === 'DELIVERED')) ? mine : null;
    }, 40_000);
    expect(recorded.map((n: any) => n.id).sort()).toEqual(pages.map((p) => p.body.alerts[0].id).sort());
    for (const alert of recorded) expect(alert.notifications).toEqual([{ event: 'FIRING', status: 'DELIVERED' }, { event: 'RESOLVED', status: 'DELIVERED' }]);
  }, 120_000);
});

/**
 * The first start's notification routes (routing/defaults.ts): the guide's strategy made
 * once per database — two replicas starting at once make it once, a restart does not make it
 * again, a route deleted by hand stays deleted — and alerts then go where the guide says:
 * CRITICAL pages and reaches Slack, HIGH reaches Slack only, MEDIUM is only logged. With no
 * contact point in the environment, CRITICAL reaches the first one an admin adds.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { evaluateRules } from '../../src/alerts/evaluator.js';
import { deliverDue } from '../../src/alerts/notifications/outbox.js';
import { dispatchNotifications } from '../../src/alerts/routing/dispatch.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { captureLogs } from '../support/logs.js';
import { startHttpReceiver, type HttpReceiver } from '../support/receivers.js';
import { startTestServer, type TestServer } from '../support/server.js';

let receiver: HttpReceiver;
beforeAll(async () => {
  receiver = await startHttpReceiver();
});
afterAll(async () => {
  await receiver?.close();
});

const ROUTES = '{ notificationRoutes { position matchers { label op value } contactPoints { name kind } groupWaitSeconds } }';
const routesOf = async (server: TestServer) => (await server.gqlOk(ROUTES, {}, server.adminToken)).notificationRoutes;

/** Fires a rule of this severity now, then lets the group wait (30 s) pass and delivers. */
async function fire(server: TestServer, name: string, severity: string): Promise<void> {
  await server.gqlOk(`mutation { createAlertRule(input: { name: "${name}", metric: "m_${name}", comparator: ">", threshold: 0, severity: ${severity} }) { id } }`, {}, server.adminToken);
  await server.gqlOk(`mutation { recordMetrics(samples: [{ name: "m_${name}", service: "api", value: 1 }]) }`, {}, server.adminToken);
  const app = server.app.services;
  const now = new Date();
  await evaluateRules(app, now);
  await dispatchNotifications(app, now);
  await dispatchNotifications(app, new Date(now.getTime() + 31_000));
  await deliverDue(app, app.senders);
}
const heardBy = (path: string, rule: string) => receiver.received.filter((r) => r.path === path && r.body.includes(rule)).length;

describe('the default notification routes', () => {
  let database: TestDatabase;
  let servers: TestServer[] = [];
  const logs = captureLogs('info');
  const env = () => ({
    ALERT_DEFAULT_ROUTES: '1',
    SLACK_WEBHOOK_URL: `${receiver.url}/slack`,
    PAGERDUTY_ROUTING_KEY: 'R0UTINGKEY0000000000000000000000',
    PAGERDUTY_EVENTS_URL: `${receiver.url}/pagerduty`,
  });
  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(async () => {
    for (const server of servers) await server.stop();
    await database?.drop();
  });

  it('should be made once by two replicas starting at once, from the contact points the environment made', async () => {
    servers = await Promise.all([startTestServer(env(), database, logs.logger), startTestServer(env(), database, logs.logger)]);
    const routes = await routesOf(servers[0]);
    expect(routes).toEqual([
      { position: 1, matchers: [{ label: 'severity', op: '=', value: 'CRITICAL' }], contactPoints: [{ name: 'Slack', kind: 'SLACK' }, { name: 'PagerDuty', kind: 'PAGERDUTY' }], groupWaitSeconds: 30 },
      { position: 2, matchers: [{ label: 'severity', op: '=', value: 'HIGH' }], contactPoints: [{ name: 'Slack', kind: 'SLACK' }], groupWaitSeconds: 30 },
      { position: 3, matchers: [{ label: 'severity', op: '=~', value: 'MEDIUM|LOW' }], contactPoints: [], groupWaitSeconds: 30 },
    ]);
    expect(logs.lines.filter((l) => l.msg === 'made the default notification routes')).toHaveLength(1);
  }, 60_000);

  it('should page and tell Slack of CRITICAL, tell Slack only of HIGH, and only log MEDIUM', async () => {
    const [server] = servers;
    await fire(server, 'critical-default', 'CRITICAL');
    await fire(server, 'high-default', 'HIGH');
    await fire(server, 'medium-default', 'MEDIUM');
    expect([heardBy('/pagerduty', 'critical-default'), heardBy('/slack', 'critical-default')]).toEqual([1, 1]);
    expect([heardBy('/pagerduty', 'high-default'), heardBy('/slack', 'high-default')]).toEqual([0, 1]);
    expect([heardBy('/pagerduty', 'medium-default'), heardBy('/slack', 'medium-default')]).toEqual([0, 0]);
    const medium = logs.lines.find((l) => l.msg === 'alert group notified' && l.groupKey.includes('medium-default'));
    expect(medium).toMatchObject({ event: 'FIRING', reason: 'first', alerts: 1, contactPoints: 0 });
  });

  it('should not make them again on a restart, nor bring back a route deleted by hand', async () => {
    const [{ notificationRoutes }] = [await servers[0].gqlOk('{ notificationRoutes { id position } }', {}, servers[0].adminToken)];
    await servers[0].gqlOk('mutation ($id: ID!) { deleteNotificationRoute(id: $id) }', { id: notificationRoutes[1].id }, servers[0].adminToken);
    for (const server of servers.splice(0)) await server.stop();
    servers = [await startTestServer(env(), database, logs.logger)];
    expect((await routesOf(servers[0])).map((r: any) => r.matchers[0].value)).toEqual(['CRITICAL', 'MEDIUM|LOW']);
    expect(logs.lines.filter((l) => l.msg === 'made the default notification routes')).toHaveLength(1);
  }, 60_000);
});

describe('the default notification routes without contact points in the environment', () => {
  let server: TestServer;
  afterAll(async () => {
    await server?.stop();
  });

  it('should only keep MEDIUM and LOW quiet, so CRITICAL reaches the first contact point an admin adds', async () => {
    server = await startTestServer({ ALERT_DEFAULT_ROUTES: '1' });
    expect(await routesOf(server)).toEqual([
      { position: 1, matchers: [{ label: 'severity', op: '=~', value: 'MEDIUM|LOW' }], contactPoints: [], groupWaitSeconds: 30 },
    ]);
    await server.gqlOk(`mutation { createContactPoint(input: { name: "team", kind: WEBHOOK, settings: { url: "${receiver.url}/team" } }) { id } }`, {}, server.adminToken);
    await fire(server, 'critical-later', 'CRITICAL');
    await fire(server, 'low-later', 'LOW');
    expect([heardBy('/team', 'critical-later'), heardBy('/team', 'low-later')]).toEqual([1, 0]);
  }, 60_000);

});

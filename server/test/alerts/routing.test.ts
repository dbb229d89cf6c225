/**
 * Notification routes against real receivers: routing by severity and service, `continue`,
 * one message per group (50 alerts at once), group interval, repeats, escalation, and the
 * route list's order and refusals.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startHttpReceiver, type HttpReceiver, type ReceivedRequest } from '../support/receivers.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { waitFor } from '../support/wait.js';

let server: TestServer;
let receiver: HttpReceiver;
let member: string;
const points: Record<string, string> = {};

const ROUTE = 'id position matchers { label op value } contactPoints { name } continue groupBy groupWaitSeconds groupIntervalSeconds repeatIntervalSeconds escalateAfterSeconds escalateTo { name }';
const CREATE = `mutation ($input: NotificationRouteInput!, $position: Int) { createNotificationRoute(input: $input, position: $position) { ${ROUTE} } }`;
const UPDATE = `mutation ($id: ID!, $input: NotificationRouteInput!) { updateNotificationRoute(id: $id, input: $input) { ${ROUTE} } }`;
const MOVE = `mutation ($id: ID!, $position: Int!) { moveNotificationRoute(id: $id, position: $position) { ${ROUTE} } }`;
const DELETE = 'mutation ($id: ID!) { deleteNotificationRoute(id: $id) }';
const LIST = `{ notificationRoutes { ${ROUTE} } }`;

beforeAll(async () => {
  receiver = await startHttpReceiver();
  server = await startTestServer({ ALERT_EVAL_INTERVAL_SECONDS: '1', ALERT_DEFAULT_GROUP_WAIT_SECONDS: '0', ALERT_DEFAULT_GROUP_INTERVAL_SECONDS: '1' });
  member = (await server.newUser('MEMBER')).token;
  for (const name of ['critical', 'payments', 'catch-all', 'team', 'escalation']) {
    const { createContactPoint } = await server.gqlOk('mutation ($input: ContactPointInput!) { createContactPoint(input: $input) { id } }', {
      input: { name, kind: 'WEBHOOK', settings: { url: `${receiver.url}/${name}` } },
    }, server.adminToken);
    points[name] = createContactPoint.id;
  }
});
afterAll(async () => {
  await server?.stop();
  await receiver?.close();
});
afterEach(async () => {
  for (const route of (await server.gqlOk(LIST, {}, server.adminToken)).notificationRoutes) await server.gqlOk(DELETE, { id: route.id }, server.adminToken);
});

const list = async () => (await server.gqlOk(LIST, {}, server.adminToken)).notificationRoutes as any[];
const createRoute = async (input: Record<string, unknown>, position?: number) =>
  (await server.gqlOk(CREATE, { input: { contactPointIds: [], ...input }, position }, server.adminToken)).createNotificationRoute;
async function newRule(name: string, severity: string, extra: Record<string, unknown> = {}) {
  const { createAlertRule } = await server.gqlOk('mutation ($input: AlertRuleInput!) { createAlertRule(input: $input) { id } }', {
    input: { name, metric: `metric_${name.replace(/\W/g, '_')}`, comparator: '>', threshold: 0, severity, ...extra },
  }, server.adminToken);
  return { id: createAlertRule.id as string, metric: `metric_${name.replace(/\W/g, '_')}` };
}
const push = (metric: string, services: string[], value = 1) =>
  server.gqlOk('mutation ($s: [MetricSampleInput!]!) { recordMetrics(samples: $s) }', { s: services.map((service) => ({ name: metric, service, value })) }, member);
/** Messages a contact point got that speak of a rule. */
const heard = (point: string, rule: string): Array<ReceivedRequest & { message: any }> => receiver.received
  .filter((r) => r.path === `/${point}`)
  .map((r) => ({ ...r, message: JSON.parse(r.body) }))
  .filter((r) => r.message.alerts.some((a: any) => a.rule.name === rule));
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('routing', () => {
  it('should send by severity and service: the first matching route takes it, continue tries the next, none: the default policy', async () => {
    await createRoute({ matchers: [{ label: 'severity', op: '=', value: 'CRITICAL' }], contactPointIds: [points.critical], groupWaitSeconds: 0, groupIntervalSeconds: 1 });
    await createRoute({ matchers: [{ label: 'service', op: '=~', value: 'pay.*' }], contactPointIds: [points.payments], continue: true, groupWaitSeconds: 0, groupIntervalSeconds: 1 });
    await createRoute({ matchers: [{ label: 'team', op: '=', value: 'core' }], contactPointIds: [points.team], groupWaitSeconds: 0, groupIntervalSeconds: 1 });
    const critical = await newRule('routed critical', 'CRITICAL');
    const low = await newRule('routed low', 'LOW', { labels: { team: 'core' } });
    const other = await newRule('routed other', 'HIGH');
    await push(critical.metric, ['payments']);
    await push(low.metric, ['payments']);
    await push(other.metric, ['search']);
    await waitFor('every message', async () => heard('critical', 'routed critical').length === 1 && heard('payments', 'routed low').length === 1
      && heard('team', 'routed low').length === 1 && heard('catch-all', 'routed other').length === 1);
    await pause(2500);
    // CRITICAL on payments: the first route, which does not continue.
    expect(['payments', 'team', 'catch-all', 'escalation'].map((p) => heard(p, 'routed critical').length)).toEqual([0, 0, 0, 0]);
    // LOW on payments: the service route continues to the team route; the default policy is not used.
    expect(['critical', 'catch-all'].map((p) => heard(p, 'routed low').length)).toEqual([0, 0]);
    // Nothing matches: every enabled contact point.
    expect(['critical', 'payments', 'team', 'escalation'].map((p) => heard(p, 'routed other').length)).toEqual([1, 1, 1, 1]);
    expect(heard('critical', 'routed critical')[0].message).toMatchObject({ event: 'FIRING', status: 'firing', groupLabels: { rule: 'routed critical', service: 'payments' } });
  });

  it('should send one message for 50 alerts of a group, then one more when the group changes, after the group interval', async () => {
    await createRoute({ matchers: [{ label: 'rule', op: '=', value: 'fleet' }], contactPointIds: [points.team], groupBy: ['rule'], groupWaitSeconds: 3, groupIntervalSeconds: 3 });
    const rule = await newRule('fleet', 'HIGH');
    const services = Array.from({ length: 50 }, (_, i) => `node-${i}`);
    const pushedAt = Date.now();
    await push(rule.metric, services);
    await waitFor('the group message', async () => heard('team', 'fleet').length >= 1, 15_000);
    const firstAt = Date.now();
    expect(firstAt - pushedAt).toBeGreaterThanOrEqual(3000);
    const [first] = heard('team', 'fleet');
    expect(first.message).toMatchObject({ event: 'FIRING', status: 'firing', groupLabels: { rule: 'fleet' }, reason: 'first' });
    expect(first.message.alerts).toHaveLength(50);
    expect(new Set(first.message.alerts.map((a: any) => a.service))).toEqual(new Set(services));
    expect(first.message.summary).toMatch(/^\[FIRING:50\] rule=fleet: 50 firing/);

    // A 51st joins: one more message, no sooner than the group interval.
    await push(rule.metric, ['node-50']);
    await waitFor('the changed group', async () => heard('team', 'fleet').length >= 2, 15_000);
    expect(Date.now() - firstAt).toBeGreaterThanOrEqual(2000);
    const [, second] = heard('team', 'fleet');
    expect(second.message).toMatchObject({ reason: 'changed' });
    expect(second.message.alerts).toHaveLength(51);
    await pause(4000);
    expect(heard('team', 'fleet')).toHaveLength(2);
    // The alert's own notifications name the group.
    const { alerts } = await server.gqlOk('{ alerts(first: 100, status: [FIRING]) { edges { node { service rule { name } notifications { groupKey contactPoint { name } } } } } }', {}, server.adminToken);
    const node0 = alerts.edges.map((e: any) => e.node).find((a: any) => a.rule.name === 'fleet' && a.service === 'node-0');
    expect(node0.notifications).toHaveLength(2);
    expect(node0.notifications[0]).toMatchObject({ contactPoint: { name: 'team' }, groupKey: expect.stringMatching(/:\{rule="fleet"\}$/) });
    await server.gqlOk('mutation ($id: ID!) { deleteAlertRule(id: $id) }', { id: rule.id }, server.adminToken);
  });

  it('should repeat while unacknowledged, escalate once, and stop repeating once acknowledged', async () => {
    await createRoute({
      matchers: [{ label: 'rule', op: '=', value: 'nagging' }], contactPointIds: [points.team], groupWaitSeconds: 0, groupIntervalSeconds: 1,
      repeatIntervalSeconds: 2, escalateAfterSeconds: 3, escalateToIds: [points.escalation],
    });
    const rule = await newRule('nagging', 'HIGH');
    await push(rule.metric, ['api']);
    await waitFor('a repeat', async () => heard('team', 'nagging').length >= 3, 15_000);
    const reasons = heard('team', 'nagging').map((r) => r.message.reason);
    expect(reasons.slice(0, 3)).toEqual(['first', 'repeat', 'repeat']);
    expect(heard('team', 'nagging')[1].message.summary).toMatch(/^\[REPEAT\] \[FIRING\] HIGH nagging/);
    await waitFor('the escalation', async () => heard('escalation', 'nagging').length >= 1, 10_000);
    expect(heard('escalation', 'nagging')[0].message).toMatchObject({ event: 'FIRING', reason: 'escalation', summary: expect.stringMatching(/^\[ESCALATED\]/) });

    const { alerts } = await server.gqlOk('{ alerts(first: 100, status: [FIRING]) { edges { node { id rule { name } } } } }', {}, server.adminToken);
    const alert = alerts.edges.map((e: any) => e.node).find((a: any) => a.rule.name === 'nagging');
    await server.gqlOk('mutation ($id: ID!) { acknowledgeAlert(id: $id) { id } }', { id: alert.id }, member);
    await pause(1500);
    const settled = heard('team', 'nagging').length;
    await pause(4000);
    expect(heard('team', 'nagging')).toHaveLength(settled);
    expect(heard('escalation', 'nagging')).toHaveLength(1);

    // Resolving sends the group's resolution once.
    await push(rule.metric, ['api'], 0);
    await waitFor('the resolution', async () => heard('team', 'nagging').some((r) => r.message.event === 'RESOLVED'), 10_000);
    expect(heard('team', 'nagging').at(-1)!.message).toMatchObject({ event: 'RESOLVED', status: 'resolved', reason: 'resolved', alerts: [{ status: 'RESOLVED' }] });
  });
});

describe('the route list', () => {
  it('should keep positions 1..n through creates at a position, moves and deletes', async () => {
    const a = await createRoute({ matchers: [{ label: 'service', op: '=', value: 'a' }] });
    const b = await createRoute({ matchers: [{ label: 'service', op: '=', value: 'b' }] });
    const c = await createRoute({ matchers: [{ label: 'service', op: '=', value: 'c' }] }, 1);
    expect(c).toMatchObject({ position: 1, groupBy: ['rule', 'service'], groupWaitSeconds: 30, groupIntervalSeconds: 300, repeatIntervalSeconds: 14400, continue: false, escalateAfterSeconds: null, escalateTo: [] });
    const order = async () => (await list()).map((r) => [r.position, r.matchers[0].value]);
    expect(await order()).toEqual([[1, 'c'], [2, 'a'], [3, 'b']]);
    await server.gqlOk(MOVE, { id: c.id, position: 3 }, server.adminToken);
    expect(await order()).toEqual([[1, 'a'], [2, 'b'], [3, 'c']]);
    await server.gqlOk(MOVE, { id: b.id, position: 1 }, server.adminToken);
    expect(await order()).toEqual([[1, 'b'], [2, 'a'], [3, 'c']]);
    await server.gqlOk(DELETE, { id: b.id }, server.adminToken);
    expect(await order()).toEqual([[1, 'a'], [2, 'c']]);
    const { updateNotificationRoute } = await server.gqlOk(UPDATE, { id: a.id, input: { matchers: [{ label: 'service', op: '!~', value: 'a|b' }], contactPointIds: [points.team], groupBy: [] } }, server.adminToken);
    expect(updateNotificationRoute).toMatchObject({ position: 1, matchers: [{ label: 'service', op: '!~', value: 'a|b' }], contactPoints: [{ name: 'team' }], groupBy: [] });
  });

  it('should drop a deleted contact point from the routes that named it', async () => {
    const { createContactPoint: doomed } = await server.gqlOk('mutation { createContactPoint(input: { name: "doomed", kind: WEBHOOK, settings: { url: "http://127.0.0.1:9/x" } }) { id } }', {}, server.adminToken);
    const route = await createRoute({ matchers: [], contactPointIds: [doomed.id, points.team] });
    await server.gqlOk('mutation ($id: ID!) { deleteContactPoint(id: $id) }', { id: doomed.id }, server.adminToken);
    expect((await list()).find((r) => r.id === route.id).contactPoints).toEqual([{ name: 'team' }]);
    const refused = await server.gql(CREATE, { input: { matchers: [], contactPointIds: [doomed.id] } }, server.adminToken);
    expect(refused.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'contactPointIds.0' });
  });

  it.each([
    [{ matchers: [{ label: 'service', op: '=~', value: '(unclosed' }] }, 'matchers.0.value'],
    [{ matchers: [{ label: 'service', op: '=~', value: '(?=lookahead)' }] }, 'matchers.0.value'],
    [{ matchers: [{ label: 'service', op: '~', value: 'x' }] }, 'matchers.0.op'],
    [{ matchers: [{ label: '1service', op: '=', value: 'x' }] }, 'matchers.0.label'],
    [{ contactPointIds: ['not-an-id'] }, 'contactPointIds.0'],
    [{ contactPointIds: [Buffer.from('ContactPoint:00000000-0000-4000-8000-000000000000').toString('base64url')] }, 'contactPointIds.0'],
    [{ groupBy: ['service', 'service'] }, 'groupBy'],
    [{ groupBy: ['bad-label'] }, 'groupBy.0'],
    [{ groupWaitSeconds: -1 }, 'groupWaitSeconds'],
    [{ groupIntervalSeconds: 0 }, 'groupIntervalSeconds'],
    [{ groupIntervalSeconds: 600, repeatIntervalSeconds: 60 }, 'repeatIntervalSeconds'],
    [{ repeatIntervalSeconds: 10 ** 9 }, 'repeatIntervalSeconds'],
    [{ escalateAfterSeconds: 60 }, 'escalateToIds'],
    [{ escalateToIds: ['x'] }, 'escalateToIds.0'],
  ])('should refuse %j as BAD_USER_INPUT naming %s, saving nothing', async (input, field) => {
    const before = await list();
    const result = await server.gql(CREATE, { input: { matchers: [], contactPointIds: [], ...input } }, server.adminToken);
    expect(result.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field });
    expect(await list()).toEqual(before);
    // The same through an edit: the route stays as it was.
    const route = await createRoute({ matchers: [{ label: 'service', op: '=', value: 'standing' }], contactPointIds: [points.team] });
    const edited = await list();
    const refused = await server.gql(UPDATE, { id: route.id, input: { matchers: [], contactPointIds: [], ...input } }, server.adminToken);
    expect(refused.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field });
    expect(await list()).toEqual(edited);
    await server.gqlOk(DELETE, { id: route.id }, server.adminToken);
  });

  it('should refuse positions out of range, members, and unknown routes', async () => {
    const route = await createRoute({ matchers: [] });
    expect((await server.gql(CREATE, { input: { matchers: [], contactPointIds: [] }, position: 3 }, server.adminToken)).errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'position' });
    expect((await server.gql(MOVE, { id: route.id, position: 2 }, server.adminToken)).errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'position' });
    expect((await server.gql(MOVE, { id: route.id, position: 0 }, server.adminToken)).errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'position' });
    expect((await server.gql(CREATE, { input: { matchers: [], contactPointIds: [] } }, member)).errors?.[0].extensions?.code).toBe('FORBIDDEN');
    expect((await server.gql(LIST, {}, member)).errors).toBeUndefined();
    await server.gqlOk(DELETE, { id: route.id }, server.adminToken);
    expect((await server.gql(MOVE, { id: route.id, position: 1 }, server.adminToken)).errors?.[0].extensions?.code).toBe('NOT_FOUND');
    expect((await server.gql(DELETE, { id: route.id }, server.adminToken)).errors?.[0].extensions?.code).toBe('NOT_FOUND');
  });
});

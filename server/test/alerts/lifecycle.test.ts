import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHttpReceiver, startSmtpReceiver, type HttpReceiver, type SmtpReceiver } from '../support/receivers.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { waitFor } from '../support/wait.js';

let server: TestServer;
let member: string;
let memberEmail: string;
let viewer: string;
let slack: HttpReceiver;
let webhook: HttpReceiver;
let smtp: SmtpReceiver;
const SECRET = 'webhook-secret';

beforeAll(async () => {
  [slack, webhook, smtp] = await Promise.all([startHttpReceiver(), startHttpReceiver(), startSmtpReceiver()]);
  server = await startTestServer({
    ALERT_EVAL_INTERVAL_SECONDS: '1',
    // retries are the delivery poll's
    ALERT_DELIVERY_INTERVAL_MS: '1000',
    ALERT_DEFAULT_GROUP_WAIT_SECONDS: '0',
    ALERT_DEFAULT_GROUP_INTERVAL_SECONDS: '1',
    SAMPLE_INTERVAL_SECONDS: '3600',
    SLACK_WEBHOOK_URL: `${slack.url}/slack`,
    ALERT_WEBHOOK_URL: `${webhook.url}/hook`,
    ALERT_WEBHOOK_SECRET: SECRET,
    SMTP_URL: smtp.url,
    ALERT_EMAIL_TO: 'oncall@test.local',
  });
  ({ token: member, email: memberEmail } = await server.newUser('MEMBER'));
  viewer = (await server.newUser('VIEWER')).token;
});
afterAll(async () => {
  await server?.stop();
  await Promise.all([slack?.close(), webhook?.close(), smtp?.close()]);
});

const ALERT_FIELDS = 'id status severity value service startedAt firedAt acknowledgedAt resolvedAt rule { id name } notifications { channel event status attempts error sentAt response contactPoint { name kind } }';

async function newRule(name: string, forSeconds: number, metric = `metric_${name}`) {
  const { createAlertRule } = await server.gqlOk(
    'mutation ($input: AlertRuleInput!) { createAlertRule(input: $input) { id } }',
    { input: { name, metric, service: 'svc', comparator: '>', threshold: 100, forSeconds, severity: 'HIGH' } },
    server.adminToken,
  );
  return { id: createAlertRule.id as string, metric };
}

const push = (metric: string, value: number) =>
  server.gqlOk('mutation ($s: [MetricSampleInput!]!) { recordMetrics(samples: $s) }', { s: [{ name: metric, service: 'svc', value }] }, member);

async function alertsOf(ruleId: string): Promise<any[]> {
  const { alerts } = await server.gqlOk(`{ alerts(first: 100) { edges { node { ${ALERT_FIELDS} } } } }`, {}, viewer);
  return alerts.edges.map((e: any) => e.node).filter((a: any) => a.rule.id === ruleId);
}

const waitForAlert = (ruleId: string, test: (alert: any) => boolean, what: string, timeoutMs?: number) =>
  waitFor(what, async () => (await alertsOf(ruleId)).find(test), timeoutMs);

async function alertEventKinds(alertGlobalId: string): Promise<string[]> {
  const id = Buffer.from(alertGlobalId, 'base64url').toString().split(':')[1];
  const rows = await server.app.orm.em.fork().execute(
    `select kind from events where topic = 'alert' and payload->>'alertId' = ? order by id`, [id]);
  return rows.map((r: any) => r.kind);
}

describe('alert lifecycle', () => {
  it('should go PENDING → FIRING → ACKNOWLEDGED → RESOLVED and notify every channel on FIRING and RESOLVED', async () => {
    const rule = await newRule('lifecycle', 2);
    await push(rule.metric, 150);
    const pending = await waitForAlert(rule.id, (a) => a.status === 'PENDING', 'PENDING');
    expect(pending).toMatchObject({ severity: 'HIGH', value: 150, service: 'svc', firedAt: null });

    const firing = await waitForAlert(rule.id, (a) => a.status === 'FIRING', 'FIRING');
    expect(new Date(firing.firedAt).getTime() - new Date(firing.startedAt).getTime()).toBeGreaterThanOrEqual(2000);

    // FIRING went out on all three channels.
    await waitFor('FIRING notifications', async () => slack.received.length >= 1 && webhook.received.length >= 1 && smtp.mails.length >= 1);
    expect(JSON.parse(slack.received[0].body).text).toMatch(/\[FIRING\] HIGH lifecycle/);
    const hook = webhook.received[0];
    const expected = `sha256=${createHmac('sha256', SECRET).update(hook.body).digest('hex')}`;
    expect(hook.headers['x-signature-256']).toBe(expected);
    expect(JSON.parse(hook.body)).toMatchObject({ event: 'FIRING', status: 'firing', alerts: [{ id: firing.id, status: 'FIRING', value: 150, rule: { name: 'lifecycle' } }] });
    expect(smtp.mails[0].to).toEqual(['oncall@test.local']);
    expect(smtp.mails[0].raw).toMatch(/Subject: \[FIRING\] HIGH lifecycle/);

    expect((await server.gql('mutation ($id: ID!) { acknowledgeAlert(id: $id) { id } }', { id: firing.id }, viewer)).errors?.[0].extensions?.code).toBe('FORBIDDEN');
    const { acknowledgeAlert } = await server.gqlOk(
      'mutation ($id: ID!) { acknowledgeAlert(id: $id) { status acknowledgedAt acknowledgedBy { email } } }', { id: firing.id }, member);
    expect(acknowledgeAlert.status).toBe('ACKNOWLEDGED');
    expect(acknowledgeAlert.acknowledgedAt).toBeTruthy();
    expect(acknowledgeAlert.acknowledgedBy.email).toBe(memberEmail);
    const twice = await server.gql('mutation ($id: ID!) { acknowledgeAlert(id: $id) { id } }', { id: firing.id }, member);
    expect(twice.errors?.[0].extensions?.code).toBe('CONFLICT');

    // Still breaching: stays ACKNOWLEDGED, no duplicate opens.
    await push(rule.metric, 170);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect((await alertsOf(rule.id)).map((a) => a.status)).toEqual(['ACKNOWLEDGED']);

    await push(rule.metric, 50);
    const resolved = await waitForAlert(rule.id, (a) => a.status === 'RESOLVED', 'RESOLVED');
    expect(resolved.resolvedAt).toBeTruthy();
    await waitFor('RESOLVED notifications', async () => {
      const [alert] = await alertsOf(rule.id);
      return alert.notifications.length === 6 && alert.notifications.every((n: any) => n.status === 'DELIVERED');
    });
    const [done] = await alertsOf(rule.id);
    expect(done.notifications.map((n: any) => `${n.event}/${n.channel}`).sort()).toEqual(
      ['FIRING/email', 'FIRING/slack', 'FIRING/webhook', 'RESOLVED/email', 'RESOLVED/slack', 'RESOLVED/webhook'],
    );
    expect(JSON.parse(webhook.received.at(-1)!.body)).toMatchObject({ event: 'RESOLVED', status: 'resolved', alerts: [{ id: firing.id, status: 'RESOLVED' }] });
    expect(smtp.mails.at(-1)!.raw).toMatch(/Subject: \[RESOLVED\] lifecycle on svc/);
    expect(await alertEventKinds(firing.id)).toEqual(['PENDING', 'FIRING', 'ACKNOWLEDGED', 'RESOLVED']);
  });

  it('should resolve a PENDING alert that clears in time without notifying anyone', async () => {
    const rule = await newRule('short blip', 60);
    await push(rule.metric, 150);
    const pending = await waitForAlert(rule.id, (a) => a.status === 'PENDING', 'PENDING');
    await push(rule.metric, 10);
    const resolved = await waitForAlert(rule.id, (a) => a.status === 'RESOLVED', 'RESOLVED');
    expect(resolved).toMatchObject({ id: pending.id, firedAt: null, notifications: [] });
  });

  it('should let a person resolve an open alert, and open a new one while the condition holds', async () => {
    const rule = await newRule('manual', 0);
    await push(rule.metric, 150);
    const firing = await waitForAlert(rule.id, (a) => a.status === 'FIRING', 'FIRING');
    const { resolveAlert } = await server.gqlOk('mutation ($id: ID!) { resolveAlert(id: $id) { status } }', { id: firing.id }, member);
    expect(resolveAlert.status).toBe('RESOLVED');
    expect((await server.gql('mutation ($id: ID!) { resolveAlert(id: $id) { id } }', { id: firing.id }, member)).errors?.[0].extensions?.code).toBe('CONFLICT');
    const reopened = await waitForAlert(rule.id, (a) => a.status === 'FIRING' && a.id !== firing.id, 'a new FIRING alert');
    expect(reopened.id).not.toBe(firing.id);
    await push(rule.metric, 0);
    await waitForAlert(rule.id, (a) => a.id === reopened.id && a.status === 'RESOLVED', 'RESOLVED');
  });

  it('should resolve the open alerts of a deleted rule', async () => {
    const rule = await newRule('deleted', 0);
    await push(rule.metric, 150);
    await waitForAlert(rule.id, (a) => a.status === 'FIRING', 'FIRING');
    await server.gqlOk('mutation ($id: ID!) { deleteAlertRule(id: $id) }', { id: rule.id }, server.adminToken);
    const [alert] = await alertsOf(rule.id);
    expect(alert.status).toBe('RESOLVED');
    expect(alert.rule.name).toBe('deleted');
  });

  it('should page alerts newest first and filter by status', async () => {
    const first = await server.gqlOk('{ alerts(first: 2) { totalCount edges { cursor node { id startedAt } } pageInfo { hasNextPage endCursor } } }', {}, viewer);
    expect(first.alerts.edges).toHaveLength(2);
    expect(first.alerts.totalCount).toBeGreaterThanOrEqual(4);
    expect(first.alerts.pageInfo.hasNextPage).toBe(true);
    const next = await server.gqlOk('query ($after: String) { alerts(first: 100, after: $after) { edges { node { id startedAt } } } }', { after: first.alerts.pageInfo.endCursor }, viewer);
    const all = [...first.alerts.edges.map((e: any) => e.node), ...next.alerts.edges.map((e: any) => e.node)];
    expect(all).toHaveLength(first.alerts.totalCount);
    expect(new Set(all.map((a) => a.id)).size).toBe(all.length);
    const times = all.map((a) => new Date(a.startedAt).getTime());
    expect(times).toEqual([...times].sort((a, b) => b - a));
    const resolved = await server.gqlOk('{ alerts(first: 100, status: [RESOLVED]) { totalCount edges { node { status } } } }', {}, viewer);
    expect(resolved.alerts.edges.every((e: any) => e.node.status === 'RESOLVED')).toBe(true);
    const { node } = await server.gqlOk('query ($id: ID!) { node(id: $id) { ... on Alert { status } } }', { id: all[0].id }, viewer);
    expect(node.status).toBeTruthy();
  });
});

describe('notification delivery', () => {
  it('should keep retrying while a receiver is down and deliver once it is back', async () => {
    webhook.setDown(true);
    const before = webhook.received.length;
    const rule = await newRule('outage', 0);
    await push(rule.metric, 150);
    const failing = await waitFor('a failed webhook attempt', async () => {
      const [alert] = await alertsOf(rule.id);
      return alert?.notifications.find((n: any) => n.channel === 'webhook' && n.attempts >= 2);
    });
    expect(failing).toMatchObject({ status: 'PENDING', sentAt: null });
    expect(failing.error).toBeTruthy();
    webhook.setDown(false);
    await waitFor('the webhook delivered', async () => {
      const [alert] = await alertsOf(rule.id);
      return alert.notifications.find((n: any) => n.channel === 'webhook' && n.status === 'DELIVERED');
    }, 20_000);
    const bodies = webhook.received.slice(before).map((r) => JSON.parse(r.body));
    expect(bodies.filter((b) => b.alerts[0].rule.name === 'outage' && b.event === 'FIRING')).toHaveLength(1);
  });
});

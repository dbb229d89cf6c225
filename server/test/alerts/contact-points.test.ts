import { createHmac } from 'node:crypto';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSecretKey, secretBox } from '../../src/core/secret-box.js';
import { pagerdutyAnswer, startHttpReceiver, startSmtpReceiver, type HttpReceiver, type SmtpReceiver } from '../support/receivers.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { waitFor } from '../support/wait.js';

const ROUTING_KEY = 'R0UTINGKEY0123456789abcdef012345';
const SLACK_TOKEN = 'T000/B000/slack-token-xyz';
const WEBHOOK_SECRET = 'env-webhook-secret';
let server: TestServer;
let member: string;
let slack: HttpReceiver;
let webhook: HttpReceiver;
let pagerduty: HttpReceiver;
let smtp: SmtpReceiver;

beforeAll(async () => {
  [slack, webhook, pagerduty, smtp] = await Promise.all([startHttpReceiver(), startHttpReceiver(), startHttpReceiver(), startSmtpReceiver()]);
  pagerduty.setAnswer((request) => pagerdutyAnswer(request.body));
  server = await startTestServer({
    ALERT_EVAL_INTERVAL_SECONDS: '1',
    // retries are the delivery poll's
    ALERT_DELIVERY_INTERVAL_MS: '1000',
    ALERT_DEFAULT_GROUP_WAIT_SECONDS: '0',
    ALERT_DEFAULT_GROUP_INTERVAL_SECONDS: '1',
    SLACK_WEBHOOK_URL: `${slack.url}/services/${SLACK_TOKEN}`,
    ALERT_WEBHOOK_URL: `${webhook.url}/hook?token=query-secret`,
    ALERT_WEBHOOK_SECRET: WEBHOOK_SECRET,
    SMTP_URL: smtp.url,
    ALERT_EMAIL_TO: 'oncall@test.local',
    PAGERDUTY_ROUTING_KEY: ROUTING_KEY,
    PAGERDUTY_EVENTS_URL: `${pagerduty.url}/v2/enqueue`,
  });
  member = (await server.newUser('MEMBER')).token;
});
afterAll(async () => {
  await server?.stop();
  await Promise.all([slack?.close(), webhook?.close(), pagerduty?.close(), smtp?.close()]);
});

const POINT = 'id name kind enabled settings';
const LIST = `{ contactPoints { ${POINT} } }`;
const CREATE = `mutation ($input: ContactPointInput!) { createContactPoint(input: $input) { ${POINT} } }`;
const UPDATE = `mutation ($id: ID!, $input: ContactPointInput!) { updateContactPoint(id: $id, input: $input) { ${POINT} } }`;
const TEST = 'mutation ($id: ID!) { testContactPoint(id: $id) { id event status attempts error response sentAt contactPoint { name } } }';
const list = async () => (await server.gqlOk(LIST, {}, server.adminToken)).contactPoints as any[];
const byName = async (name: string) => (await list()).find((p) => p.name === name);

describe('contact points from the environment', () => {
  it('should be made on first start, shown redacted, and stored sealed', async () => {
    const points = await list();
    expect(points.map((p) => [p.name, p.kind]).sort()).toEqual([['E-mail', 'EMAIL'], ['PagerDuty', 'PAGERDUTY'], ['Slack', 'SLACK'], ['Webhook', 'WEBHOOK']]);
    const shown = Object.fromEntries(points.map((p) => [p.kind, p.settings]));
    expect(shown.SLACK).toEqual({ url: `${slack.url}/••••••` });
    expect(shown.WEBHOOK).toEqual({ url: `${webhook.url}/hook`, secret: '••••••' });
    expect(shown.EMAIL).toEqual({ to: 'oncall@test.local' });
    expect(shown.PAGERDUTY).toEqual({ routingKey: '••••••2345' });
    const raw = JSON.stringify(await server.app.orm.em.fork().execute('select * from contact_points'));
    for (const secret of [SLACK_TOKEN, WEBHOOK_SECRET, 'query-secret', ROUTING_KEY, 'oncall@test.local']) expect(raw).not.toContain(secret);
  });

  it('should not make them again on a restart, nor bring back a deleted one', async () => {
    const slackPoint = await byName('Slack');
    await server.gqlOk('mutation ($id: ID!) { deleteContactPoint(id: $id) }', { id: slackPoint.id }, server.adminToken);
    const again = await startTestServer({ SLACK_WEBHOOK_URL: `${slack.url}/services/x`, PAGERDUTY_ROUTING_KEY: ROUTING_KEY }, server.database);
    try {
      expect((await again.gqlOk(LIST, {}, again.adminToken)).contactPoints.map((p: any) => p.name).sort()).toEqual(['E-mail', 'PagerDuty', 'Webhook']);
    } finally {
      await again.app.stop();
    }
    const { createContactPoint } = await server.gqlOk(CREATE, { input: { name: 'Slack', kind: 'SLACK', settings: { url: `${slack.url}/services/${SLACK_TOKEN}` } } }, server.adminToken);
    expect(createContactPoint.name).toBe('Slack');
  });
});

describe('contact point CRUD', () => {
  it('should keep a secret sent back redacted, and sign test messages with it', async () => {
    const { createContactPoint: hook } = await server.gqlOk(CREATE, { input: { name: 'signed hook', kind: 'WEBHOOK', settings: { url: `${webhook.url}/signed`, secret: 's3cret' } } }, server.adminToken);
    expect(hook.settings).toEqual({ url: `${webhook.url}/signed`, secret: '••••••' });
    const { updateContactPoint } = await server.gqlOk(UPDATE, { id: hook.id, input: { name: 'signed hook, renamed', kind: 'WEBHOOK', settings: hook.settings } }, server.adminToken);
    expect(updateContactPoint).toMatchObject({ name: 'signed hook, renamed', enabled: true, settings: hook.settings });
    const before = webhook.received.length;
    const { testContactPoint } = await server.gqlOk(TEST, { id: hook.id }, server.adminToken);
    expect(testContactPoint).toMatchObject({ event: 'TEST', status: 'DELIVERED', attempts: 1, error: null, response: 'HTTP 200 ok', contactPoint: { name: 'signed hook, renamed' } });
    const request = webhook.received[before];
    expect(request.path).toBe('/signed');
    expect(request.headers['x-signature-256']).toBe(`sha256=${createHmac('sha256', 's3cret').update(request.body).digest('hex')}`);
    expect(JSON.parse(request.body)).toMatchObject({ event: 'TEST' });

    // Leaving the secret out on purpose (null) clears it.
    const cleared = await server.gqlOk(UPDATE, { id: hook.id, input: { name: 'signed hook, renamed', kind: 'WEBHOOK', settings: { url: `${webhook.url}/signed`, secret: null } } }, server.adminToken);
    expect(cleared.updateContactPoint.settings).toEqual({ url: `${webhook.url}/signed` });
  });

  it.each([
    [{ kind: 'SLACK', settings: {} }, 'settings.url'],
    [{ kind: 'SLACK', settings: { url: 'ftp://x' } }, 'settings.url'],
    [{ kind: 'SLACK', settings: { url: 'https://x', channel: '#ops' } }, 'settings.channel'],
    [{ kind: 'WEBHOOK', settings: { url: 'https://x', secret: 42 } }, 'settings.secret'],
    [{ kind: 'EMAIL', settings: { to: 'not-an-address' } }, 'settings.to'],
    [{ kind: 'PAGERDUTY', settings: { routingKey: '' } }, 'settings.routingKey'],
    [{ kind: 'PAGERDUTY', settings: 'key' }, 'settings'],
    [{ kind: 'SLACK', settings: { url: 'https://x' }, name: '  ' }, 'name'],
  ])('should refuse %j as BAD_USER_INPUT naming %s, saving nothing', async (input, field) => {
    const before = await list();
    const result = await server.gql(CREATE, { input: { name: `refused ${field}`, ...input } }, server.adminToken);
    expect(result.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field });
    expect(await list()).toEqual(before);
  });

  it('should refuse a taken name (CONFLICT), members (FORBIDDEN) and unknown ids (NOT_FOUND)', async () => {
    const taken = await server.gql(CREATE, { input: { name: 'pagerduty', kind: 'PAGERDUTY', settings: { routingKey: ROUTING_KEY } } }, server.adminToken);
    expect(taken.errors?.[0].extensions?.code).toBe('CONFLICT');
    expect((await server.gql(LIST, {}, member)).errors).toBeUndefined();
    const forbidden = await server.gql(CREATE, { input: { name: 'mine', kind: 'SLACK', settings: { url: 'https://x' } } }, member);
    expect(forbidden.errors?.[0].extensions?.code).toBe('FORBIDDEN');
    const pd = await byName('PagerDuty');
    expect((await server.gql(TEST, { id: pd.id }, member)).errors?.[0].extensions?.code).toBe('FORBIDDEN');
    const gone = await server.gqlOk(CREATE, { input: { name: 'short-lived', kind: 'SLACK', settings: { url: 'https://x' } } }, server.adminToken);
    await server.gqlOk('mutation ($id: ID!) { deleteContactPoint(id: $id) }', { id: gone.createContactPoint.id }, server.adminToken);
    expect((await server.gql(TEST, { id: gone.createContactPoint.id }, server.adminToken)).errors?.[0].extensions?.code).toBe('NOT_FOUND');
  });
});

describe('testContactPoint', () => {
  it('should mail through SMTP and report the server\'s answer', async () => {
    const before = smtp.mails.length;
    const { testContactPoint } = await server.gqlOk(TEST, { id: (await byName('E-mail')).id }, server.adminToken);
    expect(testContactPoint.status).toBe('DELIVERED');
    expect(testContactPoint.response).toMatch(/^250/);
    expect(smtp.mails[before].to).toEqual(['oncall@test.local']);
  });

  it('should speak Events API v2 to PagerDuty and report its 202, or its 400 as a failure', async () => {
    const pd = await byName('PagerDuty');
    const before = pagerduty.received.length;
    const { testContactPoint: ok } = await server.gqlOk(TEST, { id: pd.id }, server.adminToken);
    const event = JSON.parse(pagerduty.received[before].body);
    expect(event).toMatchObject({ routing_key: ROUTING_KEY, event_action: 'trigger', payload: { severity: 'info', source: 'workflow-factory' } });
    expect(ok).toMatchObject({ status: 'DELIVERED', response: expect.stringContaining(`"dedup_key":"${event.dedup_key}"`) });
    expect(ok.response).toMatch(/^HTTP 202/);

    const { createContactPoint: bad } = await server.gqlOk(CREATE, { input: { name: 'PagerDuty, short key', kind: 'PAGERDUTY', settings: { routingKey: 'short' } } }, server.adminToken);
    const { testContactPoint: refused } = await server.gqlOk(TEST, { id: bad.id }, server.adminToken);
    expect(refused).toMatchObject({ status: 'FAILED', sentAt: null, response: expect.stringMatching(/^HTTP 400 .*invalid event/) });
    expect(refused.error).toMatch(/HTTP 400/);
    await server.gqlOk('mutation ($id: ID!) { deleteContactPoint(id: $id) }', { id: bad.id }, server.adminToken);
  });
});

describe('PagerDuty through the outbox', () => {
  const push = (metric: string, value: number) =>
    server.gqlOk('mutation ($s: [MetricSampleInput!]!) { recordMetrics(samples: $s) }', { s: [{ name: metric, service: 'payments', value }] }, member);
  const pdNotifications = async (alertId: string) => {
    const { alert } = await server.gqlOk('query ($id: ID!) { alert(id: $id) { notifications { event status attempts error groupKey contactPoint { kind } } } }', { id: alertId }, server.adminToken);
    return alert.notifications.filter((n: any) => n.contactPoint.kind === 'PAGERDUTY');
  };

  it('should trigger, acknowledge and resolve one incident (one dedup_key), waiting out a 429', async () => {
    const { createAlertRule: rule } = await server.gqlOk('mutation ($input: AlertRuleInput!) { createAlertRule(input: $input) { id } }', {
      input: { name: 'payments down', metric: 'payments_up', comparator: '<', threshold: 1, severity: 'CRITICAL', runbookUrl: 'https://runbooks.test/payments' },
    }, server.adminToken);
    const start = pagerduty.received.length;
    let limited = 0;
    // The first trigger is rate limited: it must come again later, and only then the acknowledge.
    pagerduty.setAnswer((request) => (JSON.parse(request.body).event_action === 'trigger' && limited++ === 0
      ? { status: 429, headers: { 'retry-after': '1' } }
      : pagerdutyAnswer(request.body)));
    await push('payments_up', 0);
    const alert = await waitFor('the alert firing', async () => {
      const { alerts } = await server.gqlOk('{ alerts(first: 50, status: [FIRING]) { edges { node { id rule { id } } } } }', {}, server.adminToken);
      return alerts.edges.map((e: any) => e.node).find((a: any) => a.rule.id === rule.id);
    });
    await waitFor('a rate-limited attempt', async () => (await pdNotifications(alert.id))[0]?.attempts >= 1 && limited >= 1);
    await server.gqlOk('mutation ($id: ID!) { acknowledgeAlert(id: $id) { id } }', { id: alert.id }, member);
    // The leader decides the acknowledge on its next round; a resolve in the same round would supersede it.
    await waitFor('the acknowledge queued', async () => (await pdNotifications(alert.id)).some((n: any) => n.event === 'ACKNOWLEDGED'));
    await push('payments_up', 1);
    await waitFor('trigger, acknowledge and resolve delivered', async () => {
      const sent = await pdNotifications(alert.id);
      return sent.length === 3 && sent.every((n: any) => n.status === 'DELIVERED');
    }, 20_000);
    // One incident per notification group: the group's key is the dedup_key of all three.
    const [{ groupKey }] = await pdNotifications(alert.id);
    expect(groupKey).toMatch(/^default:\{rule="payments down",service="payments"\}$/);
    const events = pagerduty.received.slice(start).map((r) => JSON.parse(r.body)).filter((e) => e.dedup_key === groupKey);
    expect(events.map((e) => e.event_action)).toEqual(['trigger', 'trigger', 'acknowledge', 'resolve']);
    expect(events[0].payload).toMatchObject({ severity: 'critical', source: 'payments' });
    expect(events[0].links).toEqual([{ href: 'https://runbooks.test/payments', text: 'Runbook' }]);
    expect((await pdNotifications(alert.id)).map((n: any) => [n.event, n.attempts])).toEqual([['FIRING', 2], ['ACKNOWLEDGED', 1], ['RESOLVED', 1]]);
    pagerduty.setAnswer((request) => pagerdutyAnswer(request.body));
  });
});

describe('the secrets key', () => {
  it('should be made once in DATA_DIR, readable by its owner only, and refuse text sealed with another key', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'wf-secrets-'));
    try {
      const first = await loadSecretKey(undefined, dir);
      expect(first.file).toBe(path.join(dir, 'secrets.key'));
      expect((await stat(first.file!)).mode & 0o777).toBe(0o600);
      const second = await loadSecretKey(undefined, dir);
      expect(second.key.equals(first.key)).toBe(true);
      expect(Buffer.from((await readFile(first.file!, 'utf8')).trim(), 'base64').equals(first.key)).toBe(true);
      const sealed = secretBox(first.key).seal('hello');
      expect(secretBox(first.key).open(sealed)).toBe('hello');
      expect(() => secretBox(Buffer.alloc(32, 7)).open(sealed)).toThrow(/SECRETS_KEY/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

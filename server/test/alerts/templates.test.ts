/**
 * Message templates end to end (issue 15 item 1), with real receivers: HTTP servers standing in
 * for Slack, a webhook and PagerDuty (Events v2 answers), and a real SMTP server. A rule whose
 * name and label hold `<script>`, `*bold*`, quotes and a line break fires; each contact point's
 * own template arrives rendered and escaped for its channel, the JSON bodies stay valid, the
 * default template still says the fixed text; broken templates are refused naming `template`
 * with nothing saved; the preview renders a sample and a real alert, admins only.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pagerdutyAnswer, startHttpReceiver, startSmtpReceiver, type HttpReceiver, type SmtpReceiver } from '../support/receivers.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { waitFor } from '../support/wait.js';

const ROUTING_KEY = 'TEMPLATEKEY0123456789abcdef01234';
const NOTE = '<script>alert("x")</script> *bold* \'q\' & "dq"\nforged • CRITICAL line';
const RULE = 'Evil <b>rule</b> *now*';
const TEMPLATE = 'Note: {{ alerts[0].labels.note }} | {{ alerts[0].rule.name }} | {{ alerts.size }} alert(s) | team {{ alerts[0].labels.team }}';
let server: TestServer;
let member: string;
let slack: HttpReceiver;
let webhook: HttpReceiver;
let pagerduty: HttpReceiver;
let smtp: SmtpReceiver;
const points: Record<string, string> = {};

const CREATE = 'mutation ($input: ContactPointInput!) { createContactPoint(input: $input) { id name template } }';
const PREVIEW = 'query ($kind: ContactKind!, $template: String, $alertId: ID) { previewContactPointMessage(kind: $kind, template: $template, alertId: $alertId) { kind text body template truncated sample } }';

beforeAll(async () => {
  [slack, webhook, pagerduty, smtp] = await Promise.all([startHttpReceiver(), startHttpReceiver(), startHttpReceiver(), startSmtpReceiver()]);
  pagerduty.setAnswer((request) => pagerdutyAnswer(request.body));
  server = await startTestServer({
    ALERT_EVAL_INTERVAL_SECONDS: '1', ALERT_DELIVERY_INTERVAL_MS: '500', ALERT_DEFAULT_GROUP_WAIT_SECONDS: '0', ALERT_DEFAULT_GROUP_INTERVAL_SECONDS: '1',
    SMTP_URL: smtp.url, ALERT_EMAIL_TO: 'env@test.local', PAGERDUTY_EVENTS_URL: `${pagerduty.url}/v2/enqueue`,
  });
  member = (await server.newUser('MEMBER')).token;
  // Only this test's contact points (the variables made "E-mail").
  for (const point of (await server.gqlOk('{ contactPoints { id } }', {}, server.adminToken)).contactPoints) {
    await server.gqlOk('mutation ($id: ID!) { deleteContactPoint(id: $id) }', { id: point.id }, server.adminToken);
  }
  const make = async (name: string, kind: string, settings: Record<string, string>, template: string | null) => {
    points[name] = (await server.gqlOk(CREATE, { input: { name, kind, settings, template } }, server.adminToken)).createContactPoint.id;
  };
  await make('slack', 'SLACK', { url: `${slack.url}/services/T/B/x` }, `*{{ summary }}*\n${TEMPLATE}`);
  await make('slack-default', 'SLACK', { url: `${slack.url}/default` }, null);
  await make('hook', 'WEBHOOK', { url: `${webhook.url}/hook`, secret: 's3cret' }, `${TEMPLATE}", "injected": true, "x": "`);
  await make('pd', 'PAGERDUTY', { routingKey: ROUTING_KEY }, TEMPLATE);
  await make('mail', 'EMAIL', { to: 'oncall@test.local' }, `<h1>{{ alerts[0].rule.name }}</h1><p>${TEMPLATE}</p>`);
}, 60_000);
afterAll(async () => {
  await server?.stop();
  await Promise.all([slack?.close(), webhook?.close(), pagerduty?.close(), smtp?.close()]);
});

/** The decoded text/html part of a raw mail (quoted-printable or base64, as nodemailer writes it). */
function htmlPart(raw: string): string {
  const part = raw.split(/\r?\n--[^\r\n]+\r?\n/).find((p) => /content-type:\s*text\/html/i.test(p));
  if (!part) throw new Error('no HTML part');
  const [head, ...rest] = part.split(/\r?\n\r?\n/);
  const body = rest.join('\n\n').replace(/\r?\n--[^\r\n]*--\s*$/, '');
  const encoding = /content-transfer-encoding:\s*(\S+)/i.exec(head)?.[1]?.toLowerCase();
  if (encoding === 'base64') return Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8').replace(/\r\n/g, '\n');
  if (encoding === 'quoted-printable') {
    const bytes = body.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/gi, (_, hex) => String.fromCharCode(parseInt(hex, 16)));
    return Buffer.from(bytes, 'latin1').toString('utf8').replace(/\r\n/g, '\n');
  }
  return body.replace(/\r\n/g, '\n');
}

// Only this test's rule (a default rule may fire on a busy machine too).
const ours = (receiver: HttpReceiver, path?: string) => receiver.received.filter((r) => r.body.includes('Evil') && (!path || r.path.startsWith(path)));
const ourMails = () => smtp.mails.map((m) => htmlPart(m.raw)).filter((html) => html.includes('Evil'));

describe('a hostile alert through each channel\'s template', () => {
  let alertId: string;

  it('should arrive rendered and escaped for Slack, e-mail, the webhook and PagerDuty', async () => {
    await server.gqlOk('mutation ($input: AlertRuleInput!) { createAlertRule(input: $input) { id } }', {
      input: { name: RULE, metric: 'tpl_metric', comparator: '>', threshold: 0, severity: 'HIGH', labels: { note: NOTE, team: 'pay_ments' } },
    }, server.adminToken);
    await server.gqlOk('mutation ($s: [MetricSampleInput!]!) { recordMetrics(samples: $s) }', { s: [{ name: 'tpl_metric', service: 'checkout', value: 3 }] }, member);
    await waitFor('every channel to hear it', async () => ours(slack).length >= 2 && ours(webhook).length >= 1 && ours(pagerduty).length >= 1 && ourMails().length >= 1, 30_000);

    // Slack: & < > as entities, no line break from a value, marks at a word's edge defused; the template's own * kept.
    const custom = JSON.parse(ours(slack, '/services')[0].body).text as string;
    const [first, second, ...more] = custom.split('\n');
    expect(more).toEqual([]);
    expect(first).toMatch(/^\*\[FIRING\] HIGH Evil &lt;b&gt;rule&lt;\/b&gt; \u200b\*now\u200b\*: tpl_metric on checkout is 3/);
    expect(first.endsWith('*')).toBe(true);
    expect(second).toBe('Note: &lt;script&gt;alert("x")&lt;/script&gt; \u200b*bold\u200b* \'q\' &amp; "dq" forged • CRITICAL line | Evil &lt;b&gt;rule&lt;/b&gt; \u200b*now\u200b* | 1 alert(s) | team pay_ments');
    expect(custom).not.toMatch(/<|>/);

    // The default template: today's fixed text, escaped the same way.
    const plain = JSON.parse(ours(slack, '/default')[0].body).text as string;
    expect(plain).toBe('[FIRING] HIGH Evil &lt;b&gt;rule&lt;/b&gt; \u200b*now\u200b*: tpl_metric on checkout is 3 (tpl_metric &gt; 0)');

    // Webhook: valid JSON, the template's quotes only inside the `text` string, still signed.
    const [hook] = ours(webhook);
    const body = JSON.parse(hook.body);
    expect(body.injected).toBeUndefined();
    expect(body.text).toBe(`Note: ${NOTE} | ${RULE} | 1 alert(s) | team pay_ments", "injected": true, "x": "`);
    expect(body).toMatchObject({ event: 'FIRING', alerts: [{ labels: { note: NOTE }, rule: { name: RULE } }] });
    expect(hook.headers['x-signature-256']).toMatch(/^sha256=[0-9a-f]{64}$/);

    // PagerDuty: an event its API accepts (202), the rendered text as the summary.
    const event = JSON.parse(ours(pagerduty)[0].body);
    expect(event).toMatchObject({ routing_key: ROUTING_KEY, event_action: 'trigger', payload: { summary: `Note: ${NOTE} | ${RULE} | 1 alert(s) | team pay_ments`, severity: 'error' } });

    // E-mail: the HTML body escaped, the template's own markup kept.
    const [html] = ourMails();
    expect(html).toBe('<h1>Evil &lt;b&gt;rule&lt;/b&gt; *now*</h1><p>Note: &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; *bold* &#39;q&#39; &amp; &quot;dq&quot;\nforged • CRITICAL line | Evil &lt;b&gt;rule&lt;/b&gt; *now* | 1 alert(s) | team pay_ments</p>');

    const { alerts } = await server.gqlOk('{ alerts(first: 20, status: [FIRING]) { edges { node { id rule { name } } } } }', {}, server.adminToken);
    alertId = alerts.edges.map((e: any) => e.node).find((a: any) => a.rule.name === RULE).id;
    await waitFor('every notification delivered', async () => {
      const { alert: now } = await server.gqlOk('query ($id: ID!) { alert(id: $id) { notifications { status } } }', { id: alertId }, server.adminToken);
      return now.notifications.length === 5 && now.notifications.every((n: any) => n.status === 'DELIVERED');
    });
  });

  it('should preview what each channel would send for that alert and for a sample, admins only', async () => {
    const { previewContactPointMessage: real } = await server.gqlOk(PREVIEW, { kind: 'SLACK', template: TEMPLATE, alertId }, server.adminToken);
    expect(real).toMatchObject({ kind: 'SLACK', sample: false, truncated: false, template: TEMPLATE });
    expect(real.text).toContain('Note: &lt;script&gt;alert("x")&lt;/script&gt; \u200b*bold\u200b*');
    expect(JSON.parse(real.body)).toEqual({ text: real.text });

    const { previewContactPointMessage: sample } = await server.gqlOk(PREVIEW, { kind: 'PAGERDUTY' }, server.adminToken);
    expect(sample).toMatchObject({ sample: true, template: '{{ summary }}', text: '[FIRING] HIGH High error rate: error_rate_percent on api is 7.5 (error_rate_percent > 5) — More than 5 % of requests fail — Runbook: https://runbooks.example.com/error-rate' });
    expect(JSON.parse(sample.body)).toMatchObject({ routing_key: '••••••', event_action: 'trigger', payload: { summary: sample.text } });
    expect(sample.body).not.toContain(ROUTING_KEY);

    const { previewContactPointMessage: mail } = await server.gqlOk(PREVIEW, { kind: 'EMAIL', alertId }, server.adminToken);
    expect(mail.body).toMatch(/^Subject: \[FIRING\] HIGH Evil <b>rule<\/b> \*now\*/);
    expect(mail.text).toMatch(/^<p>\[FIRING\] HIGH Evil &lt;b&gt;rule&lt;\/b&gt; \*now\*/);

    const refused = await server.gql(PREVIEW, { kind: 'SLACK', template: '{% include "x" %}' }, server.adminToken);
    expect(refused.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'template' });
    expect((await server.gql(PREVIEW, { kind: 'SLACK' }, member)).errors?.[0].extensions?.code).toBe('FORBIDDEN');
    expect((await server.gql(PREVIEW, { kind: 'SLACK', alertId: Buffer.from('Alert:00000000-0000-0000-0000-000000000000').toString('base64url') }, server.adminToken)).errors?.[0].extensions?.code).toBe('NOT_FOUND');
  });

  it('should render the test message through the template', async () => {
    const before = slack.received.length;
    const { testContactPoint } = await server.gqlOk('mutation ($id: ID!) { testContactPoint(id: $id) { status } }', { id: points.slack }, server.adminToken);
    expect(testContactPoint.status).toBe('DELIVERED');
    expect(JSON.parse(slack.received.slice(before).find((r) => r.body.includes('[TEST]'))!.body).text).toMatch(/^\*\[TEST\] Workflow Factory test message to slack\*\nNote:  \| test \| 1 alert\(s\) \| team $/);
  });
});

describe('saving templates', () => {
  it.each([
    ['{{ summary | nope }}', 'an unknown filter'],
    ['{% include "/etc/passwd" %}', 'a file include'],
    ['{% for a in alerts %}', 'an unclosed tag'],
    ['{% for i in (1..30000) %}xx{% endfor %}', 'too much output'],
  ])('should refuse %s (%s) as BAD_USER_INPUT naming template, saving nothing', async (template) => {
    const list = async () => (await server.gqlOk('{ contactPoints { id name template } }', {}, server.adminToken)).contactPoints;
    const before = await list();
    const created = await server.gql(CREATE, { input: { name: 'broken', kind: 'SLACK', settings: { url: 'https://hooks.example/x' }, template } }, server.adminToken);
    expect(created.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'template' });
    const updated = await server.gql('mutation ($id: ID!, $input: ContactPointInput!) { updateContactPoint(id: $id, input: $input) { id } }', {
      id: points['slack-default'], input: { name: 'slack-default', kind: 'SLACK', settings: {}, template },
    }, server.adminToken);
    expect(updated.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'template' });
    expect(await list()).toEqual(before);
  });

  it('should keep a template an update leaves out, store the default as null, and clear it with null', async () => {
    const UPDATE = 'mutation ($id: ID!, $input: ContactPointInput!) { updateContactPoint(id: $id, input: $input) { template } }';
    const { updateContactPoint: kept } = await server.gqlOk(UPDATE, { id: points.pd, input: { name: 'pd', kind: 'PAGERDUTY', settings: {} } }, server.adminToken);
    expect(kept.template).toBe(TEMPLATE);
    const { previewContactPointMessage: { template: slackDefault } } = await server.gqlOk(PREVIEW, { kind: 'SLACK' }, server.adminToken);
    const { updateContactPoint: asDefault } = await server.gqlOk(UPDATE, { id: points['slack-default'], input: { name: 'slack-default', kind: 'SLACK', settings: {}, template: slackDefault } }, server.adminToken);
    expect(asDefault.template).toBeNull();
    const { updateContactPoint: cleared } = await server.gqlOk(UPDATE, { id: points.pd, input: { name: 'pd', kind: 'PAGERDUTY', settings: {}, template: null } }, server.adminToken);
    expect(cleared.template).toBeNull();
  });
});

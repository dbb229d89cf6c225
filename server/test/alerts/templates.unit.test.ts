/**
 * Message templates (notifications/templates.ts), pure: each kind's default says what the fixed
 * text said, every output is escaped for its channel, a template reaches nothing but the
 * message's fields, and what cannot be sent safely is refused on save naming `template`.
 */
import { describe, expect, it } from 'vitest';
import { payloadFor } from '../../src/alerts/notifications/channels.js';
import { groupMessage, messageText, type MessageAlert } from '../../src/alerts/notifications/message.js';
import { DEFAULT_TEMPLATES, MAX_RENDERED, renderMessage, renderStrict, sampleAlerts, validateTemplate } from '../../src/alerts/notifications/templates.js';

const HOSTILE = '<script>alert("x")</script> *bold* _it_ \'q\' & "dq"\nforged line';
const base = sampleAlerts(new Date('2026-12-04T12:00:00Z'))[0];
const alert = (over: Omit<Partial<MessageAlert>, 'rule'> & { rule?: Partial<MessageAlert['rule']> } = {}): MessageAlert => ({
  ...base, ...over, rule: { ...base.rule, ...over.rule }, labels: { ...base.labels, ...over.labels },
});
const config = { pagerdutyEventsUrl: 'http://127.0.0.1:9/v2/enqueue' };
/** What Slack shows for mrkdwn text: its three entities decoded, zero-width spaces unseen. */
const slackShown = (text: string) => text.replace(/\u200b/g, '').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');

describe('default templates', () => {
  const many = Array.from({ length: 53 }, (_, i) => alert({ id: `a${i}`, service: `s${i}`, value: i + 0.25 }));
  const cases = {
    'one firing alert': groupMessage('FIRING', 'first', 'k', { rule: 'High error rate', service: 'api' }, [alert()], []),
    'one without summary or runbook': groupMessage('FIRING', 'repeat', 'k', {}, [alert({ rule: { summary: null, runbookUrl: null } })], []),
    'a group of three, one resolved': groupMessage('FIRING', 'changed', 'k', { rule: 'High error rate' },
      [alert(), alert({ id: 'b', service: 'search' })], [alert({ id: 'c', service: 'auth', status: 'RESOLVED' })]),
    'a resolved group': groupMessage('RESOLVED', 'resolved', 'k', {}, [], [alert({ status: 'RESOLVED' }), alert({ id: 'b', status: 'RESOLVED' })]),
    '53 alerts (50 lines, then the rest counted)': groupMessage('FIRING', 'escalation', 'k', { rule: 'High error rate' }, many, []),
  };

  it.each(Object.entries(cases))('should say for %s what the fixed text said (Slack, as shown; webhook; PagerDuty)', (_, message) => {
    expect(slackShown(renderStrict('SLACK', null, message).text)).toBe(messageText(message));
    expect(renderStrict('WEBHOOK', null, message).text).toBe(messageText(message));
    expect(renderStrict('PAGERDUTY', null, message).text).toBe(message.summary);
  });

  it.each(Object.entries(cases))('should say for %s the same lines in the e-mail\'s HTML', (_, message) => {
    const html = renderStrict('EMAIL', null, message).text;
    const lines = html.split('\n').map((line) => line.replace(/<[^>]+>/g, '').replace(/&gt;/g, '>').replace(/&lt;/g, '<').replace(/&amp;/g, '&').trim()).filter(Boolean);
    expect(lines).toEqual(messageText(message).split('\n').map((line) => line.replace(/^• /, '')));
  });
});

describe('escaping per channel', () => {
  const message = groupMessage('FIRING', 'first', 'k', {}, [alert({ labels: { note: HOSTILE }, rule: { name: HOSTILE } })], []);
  const template = 'Note: {{ alerts[0].labels.note }} | rule {{ alerts[0].rule.name }}';

  it('should keep Slack\'s control characters, line breaks and formatting marks of values out of the mrkdwn', () => {
    const text = renderStrict('SLACK', template, message).text;
    expect(text).not.toMatch(/[<>\n]/);
    expect(text).toContain('&lt;script&gt;alert("x")&lt;/script&gt;');
    expect(text).toContain('\u200b*bold\u200b*');
    expect(text).toContain('\u200b_it\u200b_');
    expect(text).toContain('&amp; "dq" forged line');
    // The template's own marks are the author's.
    expect(renderStrict('SLACK', '*{{ summary }}*', message).text).toMatch(/^\*\[FIRING\]/);
    // A URL stays whole (its & escaped as Slack wants); an underscore inside a word stays.
    const urls = groupMessage('FIRING', 'first', 'k', {}, [alert({ rule: { runbookUrl: 'https://wiki.example/run_book?a=1&b=_x_' } })], []);
    expect(renderStrict('SLACK', '{{ alerts[0].rule.runbookUrl }} {{ alerts[0].rule.metric }}', urls).text).toBe('https://wiki.example/run_book?a=1&amp;b=_x_ error_rate_percent');
  });

  it('should HTML-escape every value of the e-mail body', () => {
    const text = renderStrict('EMAIL', `<p>${template}</p>`, message).text;
    expect(text).toContain('<p>Note: &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; *bold* _it_ &#39;q&#39; &amp; &quot;dq&quot;\nforged line');
    expect(text).not.toContain('<script>');
  });

  it('should keep webhook and PagerDuty bodies valid JSON whatever the template and alert say', () => {
    const nasty = '{{ alerts[0].labels.note }}", "injected": true, "x": "\\u0000 {"';
    for (const kind of ['WEBHOOK', 'PAGERDUTY'] as const) {
      const payload = payloadFor(config, kind, { url: 'http://127.0.0.1:9/h', routingKey: 'r'.repeat(32) }, message, nasty);
      const body = JSON.parse((payload as { body: string }).body);
      expect(body.injected).toBeUndefined();
      const text = kind === 'WEBHOOK' ? body.text : body.payload.summary;
      expect(text).toBe(`${HOSTILE}", "injected": true, "x": "\\u0000 {"`);
      if (kind === 'WEBHOOK') expect(body).toMatchObject({ event: 'FIRING', groupKey: 'k', alerts: [{ labels: { note: HOSTILE } }] });
      else expect(body).toMatchObject({ event_action: 'trigger', dedup_key: 'k', payload: { severity: 'error' } });
    }
  });
});

describe('what a template may reach', () => {
  const message = groupMessage('FIRING', 'first', 'k', {}, [alert()], []);

  it.each([
    '{{ alerts.constructor }}', '{{ summary.constructor.name }}', '{{ alerts[0].__proto__ }}', '{{ alerts[0].constructor.constructor }}',
    '{{ groupLabels.hasOwnProperty }}', '{{ process.env }}', '{{ global }}', '{{ alerts[0].rule.toString }}',
  ])('should render nothing for %s', (template) => {
    expect(renderStrict('WEBHOOK', template, message).text).toBe('');
  });

  it.each([
    ['{% include "/etc/passwd" %}', /include/],
    ['{% render "secrets" %}', /render/],
    ['{% layout "x" %}', /layout/],
    ['{{ summary | no_such_filter }}', /no_such_filter/],
    ['{{ alerts[0].labels.note | raw }}', /raw/],
    ['{% if %}', /./],
    ['{{ summary', /./],
  ])('should refuse %s when saved, naming template', (template, reason) => {
    let refusal: any;
    try {
      validateTemplate('SLACK', template);
    } catch (error) {
      refusal = error;
    }
    expect(refusal?.extensions ?? refusal).toMatchObject({ code: 'BAD_USER_INPUT', field: 'template' });
    expect(refusal.message).toMatch(reason);
  });

  it('should refuse a template that renders too much, and bound time and memory', () => {
    expect(() => validateTemplate('SLACK', `{% for i in (1..${MAX_RENDERED}) %}xx{% endfor %}`)).toThrow(/renders more than/);
    expect(() => validateTemplate('SLACK', '{% for i in (1..100000000) %}{% for j in (1..100000000) %}x{% endfor %}{% endfor %}')).toThrow(/not a valid template/);
    expect(() => validateTemplate('SLACK', 'x'.repeat(10_001))).toThrow(/longer than 10000/);
  });

  it('should store the default as null, and a good template as given', () => {
    expect(validateTemplate('SLACK', DEFAULT_TEMPLATES.SLACK)).toBeNull();
    expect(validateTemplate('SLACK', '  ')).toBeNull();
    expect(validateTemplate('EMAIL', '<b>{{ summary }}</b>')).toBe('<b>{{ summary }}</b>');
  });

  it('should cut what it sends at the size limit, and fall back to the default when a template fails on a real alert', () => {
    const long = renderStrict('WEBHOOK', '{% for a in (1..3000) %}0123456789{% endfor %}', message);
    expect(long.truncated).toBe(true);
    expect(long.text).toHaveLength(MAX_RENDERED);
    const failures: string[] = [];
    expect(renderMessage('WEBHOOK', '{{ summary | no_such_filter }}', message, (error) => failures.push(error.message))).toBe(messageText(message));
    expect(failures).toHaveLength(1);
  });
});

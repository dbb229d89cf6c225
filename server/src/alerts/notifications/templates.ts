/**
 * Message templates: what a contact point's notification says, written in Liquid (LiquidJS)
 * and rendered with the message's fields only (message.ts: `summary`, `event`, `reason`,
 * `status`, `groupKey`, `groupLabels`, `alerts` with each alert's labels and rule).
 *
 * Why LiquidJS: Liquid was made for templates written by people other than the programmer
 * (Shopify's merchants). It never evaluates JavaScript, reads only an object's own properties
 * (`ownPropertyOnly`: no `constructor`, `__proto__` or getters on prototypes), bounds parse
 * size, render time and memory, and lets each engine escape every output its own way, which is
 * what per-channel escaping needs. Handlebars compiles templates into JavaScript functions,
 * has had prototype-access advisories, and escapes for HTML only.
 *
 * Escaping, per channel, of every `{{ output }}` (the template's own text is the author's):
 * - SLACK (mrkdwn): `&`, `<`, `>` as entities (Slack's control characters: no `<!channel>`,
 *   no forged `<url|link>`); a line break becomes a space (a value cannot forge a message
 *   line); a formatting mark (`*` `_` `~` `` ` ``) at a word's edge gets a zero-width space
 *   before it, so `*bold*` in a label is not set bold (URLs are left whole).
 * - EMAIL (the HTML body): `&`, `<`, `>`, `"`, `'` as entities.
 * - WEBHOOK, PAGERDUTY: the rendered text is one JSON string of the body (`text`, PagerDuty's
 *   `payload.summary`), encoded by JSON.stringify: the body stays valid JSON whatever the
 *   template or the alert says.
 *
 * No file access: the `include`, `render` and `layout` tags are removed (a template using them
 * is refused when saved) and the engine's file lookups are an empty in-memory map. The `raw`
 * filter (print unescaped) is removed too.
 */
import { Liquid } from 'liquidjs';
import { badInput } from '../../core/errors.js';
import { codePoints, truncate } from '../../core/text.js';
import type { ContactKind } from './kinds.js';
import { groupMessage, type AlertMessage, type MessageAlert } from './message.js';

export const MAX_TEMPLATE = 10_000;
/** Longer text is cut here (and ends with "…"); Slack takes 40,000, e-mail and webhooks more. */
export const MAX_RENDERED = 20_000;
const RENDER_LIMIT_MS = 100;
const MEMORY_LIMIT = 2_000_000;

/** One alert's line, as message.ts `alertLine` writes it. */
const ALERT_LINE = '{% if alert.status == "RESOLVED" %}{{ alert.rule.name }} on {{ alert.service }}: resolved{% else %}'
  + '{{ alert.severity }} {{ alert.rule.name }}: {{ alert.rule.metric }} on {{ alert.service }} is {{ alert.value }} '
  + '({{ alert.rule.metric }} {{ alert.rule.comparator }} {{ alert.rule.threshold }})'
  + '{% if alert.rule.summary != blank %} — {{ alert.rule.summary }}{% endif %}'
  + '{% if alert.rule.runbookUrl != blank %} — Runbook: {{ alert.rule.runbookUrl }}{% endif %}{% endif %}';

/** The summary, then (for a group of several) one line per alert: message.ts `messageText`. */
const TEXT = `{{ summary }}
{%- if alerts.size > 1 %}
{%- for alert in alerts limit: 50 %}
• ${ALERT_LINE}
{%- endfor %}
{%- if alerts.size > 50 %}
… and {{ alerts.size | minus: 50 }} more
{%- endif %}
{%- endif %}`;

const HTML = `<p>{{ summary }}</p>
{%- if alerts.size > 1 %}
<ul>
{%- for alert in alerts limit: 50 %}
<li>${ALERT_LINE}</li>
{%- endfor %}
{%- if alerts.size > 50 %}
<li>… and {{ alerts.size | minus: 50 }} more</li>
{%- endif %}
</ul>
{%- endif %}`;

/** What a contact point without a template of its own sends: what the fixed text said. */
export const DEFAULT_TEMPLATES: Record<ContactKind, string> = {
  SLACK: TEXT,
  WEBHOOK: TEXT,
  EMAIL: HTML,
  PAGERDUTY: '{{ summary }}',
};

const HTML_ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
const WORD = /[\p{L}\p{N}]/u;

function slackEscape(value: unknown): string {
  const text = String(value ?? '').replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/\r\n|[\r\n\u2028\u2029]/g, ' ');
  if (/^https?:\/\/\S+$/.test(text)) return text;
  return text.replace(/[*_~`]/g, (mark, at: number) => (
    !WORD.test(text[at - 1] ?? '') || !WORD.test(text[at + 1] ?? '') ? `\u200b${mark}` : mark));
}

const ESCAPES: Record<ContactKind, (value: unknown) => string> = {
  SLACK: slackEscape,
  EMAIL: (value) => String(value ?? '').replace(/[&<>"']/g, (c) => HTML_ENTITIES[c]),
  WEBHOOK: (value) => String(value ?? ''),
  PAGERDUTY: (value) => String(value ?? ''),
};

function engine(kind: ContactKind): Liquid {
  const liquid = new Liquid({
    outputEscape: ESCAPES[kind],
    ownPropertyOnly: true,
    strictFilters: true,
    templates: {},
    relativeReference: false,
    parseLimit: MAX_TEMPLATE * 4,
    renderLimit: RENDER_LIMIT_MS,
    memoryLimit: MEMORY_LIMIT,
  });
  for (const tag of ['include', 'render', 'layout']) delete liquid.tags[tag];
  // `raw` would print a value unescaped: every value is escaped, whatever the template says.
  liquid.unregisterFilter('raw');
  return liquid;
}
const ENGINES = new Map<ContactKind, Liquid>();
const engineFor = (kind: ContactKind) => ENGINES.get(kind) ?? ENGINES.set(kind, engine(kind)).get(kind)!;

/** The fields a template sees: plain data copied from the message (nothing else is reachable). */
function scopeOf(message: AlertMessage): Record<string, unknown> {
  const scope = JSON.parse(JSON.stringify({
    event: message.event,
    reason: message.reason,
    status: message.status,
    groupKey: message.groupKey,
    groupLabels: message.groupLabels,
    summary: message.summary,
    alerts: message.alerts,
  }));
  scope.firingCount = message.alerts.filter((a) => a.status !== 'RESOLVED').length;
  scope.resolvedCount = message.alerts.length - scope.firingCount;
  return scope;
}

export interface Rendered {
  text: string;
  /** cut at MAX_RENDERED */
  truncated: boolean;
}

/** Renders `template` (null: the channel's default); throws what Liquid says is wrong. */
export function renderStrict(kind: ContactKind, template: string | null, message: AlertMessage): Rendered {
  const liquid = engineFor(kind);
  const text = String(liquid.renderSync(liquid.parse(template ?? DEFAULT_TEMPLATES[kind]), scopeOf(message)));
  const truncated = codePoints(text) > MAX_RENDERED;
  return { text: truncated ? `${truncate(text, MAX_RENDERED - 1)}…` : text, truncated };
}

/**
 * What a notification says. A template that fails when sending (it was checked when saved, but
 * an alert can hold what the sample did not) gives way to the default: the message still goes out.
 */
export function renderMessage(kind: ContactKind, template: string | null, message: AlertMessage, onFailure?: (error: Error) => void): string {
  if (template !== null) {
    try {
      return renderStrict(kind, template, message).text;
    } catch (error) {
      onFailure?.(error as Error);
    }
  }
  return renderStrict(kind, null, message).text;
}

/** A firing alert to try templates on (the preview without an alert, and the check on save). */
export function sampleAlerts(now = new Date()): MessageAlert[] {
  const at = new Date(now.getTime() - 5 * 60_000).toISOString();
  return ['api', 'search'].map((service, i): MessageAlert => ({
    id: `sample-${i + 1}`, status: 'FIRING', severity: 'HIGH', service, value: 7.5 + i, startedAt: at, firedAt: at, resolvedAt: null,
    labels: { severity: 'HIGH', service, metric: 'error_rate_percent', rule: 'High error rate', team: 'platform' },
    rule: {
      id: 'sample', name: 'High error rate', metric: 'error_rate_percent', comparator: '>', threshold: 5, forSeconds: 60,
      summary: 'More than 5 % of requests fail', runbookUrl: 'https://runbooks.example.com/error-rate',
    },
  }));
}

/** A sample message: one alert, or a group of two. */
export function sampleMessage(alerts = 1, now = new Date()): AlertMessage {
  const firing = sampleAlerts(now).slice(0, alerts);
  return groupMessage('FIRING', 'first', 'sample', alerts > 1 ? { rule: 'High error rate' } : { rule: 'High error rate', service: 'api' }, firing, []);
}

/**
 * A template as stored: null for the default (empty or the default's own text), else checked:
 * it parses, uses no removed tag or unknown filter, and renders the samples within the limits.
 */
export function validateTemplate(kind: ContactKind, input: string | null | undefined, field = 'template'): string | null {
  if (input === null || input === undefined || !input.trim() || input === DEFAULT_TEMPLATES[kind]) return null;
  if (codePoints(input) > MAX_TEMPLATE) throw badInput(`${field} is longer than ${MAX_TEMPLATE} characters`, { field });
  for (const message of [sampleMessage(1), sampleMessage(2)]) {
    let rendered: Rendered;
    try {
      rendered = renderStrict(kind, input, message);
    } catch (error) {
      const reason = (error as Error).message.replace(/\s+/g, ' ').replace(/, file:.*$/, '');
      throw badInput(`${field} is not a valid template: ${truncate(reason, 300)}`, { field });
    }
    if (rendered.truncated) throw badInput(`${field} renders more than ${MAX_RENDERED} characters for the sample alert`, { field });
  }
  return input;
}

/**
 * Sending one message to one contact point: a Slack incoming webhook, a generic webhook signed
 * with HMAC-SHA256, e-mail over SMTP, or PagerDuty's Events API v2. A send returns what the
 * receiver answered, or throws a `DeliveryError` that says whether trying again can help.
 */
import { createHash, createHmac } from 'node:crypto';
import nodemailer, { type Transporter } from 'nodemailer';
import type { Config } from '../../app/config.js';
import { truncate } from '../../core/text.js';
import { messageText, worstSeverity, type AlertMessage } from './message.js';
import type { ContactKind, ContactSettings } from './kinds.js';
import { renderMessage } from './templates.js';

export { CONTACT_KINDS, type ContactKind, type ContactSettings } from './kinds.js';

const SEND_TIMEOUT_MS = 10_000;
const MAX_ANSWER = 500;

/** What a receiver refused; `permanent` when sending the same again cannot succeed. */
export class DeliveryError extends Error {
  constructor(message: string, readonly permanent = false, readonly retryAfterMs?: number, readonly answer?: string) {
    super(message);
  }
}

/** `sha256=<hex>` of the exact body bytes, as GitHub-style receivers verify it. */
export function signature(body: string, secret: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/** Retry-After in seconds or as an HTTP date, in ms; undefined when absent or unreadable. */
function retryAfterMs(header: string | null): number | undefined {
  if (!header) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}

async function post(url: string, body: string, headers: Record<string, string> = {}): Promise<string> {
  let response: Response;
  try {
    response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body,
      signal: AbortSignal.timeout(SEND_TIMEOUT_MS),
    });
  } catch (error) {
    throw new DeliveryError(`receiver unreachable: ${(error as Error).cause instanceof Error ? ((error as Error).cause as Error).message : (error as Error).message}`);
  }
  const text = truncate(await response.text().catch(() => ''), MAX_ANSWER);
  const answer = `HTTP ${response.status}${text ? ` ${text}` : ''}`;
  if (response.ok) return answer;
  // Rate limited or timed out: later. Any other 4xx is about the request itself: sending it again cannot help.
  const retryable = response.status >= 500 || response.status === 429 || response.status === 408;
  throw new DeliveryError(`receiver answered ${answer}`, !retryable, retryAfterMs(response.headers.get('retry-after')), answer);
}

const PAGERDUTY_SEVERITY: Record<string, string> = { CRITICAL: 'critical', HIGH: 'error', MEDIUM: 'warning', LOW: 'info' };
const PAGERDUTY_ACTION = { FIRING: 'trigger', TEST: 'trigger', ACKNOWLEDGED: 'acknowledge', RESOLVED: 'resolve' } as const;

/** PagerDuty's dedup_key: the group's key, hashed when longer than the 255 characters PagerDuty keeps. */
export function dedupKey(groupKey: string): string {
  return groupKey.length <= 255 ? groupKey : createHash('sha256').update(groupKey).digest('hex');
}

/** An Events API v2 event; one incident per notification group (`dedup_key`); `summary`: the rendered template. */
export function pagerdutyEvent(routingKey: string, message: AlertMessage, summary = message.summary) {
  const event = {
    routing_key: routingKey,
    event_action: PAGERDUTY_ACTION[message.event],
    dedup_key: dedupKey(message.groupKey),
  };
  if (event.event_action !== 'trigger') return event;
  const [first] = message.alerts;
  const runbooks = [...new Set(message.alerts.map((a) => a.rule.runbookUrl).filter((url): url is string => Boolean(url)))];
  return {
    ...event,
    payload: {
      summary: truncate(summary, 1024),
      source: message.groupLabels.service ?? first.service,
      severity: PAGERDUTY_SEVERITY[worstSeverity(message.alerts.filter((a) => a.status !== 'RESOLVED'))] ?? 'error',
      component: message.groupLabels.metric ?? first.labels.metric,
      custom_details: {
        firing: message.alerts.filter((a) => a.status !== 'RESOLVED').length,
        alerts: message.alerts.slice(0, 20).map((a) => ({ rule: a.rule.name, service: a.service, value: a.value, status: a.status, labels: a.labels })),
      },
    },
    ...(runbooks.length ? { links: runbooks.slice(0, 5).map((href) => ({ href, text: 'Runbook' })) } : {}),
  };
}

/** What goes to a receiver: an HTTP body (JSON), or an e-mail. */
export type Payload =
  | { kind: 'SLACK' | 'WEBHOOK' | 'PAGERDUTY'; url: string; body: string }
  | { kind: 'EMAIL'; to: string; subject: string; text: string; html: string };

/**
 * The payload for one contact point, its text rendered from `template` (null: the channel's
 * default; see templates.ts for the escaping). The JSON bodies are built by JSON.stringify, so
 * a template can only ever fill a string in them.
 */
export function payloadFor(
  config: Pick<Config, 'pagerdutyEventsUrl'>, kind: ContactKind, settings: ContactSettings, message: AlertMessage, template: string | null,
  onTemplateFailure?: (error: Error) => void,
): Payload {
  const text = renderMessage(kind, template, message, onTemplateFailure);
  switch (kind) {
    case 'SLACK':
      return { kind, url: settings.url, body: JSON.stringify({ text }) };
    case 'WEBHOOK':
      return { kind, url: settings.url, body: JSON.stringify({ ...message, text }) };
    case 'PAGERDUTY':
      return { kind, url: config.pagerdutyEventsUrl, body: JSON.stringify(pagerdutyEvent(settings.routingKey, message, text)) };
    case 'EMAIL':
      return { kind, to: settings.to, subject: message.summary, text: `${messageText(message)}\n\n${JSON.stringify(message, null, 2)}\n`, html: text };
  }
}

export interface Senders {
  /**
   * Resolves with the receiver's answer; `id`: the notification's, for receivers to drop a
   * repeat; `template`: the contact point's (null: the default).
   */
  send(kind: ContactKind, settings: ContactSettings, message: AlertMessage, id?: string, template?: string | null): Promise<string>;
  close(): void;
}

export function createSenders(config: Config, onTemplateFailure?: (error: Error) => void): Senders {
  let mailer: Transporter | undefined;
  return {
    async send(kind, settings, message, id, template = null) {
      const payload = payloadFor(config, kind, settings, message, template, onTemplateFailure);
      switch (payload.kind) {
        case 'SLACK':
        case 'PAGERDUTY':
          return post(payload.url, payload.body);
        case 'WEBHOOK':
          // A replica that dies mid-request leaves the row to be sent again once its lease runs out:
          // the same X-Notification-Id tells the receiver it already has it.
          return post(payload.url, payload.body, {
            ...(id ? { 'x-notification-id': id } : {}),
            ...(settings.secret ? { 'x-signature-256': signature(payload.body, settings.secret) } : {}),
          });
        case 'EMAIL': {
          if (!config.smtpUrl) throw new DeliveryError('SMTP_URL is not set', true);
          mailer ??= nodemailer.createTransport({
            url: config.smtpUrl,
            connectionTimeout: SEND_TIMEOUT_MS,
            greetingTimeout: SEND_TIMEOUT_MS,
            socketTimeout: SEND_TIMEOUT_MS,
          });
          const info = await mailer.sendMail({
            from: config.alertEmailFrom, to: payload.to, subject: payload.subject, text: payload.text, html: payload.html,
          }).catch((error: Error & { responseCode?: number }) => {
            // 5xx SMTP replies are permanent (RFC 5321); anything else may pass later.
            throw new DeliveryError(error.message, (error.responseCode ?? 0) >= 500, undefined, error.message);
          });
          return truncate(info.response ?? 'accepted', MAX_ANSWER);
        }
      }
    },
    close() {
      mailer?.close();
    },
  };
}

/**
 * The channels a message goes out on: Slack incoming webhook, a generic webhook signed with
 * HMAC-SHA256, and e-mail over SMTP. Each send throws when the receiver did not take it.
 */
import { createHmac } from 'node:crypto';
import nodemailer, { type Transporter } from 'nodemailer';
import type { Config } from '../../app/config.js';
import type { AlertMessage } from './message.js';

export const CHANNELS = ['slack', 'webhook', 'email'] as const;
export type Channel = (typeof CHANNELS)[number];
const SEND_TIMEOUT_MS = 10_000;

/** The channels the settings turn on. */
export function configuredChannels(config: Config): Channel[] {
  const channels: Channel[] = [];
  if (config.slackWebhookUrl) channels.push('slack');
  if (config.alertWebhookUrl) channels.push('webhook');
  if (config.smtpUrl && config.alertEmailTo) channels.push('email');
  return channels;
}

/** `sha256=<hex>` of the exact body bytes, as GitHub-style receivers verify it. */
export function signature(body: string, secret: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

async function post(url: string, body: string, headers: Record<string, string> = {}): Promise<void> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body,
    signal: AbortSignal.timeout(SEND_TIMEOUT_MS),
  });
  await response.body?.cancel();
  if (!response.ok) throw new Error(`receiver answered HTTP ${response.status}`);
}

export interface Senders {
  send(channel: Channel, message: AlertMessage): Promise<void>;
  close(): void;
}

export function createSenders(config: Config): Senders {
  let mailer: Transporter | undefined;
  return {
    async send(channel, message) {
      if (channel === 'slack') {
        if (!config.slackWebhookUrl) throw new Error('SLACK_WEBHOOK_URL is not set');
        return post(config.slackWebhookUrl, JSON.stringify({ text: message.summary }));
      }
      if (channel === 'webhook') {
        if (!config.alertWebhookUrl) throw new Error('ALERT_WEBHOOK_URL is not set');
        const body = JSON.stringify(message);
        const headers: Record<string, string> = config.alertWebhookSecret
          ? { 'x-signature-256': signature(body, config.alertWebhookSecret) }
          : {};
        return post(config.alertWebhookUrl, body, headers);
      }
      if (!config.smtpUrl || !config.alertEmailTo) throw new Error('SMTP_URL and ALERT_EMAIL_TO are not set');
      mailer ??= nodemailer.createTransport({
        url: config.smtpUrl,
        connectionTimeout: SEND_TIMEOUT_MS,
        greetingTimeout: SEND_TIMEOUT_MS,
        socketTimeout: SEND_TIMEOUT_MS,
      });
      await mailer.sendMail({
        from: config.alertEmailFrom,
        to: config.alertEmailTo,
        subject: message.summary,
        text: `${message.summary}\n\n${JSON.stringify(message, null, 2)}\n`,
      });
    },
    close() {
      mailer?.close();
    },
  };
}

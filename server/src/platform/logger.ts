/** Structured JSON logs (pino). Secrets are redacted wherever they may appear. */
import { pino, type DestinationStream, type Logger } from 'pino';
import type { LogLevel } from '../config.js';

export type { Logger };

const SECRETS = [
  'password', 'token', 'authorization', 'cookie', 'secret', 'apiToken', 'sessionToken',
  // settings whose values carry credentials
  'databaseUrl', 'databaseDirectUrl', 'databaseReadUrl', 'redisUrl', 'smtpUrl', 'alertWebhookSecret', 'slackWebhookUrl', 'metricsToken', 'adminPassword',
];

/** Each secret name at the top level, one level down, and in request headers and variables. */
export const REDACTED_PATHS = [
  ...SECRETS.flatMap((name) => [name, `*.${name}`]),
  'req.headers.authorization', 'req.headers.cookie', '*.headers.authorization', '*.headers.cookie', 'variables.*.password',
];

export function createLogger(level: LogLevel, destination?: DestinationStream): Logger {
  const options = { level, base: undefined, redact: { paths: REDACTED_PATHS, censor: '[redacted]' } };
  return destination ? pino(options, destination) : pino(options);
}

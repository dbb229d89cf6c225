/**
 * Logs (pino): JSON lines, one per event, for machines; in a terminal (`LOG_FORMAT`, default
 * pretty when stdout is one) coloured lines with local times. Secrets are redacted wherever
 * they may appear.
 */
import { pino, type DestinationStream, type Logger } from 'pino';
import pinoPretty from 'pino-pretty';

export type { Logger };
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
/** json: one JSON object a line (for machines); pretty: for a person at a terminal */
export type LogFormat = 'json' | 'pretty';

const SECRETS = [
  'password', 'token', 'authorization', 'cookie', 'secret', 'apiToken', 'sessionToken',
  // settings whose values carry credentials
  'databaseUrl', 'databaseDirectUrl', 'databaseReadUrl', 'redis', 'smtpUrl', 'alertWebhookSecret', 'slackWebhookUrl', 'metricsToken', 'adminPassword',
];

/** Each secret name at the top level, one level down, and in request headers and variables. */
export const REDACTED_PATHS = [
  ...SECRETS.flatMap((name) => [name, `*.${name}`]),
  'req.headers.authorization', 'req.headers.cookie', '*.headers.authorization', '*.headers.cookie', 'variables.*.password',
];

/** `fields`: merged into every line (the active trace's ids when tracing is on). */
export function createLogger(level: LogLevel, destination?: DestinationStream, format: LogFormat = 'json', fields?: () => Record<string, string>): Logger {
  const options = { level, base: undefined, redact: { paths: REDACTED_PATHS, censor: '[redacted]' }, ...(fields ? { mixin: fields } : {}) };
  if (destination) return pino(options, destination);
  if (format === 'json') return pino(options);
  // In the process and synchronous, so the last lines before process.exit are not lost.
  return pino(options, pinoPretty({ colorize: true, singleLine: true, sync: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' }));
}

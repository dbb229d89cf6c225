/** Structured JSON logs (pino). Secrets are redacted wherever they may appear. */
import { pino, type Logger } from 'pino';
import type { LogLevel } from '../config.js';

export type { Logger };

export function createLogger(level: LogLevel): Logger {
  return pino({
    level,
    base: undefined,
    redact: {
      paths: ['password', '*.password', 'token', '*.token', 'authorization', '*.authorization', 'headers.authorization', 'variables.password', 'secret', '*.secret'],
      censor: '[redacted]',
    },
  });
}

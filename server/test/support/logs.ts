/** A logger whose JSON lines a test can read back, parsed. */
import { Writable } from 'node:stream';
import type { LogLevel } from '../../src/core/logger.js';
import { createLogger, type Logger } from '../../src/core/logger.js';

export interface CapturedLogs {
  logger: Logger;
  lines: Array<Record<string, any>>;
  /** lines at error level or above */
  errors(): Array<Record<string, any>>;
}

export function captureLogs(level: LogLevel = 'info'): CapturedLogs {
  const lines: Array<Record<string, any>> = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(line));
      done();
    },
  });
  return { logger: createLogger(level, sink), lines, errors: () => lines.filter((line) => line.level >= 50) };
}

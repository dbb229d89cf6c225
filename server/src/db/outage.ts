/**
 * The database being unreachable is one event, not one error per request: the first failure
 * that says so (see `isDatabaseUnavailable`) starts an outage, logged once and reported once;
 * a probe then asks the database every `probeIntervalMs` until it answers, which ends the
 * outage (logged too). Meanwhile requests answer 503 SERVICE_UNAVAILABLE and nothing else is
 * logged as an error. Listeners (`healthChanged`) hear both the start and the end.
 */
import { isDatabaseUnavailable } from '../core/errors.js';
import type { Logger } from '../core/logger.js';

export interface DatabaseOutage {
  /** true while the database is known to be unreachable */
  readonly down: boolean;
  /** Notes an error; true when it says the database is unreachable (the caller then logs nothing). */
  noted(error: unknown): boolean;
  /** Called with `true` when an outage starts and `false` when it ends; returns the unsubscribe. */
  onChange(listener: (down: boolean) => void): () => void;
  stop(): void;
}

export interface DatabaseOutageOptions {
  logger: Logger;
  /** resolves once the database answers (`select 1`) */
  probe(): Promise<unknown>;
  /** told about the start of each outage (error tracking) */
  report?(error: unknown): void;
  probeIntervalMs?: number;
}

export function watchDatabaseOutage(options: DatabaseOutageOptions): DatabaseOutage {
  const { logger, probeIntervalMs = 1_000 } = options;
  const listeners = new Set<(down: boolean) => void>();
  let since: number | null = null;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;

  const changed = (down: boolean) => {
    for (const listener of listeners) listener(down);
  };
  const probe = (): void => {
    timer = setTimeout(() => {
      options.probe().then(
        () => {
          if (since === null || stopped) return;
          logger.info({ downSeconds: Math.round((Date.now() - since) / 100) / 10 }, 'database reachable again');
          since = null;
          changed(false);
        },
        () => {
          if (!stopped) probe();
        },
      );
    }, probeIntervalMs);
    timer.unref();
  };

  return {
    get down() {
      return since !== null;
    },
    noted(error) {
      if (!isDatabaseUnavailable(error)) return false;
      if (since === null && !stopped) {
        since = Date.now();
        logger.error({ err: error }, 'database unavailable');
        options.report?.(error);
        changed(true);
        probe();
      }
      return true;
    },
    onChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}

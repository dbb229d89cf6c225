/**
 * Background work on a fixed period (sampler, alert evaluator, outbox delivery). A run
 * never overlaps the previous one, a failure is logged and the next run still happens, and
 * `stop()` waits for a run in flight so shutdown never closes the pool under it.
 */
import type { Logger } from './logger.js';

/** Where a failed run is told: the log, and the error reporter when there is one. */
export interface JobServices {
  logger: Logger;
  errors?: { report(error: unknown, tags: { operationName?: string }): void };
  /** notes (and logs once) a failure that says the database is unreachable */
  outage?: { noted(error: unknown): boolean };
}

export interface Repeating {
  /** runs the task now (still never overlapping), e.g. right after new work was queued */
  poke(): void;
  stop(): Promise<void>;
}

export function repeat(name: string, periodMs: number, task: () => Promise<void>, services: JobServices): Repeating {
  let stopped = false;
  let running: Promise<void> | null = null;
  let again = false;
  let timer: NodeJS.Timeout | undefined;

  const run = (): void => {
    clearTimeout(timer);
    if (stopped) return;
    if (running) {
      again = true;
      return;
    }
    running = task()
      .catch((error) => {
        if (services.outage?.noted(error)) return;
        services.logger.error({ err: error, job: name }, 'background job failed');
        services.errors?.report(error, { operationName: `job:${name}` });
      })
      .finally(() => {
        running = null;
        if (stopped) return;
        if (again) {
          again = false;
          setImmediate(run);
        } else {
          timer = setTimeout(run, periodMs);
        }
      });
  };
  timer = setTimeout(run, periodMs);

  return {
    poke: run,
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}

/**
 * The replica's own request timings between two sampler ticks: request rate, p95 and error
 * rate come from here. Durations are kept in a bounded reservoir, so a flood of requests
 * costs constant memory while the p95 stays a fair estimate.
 */
const RESERVOIR_SIZE = 20_000;

export interface RequestWindow {
  requests: number;
  failed: number;
  seconds: number;
  p95Ms: number;
}

export interface RequestStats {
  /** one finished request; `failed` when the server, not the client, was at fault */
  observe(durationMs: number, failed: boolean): void;
  /** the window since the last call, which starts a new one */
  take(): RequestWindow;
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)];
}

export function createRequestStats(now = () => performance.now()): RequestStats {
  let startedAt = now();
  let requests = 0;
  let failed = 0;
  let durations: number[] = [];
  return {
    observe(durationMs, isFailure) {
      requests++;
      if (isFailure) failed++;
      if (durations.length < RESERVOIR_SIZE) durations.push(durationMs);
      else {
        const slot = Math.floor(Math.random() * requests);
        if (slot < RESERVOIR_SIZE) durations[slot] = durationMs;
      }
    },
    take() {
      const ended = now();
      const window = {
        requests,
        failed,
        seconds: Math.max(0.001, (ended - startedAt) / 1000),
        p95Ms: percentile(durations.sort((a, b) => a - b), 0.95),
      };
      startedAt = ended;
      requests = 0;
      failed = 0;
      durations = [];
      return window;
    },
  };
}

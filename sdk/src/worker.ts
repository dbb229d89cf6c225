/**
 * createWorker: claims tasks of some queues for a handler, up to `concurrency` at once, keeps
 * their leases alive, and reports how each attempt ended. It wakes on `taskQueueChanged` over
 * one WebSocket (no polling while that is up; a slow poll over HTTP only while it is down), and
 * tells the handler through an AbortSignal when its task was cancelled (at once, over
 * `taskCancelled` on the same WebSocket; a heartbeat answering CANCELLED otherwise) or its lease lost.
 */
import { hostname } from 'node:os';
import type { Client } from 'graphql-ws';
import {
  WorkerClaimTasksDocument,
  WorkerCompleteAndClaimTasksDocument,
  WorkerHeartbeatTaskDocument,
  WorkerTaskCancelledDocument,
  WorkerTaskQueueChangedDocument,
  type ClaimedTaskFragment,
} from './generated/graphql.js';
import { refusedCredential, request, subscribe, webSocketClient, webSocketUrl, WorkflowFactoryError, type Connection, } from './transport.js';
import { attemptSpan, loadOpenTelemetry, type AttemptSpan } from './tracing.js';

/** A claimed attempt, as the handler gets it. */
export interface Task {
  id: string;
  name: string;
  queue: string;
  /** this attempt's number (1 for the first): what heartbeats, completions and failures name */
  attempt: number;
  maxAttempts: number;
  priority: number;
  timeoutSeconds: number | null;
  heartbeatTimeoutSeconds: number;
  leaseExpiresAt: string | null;
  workflow: { id: string; name: string };
  /** the outputs of the tasks this one depends on, by task name */
  input: Record<string, unknown>;
  /** the W3C traceparent of the server operation that readied the task (null when it was not traced) */
  traceparent: string | null;
}

export interface TaskContext {
  /** aborts when the task was cancelled, its lease was lost, or the worker stopped past its grace period */
  signal: AbortSignal;
  /** Sends a heartbeat now, recording `details` (kept for the next heartbeats too); never throws. */
  heartbeat(details?: unknown): Promise<void>;
  /**
   * The trace the handler continues: with OpenTelemetry registered, the attempt's span (the
   * handler runs inside it, so instrumented calls continue it on their own); else the task's
   * `traceparent`; null when untraced. For a `traceparent` header sent by hand.
   */
  traceparent: string | null;
}

/** Returns the task's output (any JSON value), or throws: the error's message and name become failTask's error and errorType. */
export type Handler = (task: Task, context: TaskContext) => unknown;

/** Why a handler's signal aborted: `signal.reason` is one of these. */
export class TaskAbortedError extends Error {
  override name = 'TaskAbortedError';
  constructor(readonly reason: 'cancelled' | 'lease lost' | 'stopping', message: string) {
    super(message);
  }
}

export interface WorkerEvents {
  connected(): void;
  disconnected(error?: unknown): void;
  claimed(task: Task): void;
  completed(task: Task, output: unknown): void;
  failed(task: Task, error: Error): void;
  /** the handler's signal fired; nothing is reported for this attempt */
  aborted(task: Task, reason: TaskAbortedError): void;
  /** something went wrong that the worker works around (a network error, a refused report) */
  error(error: unknown): void;
}

export interface WorkerOptions extends Connection {
  /** queues to claim from (claimTask(queues:)); empty: any queue the token may see */
  queues: string[];
  handler: Handler;
  /** tasks held at once; default 1 */
  concurrency?: number;
  /** stored on each attempt (Task.workerId); default host:pid */
  workerId?: string;
  /** while the WebSocket is down, how often to look for work over HTTP; default 30 s */
  pollIntervalMs?: number;
  /** how long stop() waits for held tasks before aborting them; default 30 s */
  graceMs?: number;
  /** reconnect backoff: first wait and cap; default 500 ms and 30 s */
  reconnectMinMs?: number;
  reconnectMaxMs?: number;
  /** stop() on SIGTERM and SIGINT, then re-raise the signal; default true */
  handleSignals?: boolean;
  on?: Partial<WorkerEvents>;
}

export interface Worker {
  /** Connects and starts claiming; resolves once the first connection attempt is over. */
  start(): Promise<void>;
  /** Claims nothing new, waits up to `graceMs` for what it holds, then aborts the rest. */
  stop(options?: { graceMs?: number }): Promise<void>;
  /** resolves once stopped; rejects when the server refused the token or the claim itself (FORBIDDEN, BAD_USER_INPUT: the worker then stops) */
  readonly done: Promise<void>;
  /** tasks held now */
  readonly held: number;
  /** whether the WebSocket (and so the wake-up) is up */
  readonly connected: boolean;
  readonly workerId: string;
}

interface Held {
  task: Task;
  controller: AbortController;
  details: unknown;
  timer: NodeJS.Timeout;
  /** the heartbeat in flight, if any */
  beat: Promise<void> | null;
  settled: Promise<void>;
  /** the attempt's span: the handler runs in it, the worker's reports name it */
  span: AttemptSpan;
}

let workers = 0;

/** Tasks one request claims, and completions one request reports, at most (the server's limit). */
const MAX_BATCH = 100;

export function createWorker(options: WorkerOptions): Worker {
  const { url, token, handler, pollIntervalMs = 30_000, reconnectMinMs = 500, reconnectMaxMs = 30_000, handleSignals = true, on = {} } = options;
  const queues = [...options.queues];
  const concurrency = options.concurrency ?? 1;
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new RangeError('concurrency must be a whole number of 1 or more');
  if (typeof handler !== 'function') throw new TypeError('handler must be a function');
  webSocketUrl(url); // a bad url fails here, not at the first connection
  const connection: Connection = { url, token };
  const workerId = options.workerId ?? `${hostname()}:${process.pid}${++workers > 1 ? `:${workers}` : ''}`;
  const held = new Map<string, Held>();
  const claimArgs = { queues: queues.length ? queues : null, workerId };
  const emit = <K extends keyof WorkerEvents>(event: K, ...args: Parameters<WorkerEvents[K]>) => {
    try {
      (on[event] as ((...a: unknown[]) => void) | undefined)?.(...args);
    } catch {
      // A listener's failure is not the worker's.
    }
  };

  let started = false;
  let stopping = false;
  let stopped: Promise<void> | null = null;
  let connected = false;
  /** aborts requests and waits still running when the worker stops for good */
  const halt = new AbortController();
  let socket: Client | null = null;
  let unsubscribe: (() => void) | null = null;
  let pollTimer: NodeJS.Timeout | undefined;
  let retryTimer: NodeJS.Timeout | undefined;
  let claimFailures = 0;
  let resolveDone!: () => void;
  let rejectDone!: (error: unknown) => void;
  const done = new Promise<void>((resolve, reject) => {
    resolveDone = resolve;
    rejectDone = reject;
  });
  done.catch(() => {});
  let fatal: unknown = null;

  const backoff = (failures: number, atLeastMs = 0) =>
    Math.max(atLeastMs, Math.min(reconnectMaxMs, reconnectMinMs * 2 ** Math.min(failures, 20)) * (0.5 + Math.random() / 2));
  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const wake = () => (clearTimeout(timer), halt.signal.removeEventListener('abort', wake), resolve());
      const timer = setTimeout(wake, ms);
      halt.signal.addEventListener('abort', wake, { once: true });
    });

  const refuse = (error: unknown) => {
    // Nothing will work until someone changes the worker's token or options.
    fatal = error;
    emit('error', error);
    void stop();
  };

  // --- claiming -------------------------------------------------------------------------------

  let filling: Promise<void> | null = null;
  let again = false;

  /** Claims until `concurrency` tasks are held or none is ready; one round at a time. */
  const fill = (): void => {
    if (stopping || !started) return;
    if (filling) {
      again = true;
      return;
    }
    filling = (async () => {
      do {
        again = false;
        await claimWhileRoom();
      } while (again && !stopping);
    })().finally(() => (filling = null));
  };

  /** Slots asked for by claims in flight (fill's, or a completion batch's): not held yet, not free either. */
  let reserved = 0;
  const room = () => concurrency - held.size - reserved;

  const claimWhileRoom = async () => {
    while (!stopping && room() > 0) {
      const limit = Math.min(room(), MAX_BATCH);
      let claimed: ClaimedTaskFragment[];
      reserved += limit;
      try {
        claimed = (await request(connection, WorkerClaimTasksDocument, { limit, ...claimArgs }, halt.signal)).claimTasks;
        claimFailures = 0;
      } catch (error) {
        if (stopping) return;
        // Refused for good (the token, a VIEWER's token, a malformed queue name): retrying cannot help.
        if (error instanceof WorkflowFactoryError && !error.transient) return refuse(error);
        emit('error', error);
        // Not a poll: one retry after a failed claim, later each time it fails again.
        const retryAfterMs = error instanceof WorkflowFactoryError ? (error.retryAfterSeconds ?? 0) * 1000 : 0;
        clearTimeout(retryTimer);
        retryTimer = setTimeout(fill, backoff(++claimFailures, retryAfterMs));
        return;
      } finally {
        reserved -= limit;
      }
      for (const task of claimed) begin(toTask(task));
      if (claimed.length < limit) return;
    }
  };

  const toTask = (claimed: ClaimedTaskFragment): Task => ({
    id: claimed.id,
    name: claimed.name,
    queue: claimed.queue,
    attempt: claimed.attempts,
    maxAttempts: claimed.maxAttempts,
    priority: claimed.priority,
    timeoutSeconds: claimed.timeoutSeconds,
    heartbeatTimeoutSeconds: claimed.heartbeatTimeoutSeconds,
    leaseExpiresAt: claimed.leaseExpiresAt,
    workflow: claimed.workflow,
    input: Object.fromEntries(claimed.dependsOn.map((dependency) => [dependency.name, dependency.output])),
    traceparent: claimed.traceparent ?? null,
  });

  // --- one held task --------------------------------------------------------------------------

  const begin = (task: Task) => {
    const controller = new AbortController();
    const span = attemptSpan(task, workerId);
    const entry = { task, controller, details: null, beat: null, span } as unknown as Held;
    // A third of the timeout: two heartbeats may go missing before the lease lapses.
    entry.timer = setInterval(() => void heartbeat(entry), Math.max(100, (task.heartbeatTimeoutSeconds * 1000) / 3));
    held.set(task.id, entry);
    emit('claimed', task);
    const context: TaskContext = {
      signal: controller.signal,
      heartbeat: async (details) => {
        if (details !== undefined) entry.details = details;
        await entry.beat;
        await heartbeat(entry);
      },
      traceparent: span.traceparent,
    };
    let failure: Error | undefined;
    entry.settled = Promise.resolve()
      .then(() => span.run(() => handler(task, context)))
      .then(
        (output) => report(entry, { output }),
        (error) => report(entry, { error: (failure = error instanceof Error ? error : new Error(String(error))) }),
      )
      .catch((error) => emit('error', error))
      .then(() => {
        span.end(failure ?? (controller.signal.aborted ? (controller.signal.reason as Error) : undefined));
        release(entry);
      });
  };

  /** The attempt's requests continue its trace: the server's spans of them are children of the worker's. */
  const traceHeaders = (entry: Held) => (entry.span.traceparent ? { traceparent: entry.span.traceparent } : undefined);

  const abort = (entry: Held, reason: TaskAbortedError) => {
    if (entry.controller.signal.aborted) return;
    clearInterval(entry.timer);
    entry.controller.abort(reason);
    // Over for this worker (a handler past its grace period may never return).
    entry.span.end(reason);
    emit('aborted', entry.task, reason);
  };

  const heartbeat = (entry: Held): Promise<void> => {
    if (entry.beat || entry.controller.signal.aborted) return entry.beat ?? Promise.resolve();
    const { task } = entry;
    entry.beat = request(connection, WorkerHeartbeatTaskDocument, { id: task.id, attempt: task.attempt, details: entry.details ?? null }, halt.signal, traceHeaders(entry))
      .then(({ heartbeatTask }) => {
        if (heartbeatTask.status === 'CANCELLED') abort(entry, new TaskAbortedError('cancelled', `task "${task.name}" was cancelled`));
        if (heartbeatTask.leaseExpiresAt) task.leaseExpiresAt = heartbeatTask.leaseExpiresAt;
      })
      .catch((error) => {
        if (error instanceof WorkflowFactoryError && (error.code === 'CONFLICT' || error.code === 'NOT_FOUND')) {
          abort(entry, new TaskAbortedError('lease lost', `lease lost on task "${task.name}" attempt ${task.attempt}: ${error.message}`));
        } else if (!halt.signal.aborted) emit('error', error);
        // Anything else (the server away for a moment): the next heartbeat tries again.
      })
      .finally(() => (entry.beat = null));
    return entry.beat;
  };

  /**
   * Reports the handler's outcome in the next report batch (completeAndClaimTasks): every
   * attempt that finished, completed or failed, while the previous batch was on its way goes in
   * one request, which also claims tasks for the slots they free (none once stopping). Tried
   * again while the server is unreachable.
   */
  const report = async (entry: Held, outcome: { output?: unknown; error?: Error }): Promise<void> => {
    let { output, error } = outcome;
    if (!error) {
      try {
        output = output === undefined ? null : JSON.parse(JSON.stringify(output));
      } catch (cause) {
        error = Object.assign(new Error(`the handler's output is not JSON: ${(cause as Error).message}`), { name: 'InvalidOutput' });
      }
    }
    let refusal = await send(entry, error ? { error } : { output });
    // The server refused the output (too large): the attempt fails saying why.
    if (refusal && !error) refusal = await send(entry, { error: Object.assign(new Error(`output refused: ${refusal.message}`), { name: 'InvalidOutput' }) });
    if (refusal) emit('error', refusal);
  };

  /** Queues one report for the next batch; resolves once it was sent, with the server's BAD_USER_INPUT refusal of it, if any. */
  const send = (entry: Held, outcome: { output?: unknown; error?: Error }) =>
    new Promise<WorkflowFactoryError | null>((settle) => {
      reporting.push({ entry, ...outcome, settle });
      flush();
    });

  const leaseLost = (entry: Held, refused: { message: string }) =>
    abort(entry, new TaskAbortedError('lease lost', `task "${entry.task.name}" attempt ${entry.task.attempt} could not be reported: ${refused.message}`));

  /** Reports waiting for the next batch. */
  const reporting: Array<{ entry: Held; output?: unknown; error?: Error; settle(refusal: WorkflowFactoryError | null): void }> = [];
  let flushing: Promise<void> | null = null;

  const flush = () => {
    if (flushing) return;
    flushing = (async () => {
      while (reporting.length) await sendReports(reporting.splice(0, MAX_BATCH));
    })().finally(() => (flushing = null));
  };

  const sendReports = async (batch: typeof reporting): Promise<void> => {
    for (let failures = 0; ; failures++) {
      // An attempt aborted meanwhile (cancelled, lease lost) is not reported.
      batch = batch.filter(({ entry, settle }) => !entry.controller.signal.aborted || (settle(null), false));
      if (!batch.length) return;
      if (halt.signal.aborted) return batch.forEach(({ settle }) => settle(null));
      // The slots these reports free, less what other claims in flight asked for.
      const claim = stopping ? 0 : Math.max(0, Math.min(MAX_BATCH, concurrency - (held.size - batch.length) - reserved));
      const attempt = ({ entry }: (typeof batch)[number]) => ({ id: entry.task.id, attempt: entry.task.attempt });
      reserved += claim;
      let answer;
      try {
        answer = (await request(connection, WorkerCompleteAndClaimTasksDocument, {
          completions: batch.filter((report) => !report.error).map((report) => ({ ...attempt(report), output: report.output })),
          failures: batch.filter((report) => report.error).map((report) => ({
            ...attempt(report),
            error: report.error!.message || report.error!.name || 'failed',
            errorType: report.error!.name,
          })),
          claim,
          ...claimArgs,
          // One request for several attempts continues the trace of the first.
        }, halt.signal, traceHeaders(batch[0].entry))).completeAndClaimTasks;
      } catch (error) {
        if (halt.signal.aborted) return batch.forEach(({ settle }) => settle(null));
        emit('error', error);
        if (!(error instanceof WorkflowFactoryError) || !error.transient) return batch.forEach(({ settle }) => settle(null));
        await sleep(backoff(failures, (error.retryAfterSeconds ?? 0) * 1000));
        continue;
      } finally {
        reserved -= claim;
      }
      const refused = new Map(answer.refused.map((refusal) => [refusal.taskId, refusal]));
      for (const { entry, output, error, settle } of batch) {
        const refusal = refused.get(entry.task.id);
        if (refusal?.code === 'BAD_USER_INPUT') settle(new WorkflowFactoryError(refusal.message, refusal.code));
        else {
          if (refusal) leaseLost(entry, refusal);
          else if (error) emit('failed', entry.task, error);
          else emit('completed', entry.task, output);
          settle(null);
        }
      }
      handedOver.push(...answer.next.map(toTask));
      return;
    }
  };

  /** Tasks a completion batch claimed: each takes a slot its batch freed. */
  const handedOver: Task[] = [];

  /** The slot of a finished task goes to a task a completion batch claimed, if any, else to the next claim. */
  const release = (entry: Held) => {
    clearInterval(entry.timer);
    held.delete(entry.task.id);
    while (handedOver.length && held.size < concurrency) begin(handedOver.shift()!);
    fill();
  };

  // --- waking up --------------------------------------------------------------------------------

  const poll = (on: boolean) => {
    clearInterval(pollTimer);
    pollTimer = on && !stopping ? setInterval(fill, pollIntervalMs) : undefined;
  };

  let resubscribeTimer: NodeJS.Timeout | undefined;

  const listen = () => {
    // One subscription holds the socket (graphql-ws connects lazily for it and keeps it while it runs).
    const client = webSocketClient(connection, {
      retryAttempts: Infinity,
      shouldRetry: (error) => !refusedCredential(error),
      retryWait: (retries) => sleep(backoff(retries)),
      keepAlive: 10_000,
      on: {
        connected: () => {
          connected = true;
          poll(false);
          emit('connected');
          fill();
        },
        closed: (event) => {
          if (connected) emit('disconnected', event);
          connected = false;
          poll(true);
        },
      },
    });
    socket = client;
    // A cancellation reaches the handler's signal as it happens; the heartbeat's CANCELLED stays the fallback.
    const unsubscribeCancelled = subscribe(client, WorkerTaskCancelledDocument, { workerId }, {
      next: ({ taskCancelled }) => {
        const entry = held.get(taskCancelled.taskId);
        if (!entry || entry.task.attempt !== taskCancelled.attempt) return;
        if (taskCancelled.reason === 'CANCELLED') abort(entry, new TaskAbortedError('cancelled', `task "${entry.task.name}" was cancelled`));
        else abort(entry, new TaskAbortedError('lease lost', `the server ended attempt ${entry.task.attempt} of task "${entry.task.name}" as ${taskCancelled.reason}`));
      },
      error: (error) => {
        if (!stopping) emit('error', error);
      },
    });
    const unsubscribeQueues = subscribe(client, WorkerTaskQueueChangedDocument, { queues: queues.length ? queues : null }, {
      next: ({ taskQueueChanged }) => {
        if (taskQueueChanged.ready > 0) fill();
      },
      error: (error) => {
        if (stopping) return;
        if (error instanceof WorkflowFactoryError && error.code === 'UNAUTHENTICATED') return refuse(error);
        // The server refused the wake-up (an older server?): look for work now and then instead,
        // and ask again after a while.
        emit('error', error);
        poll(true);
        void client.dispose();
        clearTimeout(resubscribeTimer);
        resubscribeTimer = setTimeout(listen, pollIntervalMs);
      },
    });
    unsubscribe = () => (unsubscribeCancelled(), unsubscribeQueues());
  };

  // --- starting and stopping ----------------------------------------------------------------

  const onSignal = (signal: NodeJS.Signals) => {
    void stop().then(() => {
      // Re-raised once nobody else listens: the process ends as the signal meant it to.
      if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
    });
  };

  const start = async () => {
    if (started) return;
    started = true;
    // Before the first claim: each attempt's span needs to know whether OpenTelemetry is there.
    await loadOpenTelemetry();
    if (handleSignals) {
      process.once('SIGTERM', onSignal);
      process.once('SIGINT', onSignal);
    }
    listen();
    poll(true);
    // Resolves on the first connection or its first failure, whichever comes first.
    const client = socket!;
    await new Promise<void>((resolve) => {
      const offConnected = client.on('connected', () => (offConnected(), offClosed(), resolve()));
      const offClosed = client.on('closed', () => (offConnected(), offClosed(), resolve()));
    });
    fill();
  };

  const stop = (stopOptions: { graceMs?: number } = {}): Promise<void> => {
    if (stopped) return stopped;
    stopping = true;
    const graceMs = stopOptions.graceMs ?? options.graceMs ?? 30_000;
    stopped = (async () => {
      poll(false);
      clearTimeout(retryTimer);
      clearTimeout(resubscribeTimer);
      process.removeListener('SIGTERM', onSignal);
      process.removeListener('SIGINT', onSignal);
      unsubscribe?.();
      await filling;
      let graceTimer: NodeJS.Timeout | undefined;
      const grace = new Promise((resolve) => (graceTimer = setTimeout(resolve, graceMs)));
      let graceOver = false;
      void grace.then(() => (graceOver = true));
      // Again while tasks remain: a completion sent before stop() may still hand over a next task.
      while (held.size && !graceOver) await Promise.race([Promise.all([...held.values()].map((entry) => entry.settled)), grace]);
      clearTimeout(graceTimer);
      for (const entry of held.values()) {
        // Past the grace period: the handler is told to stop; the server returns the attempt once its lease lapses.
        abort(entry, new TaskAbortedError('stopping', `worker ${workerId} stopped before task "${entry.task.name}" finished`));
        clearInterval(entry.timer);
      }
      held.clear();
      halt.abort();
      await socket?.dispose();
      connected = false;
      if (fatal) rejectDone(fatal);
      else resolveDone();
    })();
    return stopped;
  };

  return {
    start,
    stop,
    done,
    workerId,
    get held() {
      return held.size;
    },
    get connected() {
      return connected;
    },
  };
}

/**
 * The backlog of task queues: `taskQueues`, `taskQueueChanged` and the workflow_tasks_* gauges.
 *
 * A queue's backlog counts the tasks of one queue that are
 * - ready: READY and claimable now (`ready_at <= now()`, exactly what claimTask takes);
 * - delayed: READY but backing off after a failed attempt (`ready_at`, = `nextAttemptAt`, ahead);
 * - running: RUNNING (claimed, not finished);
 * and the age of its oldest ready task. PENDING tasks (waiting for their dependencies) are not
 * backlog yet. A member counts the tasks of its own workflows (what its claims can take), others
 * every task. One statement per read, an index-only scan of tasks_backlog_idx.
 *
 * Live: per replica and scope (every workflow, or one member's), one watch follows the
 * workflow events (the event log, so every replica hears every change) and notes the queues
 * whose tasks changed. It then reads their backlog once for all its subscribers — at once when
 * it was idle, then at most once per RECOMPUTE_SPACING_MS while changes keep coming — and hands
 * the same TaskQueue objects to each subscriber that asked for the queue (so equal subscriptions
 * also share one execution). A queue whose delayed tasks become claimable is read again then:
 * no event says so, time does.
 */
import type { AppServices, Context } from '../app/context.js';
import { AsyncQueue } from '../core/async-queue.js';
import { requireViewer } from '../core/viewer.js';
import { textArray } from '../db/sql.js';
import type { Queryable } from '../db/read-routing.js';
import type { StoredEvent } from '../live/event-log.js';
import { WorkflowEventKind } from './events.js';
import { TaskQueue } from './queue-types.js';
import { validQueues } from './validation.js';
import { workflowScope } from './visibility.js';

/** Queues `taskQueues` lists at most (by name); a deployment with more sees the first ones. */
export const MAX_TASK_QUEUES = 1_000;
/** Least time between two reads of one scope's backlog on one replica while changes keep coming. */
export const RECOMPUTE_SPACING_MS = 100;
/** A watch whose read failed tries again after this. */
const RETRY_MS = 1_000;
/** Backlog changes held for a subscriber that does not keep up; the oldest go first. */
const SUBSCRIBER_BUFFER = 1_000;

const READY = `t.status = 'READY' and t.ready_at <= now()`;
const DELAYED = `t.status = 'READY' and t.ready_at > now()`;

/**
 * The backlog of `queues` (every queue with READY or RUNNING tasks when null), of `ownerId`'s
 * workflows when given, by queue name; queues with no such task have no row.
 */
export function backlogStatement(queues: readonly string[] | null, ownerId: string | null, limit: number): { sql: string; params: unknown[] } {
  const params: unknown[] = [];
  const where = [`t.status in ('READY', 'RUNNING')`];
  if (queues) {
    where.push('t.queue = any(?::text[])');
    params.push(textArray(queues));
  }
  if (ownerId) {
    where.push('w.owner_id = ?');
    params.push(ownerId);
  }
  params.push(limit);
  const sql = `select t.queue as name,
      count(*) filter (where ${READY})::int as ready,
      count(*) filter (where t.status = 'RUNNING')::int as running,
      count(*) filter (where ${DELAYED})::int as delayed,
      extract(epoch from now() - min(t.ready_at) filter (where ${READY}))::float8 as oldest_ready_age_seconds,
      extract(epoch from min(t.ready_at) filter (where ${DELAYED}) - now())::float8 as next_ready_in_seconds
    from tasks t ${ownerId ? 'join workflows w on w.id = t.workflow_id' : ''}
    where ${where.join(' and ')}
    group by t.queue order by t.queue limit ?`;
  return { sql, params };
}

function queueOf(fields: Omit<TaskQueue, never>): TaskQueue {
  return Object.setPrototypeOf(fields, TaskQueue.prototype) as TaskQueue;
}

const idleQueue = (name: string): TaskQueue => queueOf({ name, ready: 0, running: 0, delayed: 0, oldestReadyAgeSeconds: null, nextReadyInSeconds: null });

export async function readBacklog(db: Queryable, queues: readonly string[] | null, ownerId: string | null, limit = MAX_TASK_QUEUES): Promise<TaskQueue[]> {
  const { sql, params } = backlogStatement(queues, ownerId, limit);
  const rows = await db.execute(sql, params);
  return rows.map((row) => queueOf({
    name: row.name,
    ready: row.ready,
    running: row.running,
    delayed: row.delayed,
    oldestReadyAgeSeconds: row.oldest_ready_age_seconds === null ? null : Math.max(0, Number(row.oldest_ready_age_seconds)),
    nextReadyInSeconds: row.next_ready_in_seconds === null ? null : Number(row.next_ready_in_seconds),
  }));
}

/** `taskQueues`: every queue with READY or RUNNING tasks the viewer may see, by name. */
export function taskQueues(ctx: Context): Promise<TaskQueue[]> {
  const viewer = requireViewer(ctx.viewer);
  return readBacklog(ctx.read, null, workflowScope(viewer));
}

interface Subscriber {
  /** null: every queue */
  wanted: Set<string> | null;
  queue: AsyncQueue<TaskQueue>;
  /** the watch's read count when it joined: only reads started later are handed to it */
  since: number;
  /** what reads handed over before its first backlog was pushed; null once it was */
  held: TaskQueue[] | null;
}

/** The watches of one replica, by scope ('' for every workflow, else the member's id). */
interface Watches {
  app: Pick<AppServices, 'orm' | 'feed' | 'logger'>;
  db: Queryable;
  byScope: Map<string, ScopeWatch>;
  /** backlog reads made for subscribers (not the first one of each), for /api/metrics */
  recomputes: number;
}

class ScopeWatch {
  readonly subscribers = new Set<Subscriber>();
  readonly started: Promise<void>;
  private stream: AsyncIterableIterator<StoredEvent> | null = null;
  private ended = false;
  private dirty = new Set<string>();
  /** a change whose queue is unknown: read every queue */
  private everything = false;
  private timer: NodeJS.Timeout | null = null;
  private reading = false;
  private lastRead = 0;
  reads = 0;
  /** when each queue's first delayed task becomes claimable (ms since the epoch) */
  private readonly nextReady = new Map<string, number>();
  private wake: NodeJS.Timeout | null = null;

  constructor(
    private readonly watches: Watches,
    private readonly scope: string,
    readonly ownerId: string | null,
  ) {
    this.started = watches.app.feed.follow('workflow', { filter: { ownerId } }).then(
      (stream) => {
        this.stream = stream;
        if (this.ended) void stream.return?.();
        else void this.consume(stream);
      },
      (error) => {
        this.end();
        throw error;
      },
    );
  }

  private async consume(stream: AsyncIterableIterator<StoredEvent>): Promise<void> {
    try {
      for await (const event of stream) this.noted(event);
    } catch (error) {
      this.watches.app.logger.warn({ err: error }, 'task queue watch lost its event stream');
    } finally {
      this.end();
    }
  }

  /** Which queues an event changed: a task's (TASK_UPDATED), a deleted workflow's open ones. */
  private noted(event: StoredEvent): void {
    const payload = event.payload as { queue?: string; queues?: string[] };
    if (event.kind === WorkflowEventKind.TASK_UPDATED) {
      if (typeof payload.queue === 'string') this.mark(payload.queue);
      else this.markEverything();
    } else if (event.kind === WorkflowEventKind.DELETED) {
      if (Array.isArray(payload.queues)) payload.queues.forEach((queue) => this.mark(queue));
      else this.markEverything();
    }
  }

  private wants(queue: string): boolean {
    for (const subscriber of this.subscribers) if (!subscriber.wanted || subscriber.wanted.has(queue)) return true;
    return false;
  }

  private mark(queue: string): void {
    if (!this.wants(queue)) return;
    this.dirty.add(queue);
    this.schedule();
  }

  private markEverything(): void {
    this.everything = true;
    this.schedule();
  }

  private schedule(): void {
    if (this.timer || this.reading || this.ended) return;
    const wait = Math.max(0, this.lastRead + RECOMPUTE_SPACING_MS - Date.now());
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.read();
    }, wait);
  }

  private async read(): Promise<void> {
    if (this.ended || (!this.dirty.size && !this.everything)) return;
    const names = [...this.dirty];
    const everything = this.everything;
    this.dirty = new Set();
    this.everything = false;
    this.reading = true;
    this.lastRead = Date.now();
    const read = ++this.reads;
    try {
      const rows = await readBacklog(this.watches.db, everything ? null : names, this.ownerId, everything ? MAX_TASK_QUEUES : names.length);
      this.watches.recomputes++;
      const byName = new Map(rows.map((row) => [row.name, row]));
      const changed = [...new Set([...names, ...byName.keys()])].map((name) => byName.get(name) ?? idleQueue(name));
      for (const queue of changed) this.noteNextReady(queue);
      this.armWake();
      for (const subscriber of this.subscribers) {
        if (subscriber.since >= read) continue;
        for (const queue of changed) if (!subscriber.wanted || subscriber.wanted.has(queue.name)) this.hand(subscriber, queue);
      }
    } catch (error) {
      this.watches.app.logger.warn({ err: error }, 'could not read the task queue backlog; retrying');
      names.forEach((name) => this.dirty.add(name));
      this.everything ||= everything;
      this.lastRead = Date.now() + RETRY_MS;
    } finally {
      this.reading = false;
      if (this.dirty.size || this.everything) this.schedule();
    }
  }

  private hand(subscriber: Subscriber, queue: TaskQueue): void {
    if (subscriber.held) subscriber.held.push(queue);
    else subscriber.queue.push(queue);
  }

  private noteNextReady(queue: TaskQueue): void {
    if (queue.nextReadyInSeconds === null) this.nextReady.delete(queue.name);
    else this.nextReady.set(queue.name, Date.now() + queue.nextReadyInSeconds * 1000);
  }

  /** One timer, for the earliest delayed task: its queue changes when it becomes claimable. */
  private armWake(): void {
    if (this.wake) clearTimeout(this.wake);
    this.wake = null;
    if (!this.nextReady.size || this.ended) return;
    const earliest = Math.min(...this.nextReady.values());
    // A few ms late rather than early: the database's clock decides, and early would read it still delayed.
    this.wake = setTimeout(() => {
      this.wake = null;
      const now = Date.now();
      for (const [queue, at] of this.nextReady) {
        if (at > now + 5) continue;
        this.nextReady.delete(queue);
        this.mark(queue);
      }
      this.armWake();
    }, Math.max(0, earliest - Date.now()) + 10);
    this.wake.unref();
  }

  join(subscriber: Omit<Subscriber, 'since' | 'held'>): Subscriber {
    const joined = { ...subscriber, since: this.reads, held: [] };
    this.subscribers.add(joined);
    return joined;
  }

  /** The subscriber's first backlog, then what reads handed over meanwhile (newer). */
  begin(subscriber: Subscriber, first: TaskQueue[]): void {
    for (const queue of [...first, ...(subscriber.held ?? [])]) subscriber.queue.push(queue);
    subscriber.held = null;
  }

  leave(subscriber: Subscriber): void {
    this.subscribers.delete(subscriber);
    if (!this.subscribers.size) this.end();
  }

  /** Stops following (last subscriber gone, or the feed ended): what is still subscribed completes. */
  private end(): void {
    if (this.ended) return;
    this.ended = true;
    if (this.watches.byScope.get(this.scope) === this) this.watches.byScope.delete(this.scope);
    if (this.timer) clearTimeout(this.timer);
    if (this.wake) clearTimeout(this.wake);
    void this.stream?.return?.();
    for (const subscriber of [...this.subscribers]) subscriber.queue.close();
  }
}

const watchesOf = new WeakMap<object, Watches>();

function watches(app: Pick<AppServices, 'orm' | 'feed' | 'logger'>): Watches {
  let known = watchesOf.get(app);
  if (!known) {
    // The primary: a replica behind the event just heard would read the backlog before it.
    const db: Queryable = { execute: (sql, params) => app.orm.em.getConnection().execute(sql, params ?? []) };
    known = { app, db, byScope: new Map(), recomputes: 0 };
    watchesOf.set(app, known);
  }
  return known;
}

/** Queues /api/metrics reads at most (by name) before it bounds its labels. */
const MAX_METRIC_QUEUES = 10_000;

/** Every queue's backlog, of every workflow, from the primary: what the workflow_tasks_* gauges report. */
export function clusterBacklog(app: Pick<AppServices, 'orm' | 'feed' | 'logger'>): Promise<TaskQueue[]> {
  return readBacklog(watches(app).db, null, null, MAX_METRIC_QUEUES);
}

/** Backlog reads made for subscribers on this replica so far (the coalescing shows in it). */
export function backlogRecomputes(app: Pick<AppServices, 'orm' | 'feed' | 'logger'>): number {
  return watches(app).recomputes;
}

/**
 * `taskQueueChanged`: first the backlog of each queue asked for (of every queue with READY or
 * RUNNING tasks when none is named), then a queue's backlog each time it changes: a task of it
 * became READY (or claimable after its backoff), was claimed, finished, failed, was cancelled
 * or deleted. Changes close together come as one.
 */
export async function followTaskQueues(ctx: Context, queues: readonly string[] | null | undefined): Promise<AsyncIterableIterator<TaskQueue>> {
  const viewer = requireViewer(ctx.viewer);
  const named = validQueues(null, queues);
  const ownerId = workflowScope(viewer);
  const all = watches(ctx.app);
  const scope = ownerId ?? '';
  let watch = all.byScope.get(scope);
  if (!watch) {
    watch = new ScopeWatch(all, scope, ownerId);
    all.byScope.set(scope, watch);
  }
  const current = watch;
  let subscriber: Subscriber | null = null;
  const queue = new AsyncQueue<TaskQueue>({ limit: SUBSCRIBER_BUFFER, onClose: () => subscriber && current.leave(subscriber) });
  subscriber = current.join({ wanted: named && new Set(named), queue });
  try {
    await current.started;
    const rows = await readBacklog(all.db, named, ownerId, named ? named.length : MAX_TASK_QUEUES);
    const byName = new Map(rows.map((row) => [row.name, row]));
    current.begin(subscriber, named ? named.map((name) => byName.get(name) ?? idleQueue(name)) : rows);
  } catch (error) {
    queue.close();
    throw error;
  }
  return queue;
}

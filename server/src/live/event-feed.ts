/**
 * Resumable event streams over the `events` table, for every event-log topic (`workflow`,
 * `alert`, …). The table is the truth; the bus only says "there is news".
 *
 * Per replica and topic, one tail follows the table: it remembers the highest id it has read
 * and, whenever the bus rings (or a poll timer fires, or Redis reconnects), reads the rows
 * after it in id order and hands each to the streams whose filter matches. (News that is the
 * very next id is handed over as it came, without the read: nothing can precede it unseen.) Event ids are
 * handed out in commit order (see `appendEvents`), so reading "everything after N" never
 * skips a row that commits later. That makes delivery ordered, gap-free and duplicate-free
 * even when bus messages are lost, reordered across replicas, or delivered twice.
 *
 * A stream that starts `after` a cursor registers with the tail first (buffering what it
 * hands over), then replays the table from the cursor page by page, then drains its buffer,
 * skipping ids it has already delivered: no gap and no duplicate at the seam.
 *
 * A stream that has caught up (nothing buffered, nothing left to replay) can `share` a sink
 * with equal streams (same filter): the tail then hands each event once to the sink for all of
 * them, instead of once to each stream's queue (live/groups.ts: one call per group and
 * event, not a wake-up per subscriber).
 */
import { AsyncQueue } from '../core/async-queue.js';
import { badInput } from '../core/errors.js';
import { untraced } from '../core/tracing.js';
import { rowToStoredEvent, type StoredEvent } from './event-log.js';
import type { Logger } from '../core/logger.js';
import type { EventBus, LogTopic } from './bus/bus.js';

/** Runs SQL with `?` placeholders and returns the rows. */
export type QueryRows = (sql: string, params: unknown[]) => Promise<Array<Record<string, any>>>;

/** Which events of a topic a stream receives: each field set must equal the event's. */
export interface EventFilter {
  workflowId?: string | null;
  ownerId?: string | null;
}

export interface EventFeedOptions {
  query: QueryRows;
  bus: EventBus;
  logger: Logger;
  /** how often a tail re-reads the table even without news (lost bus messages); default 5 000 */
  pollIntervalMs?: number;
  /** rows per read; default 500 */
  batchSize?: number;
  /** events buffered for one slow stream before it falls back to re-reading the table; default 10 000 */
  streamBufferLimit?: number;
}

export interface EventFeed {
  /**
   * The events of `topic` that pass `filter`: with `after`, every later one from the table
   * first, then live ones. Without it, every event committed after the returned promise
   * resolves (the stream's start is fixed by then). `return()` ends it. A cursor of another
   * topic, or whose event retention has deleted, is BAD_USER_INPUT ("0" means the oldest event kept).
   */
  follow(topic: LogTopic, options: { after?: string | null; filter?: EventFilter }): Promise<AsyncIterableIterator<StoredEvent>>;
  /** streams open (started) on this replica */
  streamCount(): number;
  close(): void;
}

/**
 * An event's cursor: its topic (so one stream refuses another's cursor) and its id, which
 * increases in commit order: `workflow:1234`.
 */
export const eventCursor = (event: Pick<StoredEvent, 'id' | 'topic'>): string => `${event.topic}:${event.id}`;

/** The event id a cursor of `topic` names ("0": before the oldest kept); BAD_USER_INPUT for anything else. */
export function parseEventCursor(topic: LogTopic, cursor: string): bigint {
  if (cursor === '0') return 0n;
  const match = /^([a-z]{1,20}):(\d{1,18})$/.exec(cursor);
  if (!match) throw badInput('after is not an event cursor', { field: 'after' });
  if (match[1] !== topic) throw badInput(`after is a cursor of ${match[1]} events, not of ${topic} events`, { field: 'after' });
  return BigInt(match[2]);
}

/**
 * Why the log holds no event `id` of `topic`: retention deleted it, or no event ever had that
 * id (the sequence has not got there: a cursor of another database), or it is another topic's.
 */
async function missingEvent(query: QueryRows, topic: LogTopic, id: bigint): Promise<string | null> {
  const [row] = await query(
    `select (select topic from events where id = ?) as topic, pg_sequence_last_value(pg_get_serial_sequence('events', 'id')::regclass) as newest`,
    [id.toString()],
  );
  if (row.topic === topic) return null;
  if (row.topic) return `after names no ${topic} event`;
  if (row.newest === null || id > BigInt(row.newest)) {
    return 'after names an event this server has not written yet (a cursor from another deployment or database?): load the current state, then subscribe without after';
  }
  return 'after names an event older than the log keeps (EVENT_RETENTION_HOURS): load the current state, then subscribe without after';
}

function matches(filter: EventFilter, event: StoredEvent): boolean {
  return (
    (filter.workflowId == null || event.workflowId === filter.workflowId) &&
    (filter.ownerId == null || event.ownerId === filter.ownerId)
  );
}

function readAfter(query: QueryRows, topic: string, after: bigint, limit: number, filter: EventFilter = {}): Promise<StoredEvent[]> {
  const conditions = ['topic = ?', 'id > ?'];
  const params: unknown[] = [topic, after.toString()];
  if (filter.workflowId != null) conditions.push('workflow_id = ?') && params.push(filter.workflowId);
  if (filter.ownerId != null) conditions.push('owner_id = ?') && params.push(filter.ownerId);
  return query(`select * from events where ${conditions.join(' and ')} order by id limit ?`, [...params, limit]).then((rows) =>
    rows.map(rowToStoredEvent),
  );
}

/** What the tail hands matching events to: a stream's own queue, or a sink streams share. */
interface Follower {
  filter: EventFilter;
  /** set once the tail knows where the table ends: the stream has started */
  started: boolean;
  take(event: StoredEvent): void;
  /** ends the stream(s) it feeds */
  close(): void;
}

type Sink = (event: StoredEvent) => void;

/** Streams whose events go to one sink: a single follower of the tail for all of them. */
interface Channel {
  follower: Follower;
  streams: Set<FeedStream>;
}

const sameFilter = (a: EventFilter, b: EventFilter) => (a.workflowId ?? null) === (b.workflowId ?? null) && (a.ownerId ?? null) === (b.ownerId ?? null);

class Tail {
  high = 0n;
  readonly followers = new Set<Follower>();
  /** by sink: the streams sharing it */
  readonly channels = new Map<Sink, Channel>();
  readonly ready: Promise<void>;
  /** set once `high` has been read from the table */
  private known = false;
  private reading = false;
  private again = false;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly topic: string,
    private readonly options: Required<Omit<EventFeedOptions, 'bus'>>,
  ) {
    this.ready = options.query('select coalesce(max(id), 0) as high from events where topic = ?', [topic]).then(
      (rows) => {
        this.high = BigInt(rows[0].high);
        this.known = true;
      },
    );
    this.timer = setInterval(() => this.poke(), options.pollIntervalMs).unref();
  }

  /** Reads the table after `high` unless `news` is already known; one read at a time per tail. */
  poke(news?: StoredEvent): void {
    if (news && BigInt(news.id) <= this.high) return;
    // The id right after `high`: ids follow commit order, so nothing can be missing before it,
    // and it is handed over as it came instead of being read back from the table.
    if (news && this.known && !this.reading && BigInt(news.id) === this.high + 1n) {
      return this.hand({ ...news, createdAt: new Date(news.createdAt) });
    }
    if (this.reading) {
      this.again = true;
      return;
    }
    this.reading = true;
    this.read()
      .catch((error) => this.options.logger.warn({ err: error, topic: this.topic }, 'could not read new events; retrying at the next poll'))
      .finally(() => {
        this.reading = false;
      });
  }

  private async read(): Promise<void> {
    await this.ready;
    do {
      this.again = false;
      const events = await readAfter(this.options.query, this.topic, this.high, this.options.batchSize);
      for (const event of events) this.hand(event);
      if (events.length === this.options.batchSize) this.again = true;
    } while (this.again && this.followers.size);
  }

  /** Passes the next event (by id) to the streams that want it. */
  private hand(event: StoredEvent): void {
    this.high = BigInt(event.id);
    for (const follower of this.followers) if (matches(follower.filter, event)) follower.take(event);
  }

  stop(): void {
    clearInterval(this.timer);
  }
}

/** One stream: optional replay from the table, then the tail's live events, deduplicated by id. */
class FeedStream implements AsyncIterableIterator<StoredEvent> {
  private replayed: StoredEvent[] = [];
  private needsReplay: boolean;
  private last: bigint;
  /** set while its events go to a shared sink */
  private shared?: { channel: Channel; sink: Sink; ended: () => void };

  constructor(
    private readonly tail: Tail,
    private readonly follower: Follower & { queue: AsyncQueue<StoredEvent> },
    private readonly options: Required<Omit<EventFeedOptions, 'bus'>>,
    private readonly topic: string,
    after: bigint | null,
  ) {
    // Without a cursor every event the tail hands over is newer than the subscription.
    this.last = after ?? 0n;
    this.needsReplay = after !== null;
  }

  async next(): Promise<IteratorResult<StoredEvent>> {
    const { queue } = this.follower;
    for (;;) {
      if (queue.isClosed) return { value: undefined, done: true };
      // A slow stream whose buffer overflowed re-reads what it missed from the table.
      if (queue.takeOverflow()) this.needsReplay = true;
      if (!this.replayed.length && this.needsReplay) {
        await this.tail.ready;
        const page = await readAfter(this.options.query, this.topic, this.last, this.options.batchSize, this.follower.filter);
        if (queue.isClosed) return { value: undefined, done: true };
        this.needsReplay = page.length === this.options.batchSize;
        this.replayed = page;
      }
      const result = this.replayed.length ? { value: this.replayed.shift()!, done: false as const } : await queue.next();
      if (result.done) return result;
      const id = BigInt(result.value.id);
      if (id <= this.last) continue;
      this.last = id;
      return result;
    }
  }

  /**
   * From now on the tail hands this stream's events to `sink`, shared with every other stream
   * of the same filter that passes the same sink, instead of to this stream (`next()` is not
   * to be called any more); `ended` runs when the stream ends. False, changing nothing, unless
   * everything before has been taken (no replay pending, nothing buffered, no `next()` waiting)
   * and the tail has reached the stream (it has handed over every event the stream has delivered).
   */
  share(sink: Sink, ended: () => void): boolean {
    const { tail, follower } = this;
    if (this.shared || this.needsReplay || this.replayed.length || !follower.queue.drained) return false;
    // A replay can read rows the tail has not handed over yet; shared, the sink would get them again.
    if (this.last > tail.high) return false;
    let channel = tail.channels.get(sink);
    if (channel && !sameFilter(channel.follower.filter, follower.filter)) return false;
    if (!channel) {
      const streams = new Set<FeedStream>();
      channel = { streams, follower: { filter: follower.filter, started: true, take: sink, close: () => [...streams].forEach((s) => void s.return()) } };
      tail.channels.set(sink, channel);
      tail.followers.add(channel.follower);
    }
    // Handed over synchronously: events up to now went to this stream (and were taken), later ones go to the sink.
    tail.followers.delete(follower);
    channel.streams.add(this);
    this.shared = { channel, sink, ended };
    return true;
  }

  private unshare(): void {
    const shared = this.shared;
    if (!shared) return;
    this.shared = undefined;
    shared.channel.streams.delete(this);
    if (!shared.channel.streams.size) {
      this.tail.followers.delete(shared.channel.follower);
      this.tail.channels.delete(shared.sink);
    }
    // Closing the queue lets the tail go if nobody else follows it.
    this.follower.queue.close();
    shared.ended();
  }

  return(): Promise<IteratorResult<StoredEvent>> {
    this.unshare();
    return this.follower.queue.return();
  }

  throw(error: unknown): Promise<IteratorResult<StoredEvent>> {
    this.unshare();
    return this.follower.queue.throw(error);
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<StoredEvent> {
    return this;
  }
}

export function createEventFeed(feedOptions: EventFeedOptions): EventFeed {
  const options = {
    query: feedOptions.query,
    logger: feedOptions.logger,
    pollIntervalMs: feedOptions.pollIntervalMs ?? 5_000,
    batchSize: feedOptions.batchSize ?? 500,
    streamBufferLimit: feedOptions.streamBufferLimit ?? 10_000,
  };
  const tails = new Map<string, { tail: Tail; off: () => void }>();
  const offResync = feedOptions.bus.onResync(() => {
    for (const { tail } of tails.values()) tail.poke();
  });

  const tailOf = (topic: LogTopic): Tail => {
    const existing = tails.get(topic);
    if (existing) return existing.tail;
    // Made by the first stream's request, but polls for every stream after it: in no request's trace.
    const tail = untraced(() => new Tail(topic, options));
    const off = feedOptions.bus.on(topic, (news) => tail.poke(news));
    tails.set(topic, { tail, off });
    // A tail that could not find the table's end is dropped, so the next stream tries afresh.
    tail.ready.catch(() => {
      for (const follower of tail.followers) follower.close();
      release(topic, tail);
    });
    return tail;
  };
  const release = (topic: string, tail: Tail): void => {
    if (tail.followers.size || tails.get(topic)?.tail !== tail) return;
    tail.stop();
    tails.get(topic)!.off();
    tails.delete(topic);
  };

  return {
    async follow(topic, { after, filter = {} }) {
      const start = after == null ? null : parseEventCursor(topic, after);
      // Retention deletes the oldest events first: when the cursor's own event is gone, so may
      // be some after it, and a silent resume would hide the gap.
      const missing = start ? await missingEvent(options.query, topic, start) : null;
      if (missing) throw badInput(missing, { field: 'after' });
      const tail = tailOf(topic);
      const queue: AsyncQueue<StoredEvent> = new AsyncQueue<StoredEvent>({
        limit: options.streamBufferLimit,
        overflow: 'signal',
        onClose: () => {
          tail.followers.delete(follower);
          release(topic, tail);
        },
      });
      const follower = { filter, started: false, queue, take: (event: StoredEvent) => queue.push(event), close: () => queue.close() };
      // Registered before the tail is ready, which keeps the tail alive meanwhile; it hands over
      // nothing before it is ready, and everything after the table's end it found then.
      tail.followers.add(follower);
      await tail.ready;
      follower.started = true;
      return new FeedStream(tail, follower, options, topic, start);
    },
    // A channel is one follower standing for the streams sharing it.
    streamCount: () =>
      [...tails.values()].reduce(
        (sum, { tail }) => sum + [...tail.followers].filter((f) => f.started).length + [...tail.channels.values()].reduce((n, c) => n + c.streams.size - 1, 0),
        0,
      ),
    close() {
      offResync();
      for (const [topic, { tail }] of tails) {
        for (const follower of [...tail.followers]) follower.close();
        release(topic, tail);
      }
    },
  };
}

/**
 * The event feed's concurrency (live/event-feed.ts) over an in-memory `events` table and the
 * in-process bus: the fast path, a gap read from the table, a slow stream's overflow replayed,
 * and the seam between a resumed stream's replay and its live events. The same over
 * PostgreSQL and Redis: workflow-events.test.ts and live-replicas.test.ts.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/core/logger.js';
import { createEventBus } from '../../src/live/bus/bus.js';
import { createEventFeed, type EventFeed, type QueryRows } from '../../src/live/event-feed.js';
import type { StoredEvent } from '../../src/live/event-log.js';

const TOPIC = 'workflow' as const;

/** The `events` table, answering the three statements the feed runs; `reads` counts its reads after an id. */
function memoryTable() {
  const rows: Array<Record<string, any>> = [];
  const table = { rows, reads: 0, query: undefined as unknown as QueryRows };
  table.query = async (sql, params) => {
    await Promise.resolve();
    if (sql.startsWith('select coalesce(max(id), 0) as high')) return [{ high: String(rows.filter((r) => r.topic === params[0]).reduce((m, r) => Math.max(m, r.id), 0)) }];
    if (sql.startsWith('select * from events where topic = ? and id > ?')) {
      table.reads++;
      const [topic, after] = params as [string, string];
      const limit = params.at(-1) as number;
      const workflowId = sql.includes('workflow_id = ?') ? params[2] : null;
      return rows.filter((r) => r.topic === topic && r.id > Number(after) && (workflowId == null || r.workflow_id === workflowId)).slice(0, limit);
    }
    if (sql.includes('pg_sequence_last_value')) {
      const row = rows.find((r) => r.id === Number(params[0]));
      return [{ topic: row?.topic ?? null, newest: rows.length ? String(rows.at(-1)!.id) : null }];
    }
    throw new Error(`unexpected statement: ${sql}`);
  };
  return table;
}

/** Commits the next event to the table and returns it as `mutate` publishes it. */
function append(table: ReturnType<typeof memoryTable>, workflowId = 'w1'): StoredEvent {
  const id = (table.rows.at(-1)?.id ?? 0) + 1;
  const createdAt = new Date();
  table.rows.push({ id, topic: TOPIC, kind: 'TASK_UPDATED', workflow_id: workflowId, task_id: null, owner_id: 'u1', payload: { n: id }, created_at: createdAt });
  return { id: String(id), topic: TOPIC, kind: 'TASK_UPDATED', workflowId, taskId: null, ownerId: 'u1', payload: { n: id }, createdAt } as StoredEvent;
}

let feed: EventFeed | undefined;
afterEach(() => feed?.close());

function setup(options: { batchSize?: number; streamBufferLimit?: number } = {}) {
  const table = memoryTable();
  const bus = createEventBus({ logger: createLogger('silent') });
  feed = createEventFeed({ query: table.query, bus, logger: createLogger('silent'), pollIntervalMs: 60_000, ...options });
  const commit = (workflowId?: string) => bus.publish(TOPIC, append(table, workflowId) as any);
  return { table, feed, bus, commit };
}

const ids = async (stream: AsyncIterator<StoredEvent>, count: number) => {
  const got: number[] = [];
  while (got.length < count) got.push(Number((await stream.next()).value.id));
  return got;
};

const settle = () => new Promise((resolve) => setTimeout(resolve, 5));

describe('event feed', () => {
  it('hands over news that is the very next id as it came, without reading the table', async () => {
    const { table, feed, commit } = setup();
    append(table);
    const stream = await feed.follow(TOPIC, {});
    const before = table.reads;
    commit();
    commit();
    expect(await ids(stream, 2)).toEqual([2, 3]);
    expect(table.reads).toBe(before);
  });

  it('reads the table when news skips an id (a lost or reordered message), in id order', async () => {
    const { table, feed, bus, commit } = setup();
    const stream = await feed.follow(TOPIC, {});
    append(table); // committed, its news lost
    commit();
    expect(await ids(stream, 2)).toEqual([1, 2]);
    expect(table.reads).toBe(1);
    // Late or repeated news of what was handed over already changes nothing.
    bus.publish(TOPIC, { ...append(table), id: '1' } as any);
    commit();
    expect(await ids(stream, 2)).toEqual([3, 4]);
  });

  it('gives a stream only the events its filter matches', async () => {
    const { feed, commit } = setup();
    const stream = await feed.follow(TOPIC, { filter: { workflowId: 'w2' } });
    commit('w1');
    commit('w2');
    commit('w1');
    commit('w2');
    expect(await ids(stream, 2)).toEqual([2, 4]);
  });

  it('replays a slow stream from the table once its buffer overflows, losing and doubling nothing', async () => {
    const { table, feed, commit } = setup({ streamBufferLimit: 3, batchSize: 4 });
    const stream = await feed.follow(TOPIC, {});
    for (let i = 0; i < 10; i++) commit();
    await settle();
    const reads = table.reads;
    expect(await ids(stream, 10)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(table.reads).toBeGreaterThan(reads);
    commit();
    expect(await ids(stream, 1)).toEqual([11]);
  });

  it('resumes after a cursor: the replay, then live events, with no duplicate at the seam', async () => {
    const { feed, table, commit } = setup({ batchSize: 2 });
    for (let i = 0; i < 5; i++) append(table);
    const stream = await feed.follow(TOPIC, { after: `${TOPIC}:2` });
    // Committed after the stream registered and before its replay reads the table: they are in both.
    commit();
    commit();
    await settle();
    expect(await ids(stream, 5)).toEqual([3, 4, 5, 6, 7]);
    commit();
    expect(await ids(stream, 1)).toEqual([8]);
  });

  it('refuses a cursor of another topic and one whose event is gone', async () => {
    const { feed, table } = setup();
    for (let i = 0; i < 3; i++) append(table);
    table.rows.shift();
    await expect(feed.follow(TOPIC, { after: 'alert:2' })).rejects.toMatchObject({ extensions: { code: 'BAD_USER_INPUT' } });
    await expect(feed.follow(TOPIC, { after: `${TOPIC}:1` })).rejects.toThrow(/older than the log keeps/);
  });

  it('hands each event once to a sink shared by caught-up streams', async () => {
    const { feed, commit } = setup();
    const a = (await feed.follow(TOPIC, {})) as any;
    const b = (await feed.follow(TOPIC, {})) as any;
    const got: number[] = [];
    const sink = (event: StoredEvent) => got.push(Number(event.id));
    expect(a.share(sink, () => {})).toBe(true);
    expect(b.share(sink, () => {})).toBe(true);
    commit();
    commit();
    await settle();
    expect(got).toEqual([1, 2]);
    expect(feed.streamCount()).toBe(2);
  });

  it('does not share a sink while its replay is ahead of the tail (the tail would hand those events again)', async () => {
    const { feed, table, bus } = setup();
    append(table);
    const stream = (await feed.follow(TOPIC, { after: `${TOPIC}:1` })) as any;
    // Committed, news not yet arrived: the replay reads them, the tail has not.
    const late = [append(table), append(table)];
    expect(await ids(stream, 2)).toEqual([2, 3]);
    const got: number[] = [];
    expect(stream.share((event: StoredEvent) => got.push(Number(event.id)), () => {})).toBe(false);
    for (const event of late) bus.publish(TOPIC, event as any);
    await settle();
    const next = stream.next();
    bus.publish(TOPIC, append(table) as any);
    expect(Number((await next).value.id)).toBe(4);
    // Caught up with the tail now: it shares, and the sink gets only what is new.
    expect(stream.share((event: StoredEvent) => got.push(Number(event.id)), () => {})).toBe(true);
    bus.publish(TOPIC, append(table) as any);
    await settle();
    expect(got).toEqual([5]);
  });
});

/**
 * The one way domain code changes data: a transaction that also appends the change's
 * events, then publishes them on the bus once the commit succeeded.
 */
import { inTransaction, type EntityManager } from '../db/orm.js';
import { appendEvents, type NewEvent, type StoredEvent } from './event-log.js';
import type { EventBus, LogTopic } from './bus/bus.js';
import { hasReplica, primaryLsn } from '../db/read-routing.js';

export type RecordEvent = (event: NewEvent) => void;

/**
 * Work a GraphQL mutation adds to the transaction of its change: its audit row
 * (audit/recorder.ts), its idempotency key (graphql/idempotency.ts).
 */
export interface MutationHook {
  before?(tx: EntityManager): Promise<void>;
  after?(tx: EntityManager, result: unknown): Promise<void>;
}

/** What `mutate` needs of a request context (or of a background job: its own entity manager). */
export interface MutationScope {
  em: EntityManager;
  app: { bus: EventBus };
  /** set while a GraphQL mutation runs; background jobs have none */
  hooks?: readonly MutationHook[];
}

export async function mutate<T>({ em, app, hooks = [] }: MutationScope, work: (tx: EntityManager, record: RecordEvent) => Promise<T>): Promise<T> {
  const { bus } = app;
  let stored: StoredEvent[] = [];
  const result = await inTransaction(em, async (tx) => {
    const pending: NewEvent[] = [];
    for (const hook of hooks) await hook.before?.(tx);
    const value = await work(tx, (event) => pending.push(event));
    for (const hook of hooks) await hook.after?.(tx, value);
    stored = await appendEvents(tx, pending);
    return value;
  });
  // With a read replica, nobody who hears of these events may read older data (read-routing.ts).
  const lsn = stored.length && hasReplica(em) ? await primaryLsn(em) : undefined;
  for (const event of stored) bus.publish(event.topic as LogTopic, lsn ? { ...event, lsn } : event);
  return result;
}

/**
 * The one way domain code changes data: a transaction that also appends the change's
 * events, then publishes them on the bus once the commit succeeded.
 */
import { inTransaction, type EntityManager } from './db.js';
import { appendEvents, type NewEvent, type StoredEvent } from './event-log.js';
import type { EventBus, LogTopic } from './pubsub.js';
import { hasReplica, primaryLsn } from './read-routing.js';

export type RecordEvent = (event: NewEvent) => void;

export async function mutate<T>(
  em: EntityManager,
  bus: EventBus,
  work: (tx: EntityManager, record: RecordEvent) => Promise<T>,
): Promise<T> {
  let stored: StoredEvent[] = [];
  const result = await inTransaction(em, async (tx) => {
    const pending: NewEvent[] = [];
    const value = await work(tx, (event) => pending.push(event));
    stored = await appendEvents(tx, pending);
    return value;
  });
  // With a read replica, nobody who hears of these events may read older data (read-routing.ts).
  const lsn = stored.length && hasReplica(em) ? await primaryLsn(em) : undefined;
  for (const event of stored) bus.publish(event.topic as LogTopic, lsn ? { ...event, lsn } : event);
  return result;
}

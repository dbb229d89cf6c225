/**
 * The `events` table: every change writes one row here in the same transaction as the change,
 * so subscribers can resume from the last id they saw and nothing is lost when the bus is.
 */
import { Entity, OptionalProps, PrimaryKey, Property } from '@mikro-orm/core';
import type { EntityManager } from '@mikro-orm/postgresql';
import { toDate } from '../db/sql.js';
import { ADVISORY_LOCKS } from '../db/advisory-locks.js';

@Entity({ tableName: 'events' })
export class EventRecord {
  [OptionalProps]?: 'createdAt' | 'payload';

  @PrimaryKey({ type: 'bigint', autoincrement: true })
  id!: string;

  @Property({ type: 'text' }) topic!: string;
  @Property({ type: 'text' }) kind!: string;
  @Property({ type: 'uuid', nullable: true }) workflowId?: string | null;
  @Property({ type: 'uuid', nullable: true }) taskId?: string | null;
  @Property({ type: 'uuid', nullable: true }) ownerId?: string | null;
  @Property({ type: 'json' }) payload: Record<string, unknown> = {};
  @Property({ type: 'Date' }) createdAt: Date = new Date();
}

/** An event as the bus carries it: the row, with its id as a string (bigint). */
export interface StoredEvent {
  id: string;
  topic: string;
  kind: string;
  workflowId: string | null;
  taskId: string | null;
  ownerId: string | null;
  payload: Record<string, unknown>;
  createdAt: Date;
  /** on the bus only, with a read replica: the primary's WAL position after the commit (read-routing.ts) */
  lsn?: string;
}

export type NewEvent = Omit<StoredEvent, 'id' | 'createdAt' | 'payload'> & { payload?: Record<string, unknown> };

/** Appends events inside the caller's transaction (`em` must be inside `transactional`). */
export async function appendEvents(em: EntityManager, events: NewEvent[]): Promise<StoredEvent[]> {
  if (events.length === 0) return [];
  // The lock is held until commit, so event ids are handed out in commit order: a subscriber
  // that has seen id N can never later find a committed event with a smaller id. Taken in the
  // insert itself (the values join its one row, so every id is drawn after it), one round trip
  // less inside the section every writer passes through one at a time.
  const values = events.map(() => '(?, ?, ?::uuid, ?::uuid, ?::uuid, ?::jsonb)').join(', ');
  const params = events.flatMap((e) => [e.topic, e.kind, e.workflowId, e.taskId, e.ownerId, JSON.stringify(e.payload ?? {})]);
  const rows: Array<{ id: string; created_at: string }> = await em.execute(
    `with ordered as materialized (select pg_advisory_xact_lock(?))
     insert into events (topic, kind, workflow_id, task_id, owner_id, payload)
     select v.* from ordered, (values ${values}) as v (topic, kind, workflow_id, task_id, owner_id, payload)
     returning id, created_at`,
    [ADVISORY_LOCKS.eventOrder, ...params],
  );
  return rows.map((row, i) => ({ ...events[i], payload: events[i].payload ?? {}, id: String(row.id), createdAt: toDate(row.created_at) }));
}

export function rowToStoredEvent(row: Record<string, any>): StoredEvent {
  return {
    id: String(row.id),
    topic: row.topic,
    kind: row.kind,
    workflowId: row.workflow_id,
    taskId: row.task_id,
    ownerId: row.owner_id,
    payload: row.payload ?? {},
    createdAt: toDate(row.created_at),
  };
}

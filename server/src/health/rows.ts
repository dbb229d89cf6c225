/**
 * Data access for replica heartbeats (ARCHITECTURE.md, "Data access"): each replica writes its
 * own (metrics/sampler.ts, every sample), the health report reads them all, retention forgets
 * the long silent ones.
 */
import type { Queryable } from '../db/read-routing.js';

/** Whether the database answers at all. */
export async function ping(db: Queryable): Promise<void> {
  await db.execute('select 1');
}

/** Seconds since each replica's last heartbeat, by instance, at most `limit`. */
export async function heartbeatAges(db: Queryable, limit: number): Promise<Array<{ instance: string; age: number }>> {
  return db.execute('select instance, extract(epoch from now() - last_seen_at)::float8 as age from heartbeats order by instance limit ?', [limit]);
}

export async function writeHeartbeat(db: Queryable, instance: string): Promise<void> {
  await db.execute('insert into heartbeats (instance) values (?) on conflict (instance) do update set last_seen_at = now()', [instance]);
}

export async function deleteHeartbeat(db: Queryable, instance: string): Promise<void> {
  await db.execute('delete from heartbeats where instance = ?', [instance]);
}

/** Deletes every heartbeat but `instance`'s; returns the instances forgotten. */
export async function deleteOtherHeartbeats(db: Queryable, instance: string): Promise<string[]> {
  const forgotten: Array<{ instance: string }> = await db.execute('delete from heartbeats where instance <> ? returning instance', [instance]);
  return forgotten.map((row) => row.instance);
}

/** Forgets replicas silent for more than `hours`. */
export async function deleteHeartbeatsOlderThan(db: Queryable, hours: number): Promise<void> {
  await db.execute('delete from heartbeats where last_seen_at < now() - make_interval(hours => ?)', [hours]);
}

/** Data access for the audit log (ARCHITECTURE.md, "Data access"): its SQL and row mapper. */
import { ADVISORY_LOCKS } from '../db/advisory-locks.js';
import type { EntityManager } from '../db/orm.js';
import { keysetPage, type CursorPosition } from '../db/pagination.js';
import type { Queryable } from '../db/read-routing.js';
import { asInstance, toDate } from '../db/sql.js';
import { AuditEntry } from './types.js';

function entryFromRow(row: Record<string, any>): AuditEntry {
  return asInstance(AuditEntry, {
    id: row.id, at: toDate(row.at), actorId: row.actor_id, credential: row.credential, action: row.action,
    targetId: row.target_id, ip: row.ip, details: row.details,
  });
}

export interface NewAuditEntry {
  actorId: string | null;
  credential: string | null;
  action: string;
  targetId: string | null;
  ip: string | null;
  /** stored as jsonb */
  details: unknown;
}

export async function insertEntry(tx: Queryable, entry: NewAuditEntry): Promise<void> {
  await tx.execute('insert into audit_log (actor_id, credential, action, target_id, ip, details) values (?, ?, ?, ?, ?, ?::jsonb)', [
    entry.actorId, entry.credential, entry.action, entry.targetId, entry.ip, JSON.stringify(entry.details),
  ]);
}

/** One page newest first, filtered by who (a user's database id), what and on what (a global id). */
export async function entriesPage(
  db: Queryable, filter: { actorId?: string; action?: string | null; targetId?: string | null }, window: { first: number; after: CursorPosition | null; count: boolean },
) {
  const filters: string[] = [];
  const params: unknown[] = [];
  if (filter.actorId) {
    filters.push('actor_id = ?');
    params.push(filter.actorId);
  }
  if (filter.action) {
    filters.push('action = ?');
    params.push(filter.action);
  }
  if (filter.targetId) {
    filters.push('target_id = ?');
    params.push(filter.targetId);
  }
  const page = await keysetPage(db, { table: 'audit_log', timeColumn: 'at', filters, params, ...window });
  return { ...page, rows: page.rows.map(entryFromRow) };
}

export async function entryById(db: Queryable, id: string): Promise<AuditEntry | null> {
  const [row] = await db.execute('select * from audit_log where id = ?', [id]);
  return row ? entryFromRow(row) : null;
}

/** Deletes entries older than `retentionDays`, in the caller's transaction; null when another transaction is pruning right now. */
export async function deleteEntriesBefore(tx: EntityManager, retentionDays: number): Promise<number | null> {
  const [{ locked }] = await tx.execute('select pg_try_advisory_xact_lock(?) as locked', [ADVISORY_LOCKS.auditRetention]);
  if (!locked) return null;
  const deleted = await tx.execute('delete from audit_log where at < now() - make_interval(days => ?)', [retentionDays], 'run');
  return (deleted as unknown as { affectedRows: number }).affectedRows;
}

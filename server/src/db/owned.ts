/**
 * Reads of a table whose rows have an owner (`owner_id`: workflows, templates, schedules), seen
 * through a scope: null sees every row, a user id only that user's (a MEMBER's view).
 */
import { keysetPage, type CursorPosition } from './pagination.js';
import type { Queryable } from './read-routing.js';
import { indexBy, uuidArray } from './sql.js';

/** One page newest first by `created_at`, mapped. */
export async function ownedPage<T>(
  db: Queryable, table: string, scope: string | null, window: { first: number; after: CursorPosition | null; count: boolean }, fromRow: (row: Record<string, any>) => T,
) {
  const page = await keysetPage(db, { table, timeColumn: 'created_at', filters: scope ? ['owner_id = ?'] : [], params: scope ? [scope] : [], ...window });
  return { ...page, rows: page.rows.map(fromRow) };
}

/** The rows of these ids in the scope, in the order of `ids` (null where hidden or gone). */
export async function ownedByIds<T extends { id: string }>(
  db: Queryable, table: string, ids: readonly string[], scope: string | null, fromRow: (row: Record<string, any>) => T,
): Promise<(T | null)[]> {
  const rows = await db.execute(`select * from ${table} where id = any(?::uuid[]) ${scope ? 'and owner_id = ?' : ''}`, scope ? [uuidArray(ids), scope] : [uuidArray(ids)]);
  return indexBy(ids, rows.map(fromRow), (row) => row.id);
}

/**
 * A DataLoader for "the newest `first` child rows of each parent" (a template's versions, a
 * schedule's runs): every parent of a request, whatever `first` each asks, in one statement,
 * a lateral subquery per parent so each reads only its own newest rows through its index.
 */
import DataLoader from 'dataloader';
import type { Queryable } from './read-routing.js';
import { uuidArray } from './sql.js';

export interface ChildrenOf {
  /** the parent's id (a uuid) */
  id: string;
  /** how many of its newest children, at least 1 */
  first: number;
}

export interface NewestPerParent<T> {
  /** the child table */
  table: string;
  /** its column naming the parent */
  parentColumn: string;
  /** newest first, e.g. `version desc` */
  orderBy: string;
  fromRow: (row: Record<string, any>) => T;
}

export function newestPerParent<T>(db: Queryable, { table, parentColumn, orderBy, fromRow }: NewestPerParent<T>): DataLoader<ChildrenOf, T[], string> {
  const keyOf = (parent: ChildrenOf) => `${parent.id}:${parent.first}`;
  return new DataLoader<ChildrenOf, T[], string>(
    async (parents) => {
      const rows = await db.execute(
        `select p.first as parent_first, c.* from unnest(?::uuid[], ?::int[]) as p (id, first)
           cross join lateral (select * from ${table} where ${parentColumn} = p.id order by ${orderBy} limit p.first) c`,
        [uuidArray(parents.map((p) => p.id)), `{${parents.map((p) => Math.trunc(p.first)).join(',')}}`],
      );
      const groups = new Map<string, T[]>(parents.map((parent) => [keyOf(parent), []]));
      for (const row of rows) groups.get(`${row[parentColumn]}:${row.parent_first}`)?.push(fromRow(row));
      return parents.map((parent) => groups.get(keyOf(parent))!);
    },
    { cacheKeyFn: keyOf },
  );
}
